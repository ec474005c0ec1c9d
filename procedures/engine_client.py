"""Whether the docker SDK reaches the engine the docker CLI would, and the one SDK client both users share.

Reads (docker_api) and execs (engine_exec) go over the engine's socket instead of starting the CLI, but
only where the CLI would reach the same engine the same way; anywhere else the CLI runs as before.
"""

import functools
import json
from pathlib import Path
from typing import Mapping

_SAME_ENGINE_SCHEMES = ("unix://", "tcp://", "npipe://")  # hosts the SDK reaches as the CLI does
# The longest one engine request may wait; an exec's streams are bounded by its command's own limit instead.
_CLIENT_TIMEOUT_SECONDS = 600


def current_context(environ: Mapping[str, str]) -> str:
    """The CLI's docker context: DOCKER_CONTEXT, else its config file's (DOCKER_CONFIG, else ~/.docker)."""
    if environ.get("DOCKER_CONTEXT"):
        return environ["DOCKER_CONTEXT"]
    config = Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        return json.loads(config.read_text()).get("currentContext") or "default"
    except (OSError, ValueError, AttributeError):
        return "default"


def cli_only_reason(environ: Mapping[str, str], added: Mapping[str, str] | None = None) -> str | None:
    """Why only the CLI may talk to the engine here (the SDK client made from this process's environment
    would reach another engine, or the same one another way); None when the SDK may."""
    if any(name.startswith("DOCKER_") for name in added or {}):
        return "the command's own environment sets DOCKER_* (the client follows this process's)"
    host = environ.get("DOCKER_HOST", "")
    if host.startswith("ssh://"):
        return "DOCKER_HOST is ssh:// (the CLI tunnels through ssh)"
    if host and not host.startswith(_SAME_ENGINE_SCHEMES):
        return f"DOCKER_HOST {host.split('://')[0]}:// is not a transport the SDK shares with the CLI"
    if any(environ.get(name) for name in ("DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")):
        return "TLS is set up for the CLI (DOCKER_TLS*, DOCKER_CERT_PATH)"
    if host:  # DOCKER_HOST wins over the config file's context; DOCKER_CONTEXT beside it is the CLI's to judge
        return "DOCKER_CONTEXT is set beside DOCKER_HOST" if environ.get("DOCKER_CONTEXT", "default") != "default" else None
    if current_context(environ) != "default":
        return "a docker context other than default is in use"
    return None


@functools.cache
def client():
    """The low-level Engine API client, made once from the environment as the CLI finds the engine."""
    import docker  # imported here: a run that never asks the engine over its socket never loads it

    return docker.from_env(timeout=_CLIENT_TIMEOUT_SECONDS).api
