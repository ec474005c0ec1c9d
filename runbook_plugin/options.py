"""Command-line options, the target stack's config (loaded once per session) and the `ops` fixture."""

import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import ConfigError
from procedures.identifiers import register_config_identifiers
from procedures.private_files import PRIVATE_UMASK
from procedures.redact import install_log_redaction
from procedures.release.tags import validate_tag

from .state import OPS_CONFIG, REFUSED, is_runbook_step, ops_check_names

DEFAULT_OPS_CONFIG = "ops.toml"  # pytest.ini's ops_config when it names none


def pytest_addoption(parser):
    group = parser.getgroup("ops", "executable runbook")
    group.addoption("--tag", help="release version to act on, e.g. 1.1.0 (never latest)")
    group.addoption("--env", dest="ops_env", help="environment name, e.g. prod (overrides [stack] environment)")
    group.addoption("--ops-config", help="TOML config of the target stack (default: $OPSUITE_CONFIG, "
                                         "else ini ops_config)")
    group.addoption("--project", dest="ops_project", help="compose project name (overrides [stack] project)")
    group.addoption("--base-url", dest="ops_base_url", help="URL of the reverse proxy (overrides [http] base_url)")
    group.addoption("--break-stale-lock", action="store_true", default=False,
                    help="take over an operations lock whose holder is no longer running")
    group.addoption("--compose-file", dest="ops_compose_files", action="append", metavar="FILE",
                    help="compose file, repeatable, base first and docker-compose.prod.yml last "
                         "(overrides [stack] compose_files); for discover.py also the app's directory")
    group.addoption("--smoke", dest="ops_smoke", action="append", metavar="PATH[=STATUS[:TEXT]]",
                    help="smoke check, repeatable (overrides [[deploy.smoke]]), e.g. --smoke=/notes=200")
    group.addoption("--allow-irreversible", action="store_true", default=False,
                    help="deploy even when the rollback check finds the serving release cannot run after the "
                         "new release's migrations (the ledger records it)")
    group.addoption("--accept-clock", action="store_true", default=False,
                    help="backup: prune although now is far past the newest earlier backup (backups really paused)")
    group.addoption("--allow-mass-prune", action="store_true", default=False,
                    help="backup: delete more sets in this run than [retention] max_deletions_per_run allows")
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
    group.addoption("--uploads-volume", dest="ops_uploads_volume", metavar="NAME",
                    help="switch_database_volume: move the uploads to this existing volume with the database")
    group.addoption("--database", dest="ops_database", metavar="NAME",
                    help="switch_database_url: the existing database on the URL's server to switch the app to")
    group.addoption("--signed-off-by", dest="ops_signed_off_by", metavar="NAME",
                    help="the person who signs this run's evidence off (shown in the report's summary header)")
    group.addoption("--plan", action="store_true", default=False,
                    help="print the numbered runbook steps with their descriptions and run nothing")
    parser.addini("ops_config", "TOML config of the target stack", default=DEFAULT_OPS_CONFIG)


_UMASK_BEFORE = pytest.StashKey[int]()


def _smoke(spec: str) -> dict:
    path, _, rest = spec.partition("=")
    status, _, text = rest.partition(":")
    return {"path": path, "status": int(status or 200), "contains": text}


def config_path(given: str | None, rootpath: Path, ini_value: str = DEFAULT_OPS_CONFIG) -> Path:
    """The ops config a run reads: --ops-config, else $OPSUITE_CONFIG, else pytest.ini's ops_config;
    a relative one is relative to the rootdir (where pytest.ini is), wherever the run started."""
    # OPSUITE_CONFIG lets a scheduled run (/etc/opsuite/opsuite.env) name an adopted stack's config.
    path = Path(given or os.environ.get("OPSUITE_CONFIG") or ini_value)
    return path if path.is_absolute() else rootpath / path


def _load(config):
    here = Path(config.invocation_params.dir)
    files = config.getoption("ops_compose_files")
    smoke = config.getoption("ops_smoke")
    return load_config(
        config_path(config.getoption("ops_config"), config.rootpath, config.getini("ops_config")),
        **{
            "stack.project": config.getoption("ops_project"),
            "stack.environment": config.getoption("ops_env"),
            "stack.compose_files": [str((here / f).resolve()) for f in files] if files else None,
            "http.base_url": config.getoption("ops_base_url"),
            "deploy.smoke": [_smoke(spec) for spec in smoke] if smoke else None,
        },
    )


def tag_option(config) -> str | None:
    """--tag, checked where it is read: a given TAG must be explicit (a missing one is the runbook's to refuse)."""
    tag = config.getoption("tag")
    return tag if tag is None else validate_tag(tag)


def ops_config(config):
    """The target stack's config and --tag, read once per session; raises their ConfigError each time asked."""
    if OPS_CONFIG not in config.stash:
        try:
            loaded = _load(config)
            register_config_identifiers(loaded, tag_option(config))
            config.stash[OPS_CONFIG] = loaded
        except ConfigError as e:
            config.stash[OPS_CONFIG] = e
    loaded = config.stash[OPS_CONFIG]
    if isinstance(loaded, ConfigError):
        raise loaded
    return loaded


def ops_context(config) -> OpsContext:
    """The target stack at --tag, prepared; an invalid --tag is refused before anything is prepared."""
    stack = ops_config(config)  # raises for an invalid --tag
    return prepared_context(stack, config.getoption("tag"))


@pytest.fixture(scope="session")
def ops(pytestconfig) -> OpsContext:
    """The target stack as configured, with --tag when given."""
    return ops_context(pytestconfig)


def refusal_before_steps(config, items) -> str | None:
    """Why this run must not start, in one paragraph: its config or --tag is wrong (when a step uses
    the config), or its check needs --tag (a module saying TAG_REQUIRED = True) and none was given."""
    steps = [item for item in items if is_runbook_step(item)]
    try:
        if any("ops" in item.fixturenames for item in steps):
            ops_config(config)
        elif config.getoption("tag") is not None:
            tag_option(config)
    except ConfigError as e:
        return str(e)
    needs_tag = sorted({item.path.stem for item in steps if getattr(item.module, "TAG_REQUIRED", False)})
    if needs_tag and config.getoption("tag") is None and not config.getoption("plan"):
        return (f"{', '.join(needs_tag)} needs a TAG, the release to act on: pass --tag=VERSION (for example "
                "--tag=1.1.0, an explicit version, never latest)")
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """A wrong config or --tag stops the run here, before the first step (and before --plan prints): one
    paragraph first on the screen, exit 4 (pytest's usage error; `opsuite` exits 2). The run's record
    still says why (runbook_plugin/record.py)."""
    reason = refusal_before_steps(config, items) if ops_check_names(config) else None
    if reason:
        config.stash[REFUSED] = reason
        capture = config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            sys.stderr.write(f"opsuite: {reason}\nNo step was run, nothing was changed.\n")
            sys.stderr.flush()
        raise _refused()
    return (yield)


def _refused() -> pytest.UsageError:
    return pytest.UsageError("the run was refused before its first step: the reason is printed above")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session):
    """pytest calls this even after a refusal: refuse again, before --plan's exit can say "0"."""
    if REFUSED in session.config.stash:
        raise _refused()


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def unwind_on_stop_signals() -> None:
    """SIGTERM (systemd stop, kill) and SIGHUP (the SSH session dropped) unwind like Ctrl-C:
    fixtures release the lock and roll back. A run started under nohup keeps ignoring SIGHUP."""
    signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _interrupt)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    install_log_redaction()
    if ops_check_names(config):
        # What the check, pytest-html or a library creates is its owner's only.
        config.stash[_UMASK_BEFORE] = os.umask(PRIVATE_UMASK)
        unwind_on_stop_signals()


def pytest_unconfigure(config):
    if _UMASK_BEFORE in config.stash:  # a check run inside another pytest (the suite's own tests)
        os.umask(config.stash[_UMASK_BEFORE])
