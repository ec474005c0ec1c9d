"""Plugin glue for the executable runbook: options, evidence reports, step blocking, redaction."""

import getpass
import html
import json
import signal
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from procedures.config import load_config
from procedures.context import OpsContext
from procedures.redact import install_log_redaction, redact
from procedures import facts, report_archive

ROOT = Path(__file__).parent
OPS_CHECKS = ROOT / "ops_checks"
_BLOCKED_BY = pytest.StashKey[dict]()
_RECORD = pytest.StashKey[dict]()
_STEP_NUMBER = pytest.StashKey[int]()


def pytest_addoption(parser):
    group = parser.getgroup("ops", "executable runbook")
    group.addoption("--tag", help="release version to act on, e.g. 1.1.0 (never latest)")
    group.addoption("--env", dest="ops_env", help="environment name, e.g. prod (overrides [stack] environment)")
    group.addoption("--ops-config", help="TOML config of the target stack (default: ini ops_config)")
    group.addoption("--project", dest="ops_project", help="compose project name (overrides [stack] project)")
    group.addoption("--base-url", dest="ops_base_url", help="URL of the reverse proxy (overrides [http] base_url)")
    group.addoption("--break-stale-lock", action="store_true", default=False,
                    help="take over an operations lock whose holder is no longer running")
    group.addoption("--compose-file", dest="ops_compose_files", action="append", metavar="FILE",
                    help="compose file, repeatable, base first and docker-compose.prod.yml last "
                         "(overrides [stack] compose_files)")
    group.addoption("--smoke", dest="ops_smoke", action="append", metavar="PATH[=STATUS[:TEXT]]",
                    help="smoke check, repeatable (overrides [[deploy.smoke]]), e.g. --smoke=/notes=200")
    group.addoption("--backup", dest="ops_backup", metavar="SET_OR_FILE",
                    help="restore drill: this backup instead of the newest verified one")
    group.addoption("--keep", dest="ops_keep", action="store_true", default=False,
                    help="restore drill: keep the throwaway server and volume for inspection")
    group.addoption("--from-remote", dest="ops_from_remote", action="store_true", default=False,
                    help="restore: download the backup from the offsite remote (through crypt where configured)")
    group.addoption("--mode", dest="ops_mode", choices=("test", "disaster"), default="test",
                    help="restore: test (throwaway server, the default) or disaster (needs CONFIRM=YES)")
    group.addoption("--volume", dest="ops_volume", metavar="NAME",
                    help="switch_database_volume: the existing volume to put the database on")
    group.addoption("--plan", action="store_true", default=False,
                    help="print the numbered runbook steps with their descriptions and run nothing")
    parser.addini("ops_config", "TOML config of the target stack", default="ops.toml")


def _ops_check_names(config) -> list[str]:
    names = []
    for arg in config.args:
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if path.is_relative_to(OPS_CHECKS) and path.suffix == ".py":
            names.append(path.stem)
    return sorted(set(names))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    install_log_redaction()
    checks = _ops_check_names(config)
    if checks and not config.getoption("plan"):
        if not config.getoption("htmlpath", None):
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            config.option.htmlpath = str(ROOT / "reports" / "-".join(checks) / f"{stamp}.html")
        config.option.self_contained_html = True  # evidence is one file, whoever named it
        mode = config.getoption("ops_mode")
        _REPORT_TITLE[0] = "Ops evidence: " + ", ".join(checks) + (f" ({mode} mode)" if mode != "test" else "")
    _CONFIG[0] = config
    config.stash[_BLOCKED_BY] = {}
    config.stash[_RECORD] = {"fields": {}, "steps": {}, "started": datetime.now(timezone.utc)}
    config.addinivalue_line("markers", "always_run: a runbook step that runs even after a failed step")
    config.addinivalue_line("markers", "mode(*modes): a runbook step that runs only in these --mode values")
    if checks:
        # SIGTERM (systemd stop, kill) unwinds like Ctrl-C: fixtures release the lock and roll back.
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(config, items):
    """After pytest-order: keep the steps of the chosen --mode, number them, print them for --plan."""
    yield
    mode = config.getoption("ops_mode")
    modes = {i: {arg for m in i.iter_markers("mode") for arg in m.args} for i in items}
    chosen = [i for i in items if not modes[i] or mode in modes[i]]
    if len(chosen) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = chosen
    counters: dict = {}
    for item in items:
        counters[item.path] = counters.get(item.path, 0) + 1
        item.stash[_STEP_NUMBER] = counters[item.path]
    if not config.getoption("plan"):
        return
    writer = config.get_terminal_writer()
    current = None
    for item in items:
        if item.path != current:
            current = item.path
            writer.line(f"\n{item.module.__doc__.strip().splitlines()[0] if item.module.__doc__ else item.path.name}")
        writer.line(f"  {_step_label(item).split(' (')[0]}. {_step_doc(item)}")
    items[:] = []


def pytest_collection_finish(session):
    if session.config.getoption("plan"):
        pytest.exit("plan printed; nothing was run", returncode=0)


_REPORT_TITLE = ["Ops evidence"]
_CONFIG: list = [None]  # logreport hooks get no config; the one configured session is kept here


def pytest_html_report_title(report):
    report.title = _REPORT_TITLE[0]


def pytest_html_results_table_header(cells):
    cells.insert(1, "<th>Step</th>")


def pytest_html_results_table_row(report, cells):
    cells.insert(1, f"<td>{html.escape(getattr(report, 'step_description', ''))}</td>")


def _smoke(spec: str) -> dict:
    path, _, rest = spec.partition("=")
    status, _, text = rest.partition(":")
    return {"path": path, "status": int(status or 200), "contains": text}


def _load_ops_config(config):
    path = config.getoption("ops_config") or config.getini("ops_config")
    here = Path(config.invocation_params.dir)
    files = config.getoption("ops_compose_files")
    smoke = config.getoption("ops_smoke")
    return load_config(
        ROOT / path if not Path(path).is_absolute() else Path(path),
        **{
            "stack.project": config.getoption("ops_project"),
            "stack.environment": config.getoption("ops_env"),
            "stack.compose_files": [str((here / f).resolve()) for f in files] if files else None,
            "http.base_url": config.getoption("ops_base_url"),
            "deploy.smoke": [_smoke(spec) for spec in smoke] if smoke else None,
        },
    )


@pytest.fixture(scope="session")
def ops(pytestconfig) -> OpsContext:
    """The target stack as configured, with --tag when given."""
    return OpsContext(_load_ops_config(pytestconfig), pytestconfig.getoption("tag"))


def pytest_sessionstart(session):
    """Fill the report's environment table (values redacted) for ops checks."""
    if not _ops_check_names(session.config):
        return
    from pytest_metadata.plugin import metadata_key

    meta = session.config.stash[metadata_key]
    meta["Host"] = socket.gethostname()
    meta["Operator"] = getpass.getuser()
    meta["TAG"] = session.config.getoption("tag") or "(not given)"
    try:
        cfg = _load_ops_config(session.config)
        meta["Target stack"] = f"{cfg.stack.project} ({cfg.stack.environment})"
        meta["Compose files"] = ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
                                          for p in cfg.stack.compose_files)
        meta["Database volume"] = cfg.volumes.database
        meta["PostgreSQL server"] = facts.database_version(OpsContext(cfg, session.config.getoption("tag")))
    except Exception as e:  # the checks report config errors; the table just says so
        meta["Target stack"] = f"config error: {e}"
    meta.update(facts.tool_versions())
    for key in list(meta):
        if isinstance(meta[key], str):
            meta[key] = redact(meta[key])


def _is_runbook_step(item) -> bool:
    return Path(item.path).is_relative_to(OPS_CHECKS)


def _step_doc(item) -> str:
    doc = item.function.__doc__ or item.name.removeprefix("test_").replace("_", " ")
    return doc.strip().splitlines()[0]


def _step_label(item) -> str:
    return f"step {item.stash.get(_STEP_NUMBER, '?')} ({item.name})"


def pytest_runtest_setup(item):
    """A failed runbook step blocks every later step of its module."""
    if not _is_runbook_step(item):
        return
    blocker = item.config.stash[_BLOCKED_BY].get(item.path)
    if blocker and not item.get_closest_marker("always_run"):
        pytest.skip(f"blocked by {blocker}")


@pytest.fixture(scope="session")
def runbook_record(pytestconfig) -> dict:
    """Fields a check adds to the JSON record written beside its HTML report (e.g. the drill's)."""
    return pytestconfig.stash[_RECORD]["fields"]


def pytest_runtest_logreport(report):
    step = getattr(report, "step_description", None)
    if step is None or (report.when != "call" and report.passed):
        return
    blocked = (report.longrepr[2].removeprefix("Skipped: ")
               if report.skipped and isinstance(report.longrepr, tuple) else None)
    steps = _CONFIG[0].stash[_RECORD]["steps"]
    steps[report.nodeid] = {"step": step, "outcome": report.outcome, "when": report.when,
                            "seconds": round(report.duration, 3), "blocked_by": blocked,
                            "error": getattr(report, "error_summary", None)}


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session, exitstatus):
    """After pytest-html wrote the evidence: the JSON record beside it, and both offsite if asked."""
    yield
    htmlpath = session.config.getoption("htmlpath", None)
    checks = _ops_check_names(session.config)
    if not htmlpath or not checks or session.config.getoption("plan"):
        return
    record_path = _write_record(session, Path(htmlpath), checks)
    if any(getattr(item.module, "ARCHIVE_REPORTS_OFFSITE", False) for item in session.items):
        _archive_offsite(session, [Path(htmlpath), record_path], "-".join(checks))


def _write_record(session, htmlpath: Path, checks: list[str]) -> Path:
    """<report>.json beside the HTML evidence: the run's record, redacted."""
    record = session.config.stash[_RECORD]
    finished = datetime.now(timezone.utc)
    steps = list(record["steps"].values())
    document = {
        "check": ", ".join(checks), "operator": getpass.getuser(), "host": socket.gethostname(),
        "tag": session.config.getoption("tag"), "outcome": "passed" if session.exitstatus == 0 else "failed",
        "started_at": record["started"].isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round((finished - record["started"]).total_seconds(), 3),
        "steps": steps, "issues_found": [f"{s['step']}: {s['error']}" for s in steps if s.get("error")],
        **record["fields"],
    }
    target = htmlpath.with_suffix(".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(redact(json.dumps(document, indent=2, sort_keys=True, default=str)) + "\n")
    return target


def _archive_offsite(session, files: list[Path], check: str) -> None:
    """Copy the evidence to <remote>/<env>/reports/<check>/; a failed copy fails the run, loudly."""
    try:
        cfg = _load_ops_config(session.config)
        if not cfg.offsite.enabled:
            return
        where = report_archive.copy_offsite(OpsContext(cfg, session.config.getoption("tag")), files, check)
        print(f"\nopsuite: evidence copied offsite to {where}")
    except Exception as e:  # the run's own result is already recorded; this must not hide it
        print(f"\nopsuite: ERROR: evidence NOT copied offsite: {redact(str(e))}")
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def failed_step(request) -> str | None:
    """The runbook step that failed earlier in this module, if any (for always_run steps)."""
    return request.config.stash[_BLOCKED_BY].get(request.node.path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _is_runbook_step(item):
        report.step_description = f"{_step_label(item).split(' (')[0]}: {_step_doc(item)}"
    if report.failed and _is_runbook_step(item):
        item.config.stash[_BLOCKED_BY].setdefault(item.path, _step_label(item))
        if call.excinfo is not None:
            text = str(call.excinfo.value).strip()
            report.error_summary = redact(f"{call.excinfo.typename}: {text.splitlines()[0] if text else ''}")
    _redact_report(report)


def _redact_report(report):
    """Tracebacks and captured output are embedded in reports as they are: mask secrets here."""
    if isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, redact(message))
    elif report.longrepr is not None:
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(title, redact(content)) for title, content in report.sections]
