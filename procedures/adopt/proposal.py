"""A proposed ops config from what discovery found; every setting that is a guess says so beside it."""

import json
from pathlib import Path

from ..compose_model import published_ports
from .roles import Roles

GUESS = "# GUESS:"


def _value(value) -> str:
    return json.dumps(value)  # TOML strings, arrays and booleans read as JSON does for these values


def _line(key: str, value, why: str | None = None) -> str:
    return f"{key} = {_value(value)}" + (f"   {GUESS} {why}" if why else "")


def _base_url(model: dict, roles: Roles) -> tuple[str, str | None]:
    ports = [p for p in published_ports(model) if p["service"] == roles.proxy]
    https = next((p for p in ports if str(p["target"]) == "443"), None)
    http = next((p for p in ports if str(p["target"]) == "80"), None) or (ports[0] if ports else None)
    if http is not None:
        host = "127.0.0.1" if http["host_ip"] in ("0.0.0.0", "::", "") else http["host_ip"]
        port = "" if http["published"] == "80" else f":{http['published']}"
        return f"http://{host}{port}", ("the public https URL is better when the proxy terminates TLS"
                                       if https else None)
    return "http://127.0.0.1:8080", "the proxy publishes no port: set the URL the app is reached at"


def propose(model: dict, roles: Roles, project: str, compose_files: list[Path], overlay: Path,
            environment: str = "prod") -> str:
    """The text of an ops config for this stack: the app's compose files then the suite's overlay."""
    base_url, url_guess = _base_url(model, roles)
    guesses = roles.guesses
    volume = roles.database_volume
    lines = [
        f"# Proposed by `pytest ops_checks/discover.py` from {', '.join(str(f) for f in compose_files)}.",
        f"# Lines marked {GUESS} rest on names or habits, not on the compose model: check them.",
        "[stack]",
        _line("project", project),
        _line("compose_files", [*(str(f) for f in compose_files), str(overlay)]),
        _line("environment", environment, "the environment's name in backup names and the remote folder"),
        "",
        "[services]",
    ]
    if roles.database:
        lines.append(_line("database", roles.database))
    lines += [
        _line("app", roles.app, guesses.get("services.app")),
        _line("single_instance", roles.single_instance, guesses.get("services.single_instance")),
        _line("proxy", roles.proxy or "", None if roles.proxy else "no reverse proxy found"),
    ]
    if roles.migrate:
        lines.append(_line("migrate", roles.migrate))
    if volume:
        lines += ["", "[volumes]", _line("database", volume.name)]
    lines += ["", "[database]", _line("engine", roles.engine, guesses.get("database.engine")),
              "", "[http]", _line("base_url", base_url, url_guess)]
    return "\n".join(lines) + "\n"
