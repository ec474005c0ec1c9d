"""Where opsuite finds the checkout, the ops config and the reports: as the pytest plugin does, from
the plugin's own helpers (runbook_plugin/options.py, state.py), so both always agree."""

from pathlib import Path

import iniconfig  # pytest's own ini reader: pytest.ini's [pytest] ops_config as pytest reads it

from procedures.errors import UsageError
from runbook_plugin.options import DEFAULT_OPS_CONFIG, config_path
from runbook_plugin.state import reports_dir

# The checkout this package belongs to: ops_checks/, conftest.py and pytest.ini sit beside it.
ROOT = Path(__file__).resolve().parents[1]
PYTEST_INI = ROOT / "pytest.ini"
OPS_CHECKS = ROOT / "ops_checks"


def checkout() -> Path:
    """The checkout's root; refuses an install without the ops checks beside the package."""
    missing = [p.name for p in (PYTEST_INI, ROOT / "conftest.py", OPS_CHECKS) if not p.exists()]
    if missing:
        raise UsageError(f"opsuite runs the ops checks of its own checkout, but {ROOT} has no "
                         f"{', '.join(missing)}: install it from the checkout (pip install -e /path/to/opsuite)")
    return ROOT


def ops_config_path(given: str | None) -> Path:
    """--ops-config (relative to where opsuite runs), else $OPSUITE_CONFIG, else pytest.ini's ops_config."""
    if given:
        return Path(given).expanduser().resolve()
    ini = iniconfig.IniConfig(PYTEST_INI) if PYTEST_INI.exists() else None
    default = ini.get("pytest", "ops_config", DEFAULT_OPS_CONFIG) if ini else DEFAULT_OPS_CONFIG
    return config_path(None, ROOT, default)


def reports() -> Path:
    return reports_dir(ROOT)


def check_names() -> list[str]:
    """The ops checks of this checkout: ops_checks/NAME.py (helpers such as evidence.py aside)."""
    return sorted(p.stem for p in OPS_CHECKS.glob("[a-z]*.py") if "runbook_step" in p.read_text(encoding="utf-8"))
