"""The smallest ops config a check loads without a stack: offsite off, locks and state under one folder."""

from pathlib import Path


def minimal_config(project: str, folder: Path) -> str:
    """ops.toml text for PROJECT, its lock and state folders under FOLDER (compose file a.yml beside it)."""
    return f'''[stack]
project = "{project}"
compose_files = ["a.yml"]
lock_dir = "{folder}/locks"
[offsite]
enabled = false
[deploy]
state_dir = "{folder}/state"
'''
