"""Loading a config for use: what every engine shares (procedures/config.py), then the engine's own checks."""

from pathlib import Path

from .config import OpsConfig, read_config
from .engines import check_engine_config


def load_config(path: Path, **overrides) -> OpsConfig:
    """Load and check the TOML config; overrides (stack.project=..., http.base_url=...) win."""
    return check_engine_config(read_config(path, **overrides))
