"""Command-line options, the target stack's config (loaded once per session) and the `ops` fixture."""

import os
import signal
from pathlib import Path

import pytest

from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import ConfigError
from procedures.identifiers import register_config_identifiers
from procedures.private_files import PRIVATE_UMASK
from procedures.redact import install_log_redaction
from procedures.release.tags import validate_tag

from .state import OPS_CONFIG, ops_check_names


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
    parser.addini("ops_config", "TOML config of the target stack", default="ops.toml")


_UMASK_BEFORE = pytest.StashKey[int]()


def _smoke(spec: str) -> dict:
    path, _, rest = spec.partition("=")
    status, _, text = rest.partition(":")
    return {"path": path, "status": int(status or 200), "contains": text}


def _load(config):
    # OPSUITE_CONFIG lets a scheduled run (/etc/opsuite/opsuite.env) name an adopted stack's config.
    path = config.getoption("ops_config") or os.environ.get("OPSUITE_CONFIG") or config.getini("ops_config")
    here = Path(config.invocation_params.dir)
    files = config.getoption("ops_compose_files")
    smoke = config.getoption("ops_smoke")
    return load_config(
        config.rootpath / path if not Path(path).is_absolute() else Path(path),
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
