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
from procedures import facts

ROOT = Path(__file__).parent
OPS_CHECKS = ROOT / "ops_checks"
_BLOCKED_BY = pytest.StashKey[dict]()
_RECORD = pytest.StashKey[dict]()


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
    if checks and not config.getoption("htmlpath", None) and not config.getoption("plan"):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        config.option.htmlpath = str(ROOT / "reports" / "-".join(checks) / f"{stamp}.html")
        config.option.self_contained_html = True
        _REPORT_TITLE[0] = "Ops evidence: " + ", ".join(checks)
    _CONFIG[0] = config
    config.stash[_BLOCKED_BY] = {}
    config.stash[_RECORD] = {"fields": {}, "steps": {}, "started": datetime.now(timezone.utc)}
    config.addinivalue_line("markers", "always_run: a runbook step that runs even after a failed step")
    if checks:
        # SIGTERM (systemd stop, kill) unwinds like Ctrl-C: fixtures release the lock and roll back.
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_collection_modifyitems(config, items):
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
    marker = item.get_closest_marker("order")
    number = marker.args[0] if marker and marker.args else "?"
    return f"step {number} ({item.name})"


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
                            "seconds": round(report.duration, 3), "blocked_by": blocked}


def pytest_sessionfinish(session, exitstatus):
    """Write <report>.json beside the HTML evidence: the run's record, redacted."""
    htmlpath = session.config.getoption("htmlpath", None)
    checks = _ops_check_names(session.config)
    if not htmlpath or not checks or session.config.getoption("plan"):
        return
    record = session.config.stash[_RECORD]
    finished = datetime.now(timezone.utc)
    document = {
        "check": ", ".join(checks), "operator": getpass.getuser(), "host": socket.gethostname(),
        "tag": session.config.getoption("tag"), "outcome": "passed" if exitstatus == 0 else "failed",
        "started_at": record["started"].isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round((finished - record["started"]).total_seconds(), 3),
        "steps": list(record["steps"].values()), **record["fields"],
    }
    target = Path(htmlpath).with_suffix(".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(redact(json.dumps(document, indent=2, sort_keys=True, default=str)) + "\n")


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
    _redact_report(report)


def _redact_report(report):
    """Tracebacks and captured output are embedded in reports as they are: mask secrets here."""
    if isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, redact(message))
    elif report.longrepr is not None:
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(title, redact(content)) for title, content in report.sections]
