"""The discovery runbook: read a stack the suite did not create and say what it is, read-only.

    render -> roles -> running state -> risks -> proposed ops config

It runs `docker compose config` and lists the project's containers and volumes; it starts,
changes and removes nothing. Its report is seed 000's "Current State"; beside it goes a proposed
ops config whose guesses are marked.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import runner
from ..commands import compose as compose_cmd
from ..commands import docker as docker_cmd
from ..compose import register_model_secrets
from ..config import StackConfig
from ..errors import CommandFailed, ConfigError
from ..private_files import private_dir, write_private
from ..stack import proxy_config
from ..runbook import Runbook, Step
from .proposal import propose
from .risks import Risk, find_risks
from .roles import Roles, command_text, find_roles

# The overlay the suite generates from the proposed config, beside the app's first compose file.
OVERLAY_NAME = "docker-compose.opsuite.yml"


def default_project(first_file: Path) -> str:
    """The name compose itself gives a project: its directory's name, lowercased, other characters dropped."""
    return re.sub(r"[^a-z0-9_-]", "", first_file.resolve().parent.name.lower()) or "default"


@dataclass
class DiscoverRun:
    compose_files: list[Path]
    project: str
    proposal_path: Path | None = None
    model: dict = field(default_factory=dict)
    roles: Roles | None = None
    running: dict = field(default_factory=dict)
    risks: list[Risk] = field(default_factory=list)
    proposal: str = ""

    @property
    def stack(self) -> StackConfig:
        return StackConfig(self.project, tuple(self.compose_files))


def open_run(compose_files: list[str] | None, project: str | None, proposal_path: Path | None) -> DiscoverRun:
    """Refuse a run without compose files or with one that does not exist, naming the fix."""
    if not compose_files:
        raise ConfigError("discovery needs the app's compose files: --compose-file=docker-compose.yml "
                          "[--compose-file=docker-compose.override.yml ...] [--project=NAME]")
    files = [Path(f).resolve() for f in compose_files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"compose file(s) not found: {', '.join(missing)}; pass the paths of the app's own files")
    return DiscoverRun(files, project or default_project(files[0]), proposal_path)


def render(run: DiscoverRun) -> dict:
    """The app's compose files render, every profile included (compose's own error, verbatim, when they do not)."""
    try:
        done = runner.run(compose_cmd.config_json_every_profile(run.stack), cwd=str(run.compose_files[0].parent), limit="command")
    except CommandFailed as e:
        raise ConfigError(f"the compose files do not render; compose says:\n{e.stderr_tail}\n"
                          "Fix the file it names (the same command by hand: docker compose "
                          + " ".join(f"-f {f}" for f in run.compose_files) + " config)") from e
    run.model = register_model_secrets(json.loads(done.stdout))
    return {"project": run.project, "files": [str(f) for f in run.compose_files],
            "services": sorted(run.model.get("services") or {}), "volumes": sorted(run.model.get("volumes") or {})}


def identify_roles(run: DiscoverRun) -> list[dict]:
    """Database and its volume, app services, single-instance workers, proxy, one-offs, backup machinery."""
    run.roles = roles = find_roles(run.model)
    role_of = {roles.database: "database", roles.proxy: "reverse proxy", roles.migrate: "migrate (one-off)"}
    role_of.update({n: "app" for n in roles.app})
    role_of.update({n: "app, single instance" for n in roles.single_instance})
    role_of.update({n: "one-off" for n in roles.one_offs if n != roles.migrate})
    role_of.update({m["service"]: f"backup machinery ({', '.join(m['why'])})" for m in roles.backup_machinery})
    rows = []
    for name, service in sorted((run.model.get("services") or {}).items()):
        health = (service.get("healthcheck") or {})
        rows.append({"service": name, "role": role_of.get(name, "other"), "image": service.get("image", ""),
                     "healthcheck": "disabled" if health.get("disable") else " ".join(health.get("test") or [])[:80],
                     "interval": health.get("interval", ""),
                     "ports": ", ".join(f"{p.get('host_ip') or '0.0.0.0'}:{p.get('published')}->{p.get('target')}"
                                        for p in service.get("ports") or [] if p.get("published")),
                     "profiles": ", ".join(service.get("profiles") or []),
                     "command": command_text(service)[:80]})
    return rows


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _label(row: dict, key: str) -> str | None:
    labels = dict(item.split("=", 1) for item in (row.get("Labels") or "").split(",") if "=" in item)
    return labels.get(key)


def running_state(run: DiscoverRun) -> dict:
    """When the stack runs: its containers and the volumes compose or the suite made for it (read-only)."""
    containers = _json_lines(runner.run(docker_cmd.project_containers(run.project), limit="command").stdout)
    volumes = [*_json_lines(runner.run(docker_cmd.project_volumes(run.project), limit="command").stdout),
               *_json_lines(runner.run(docker_cmd.suite_volumes(run.project), limit="command").stdout)]
    run.running = {"containers": [{"service": _label(c, "com.docker.compose.service"), "name": c.get("Names"),
                                   "state": c.get("State"), "status": c.get("Status"), "image": c.get("Image")}
                                  for c in containers],
                   "volumes": sorted({v.get("Name") for v in volumes})}
    return run.running


def _proxy_risks(run: DiscoverRun) -> list[Risk]:
    """Where the running proxy would fail requests while a deploy switches an app service, with the fix."""
    proxy = next((c["name"] for c in run.running.get("containers", [])
                  if c["service"] == run.roles.proxy and c["state"] == "running"), None)
    if not proxy:
        return []
    view = proxy_config.read(proxy, list(run.roles.app), run.model, str(run.compose_files[0]))
    if not view.kind:
        return [Risk(f"cannot tell whether the proxy {run.roles.proxy} retries on a new container: {view.problem}",
                     "deploys recreate the app services (a short gap); an nginx, Caddy or Traefik front switches "
                     f"without one ({proxy_config.RUNBOOK})")]
    return [Risk(f"the proxy ({view.kind}) would fail requests while a deploy switches {u.service}: "
                 f"{u.problem.split('; fix: ')[0]}", u.patch or u.problem)
            for u in view.upstreams.values() if u.problem]


def assess_risks(run: DiscoverRun) -> list[Risk]:
    """Every risk the model shows, and the running proxy's config, each with its fix."""
    run.risks = find_risks(run.model, run.roles) + _proxy_risks(run)
    return run.risks


def write_proposal(run: DiscoverRun) -> str:
    """A proposed ops config for this stack, guesses marked; written beside the report (partial, then renamed)."""
    run.proposal = propose(run.model, run.roles, run.project, run.compose_files,
                           run.compose_files[0].parent / OVERLAY_NAME)
    if run.proposal_path is not None:
        private_dir(run.proposal_path.parent, tighten=False)
        write_private(run.proposal_path, run.proposal)
    return run.proposal


DISCOVER = Runbook("discover", (
    Step("render", render),
    Step("roles", identify_roles),
    Step("running", running_state),
    Step("risks", assess_risks),
    Step("proposal", write_proposal),
))


def discover(compose_files: list[str], project: str | None = None, proposal_path: Path | None = None) -> DiscoverRun:
    """Run every discovery step; changes nothing but the proposal file."""
    run = open_run(compose_files, project, proposal_path)
    DISCOVER.run_all(run)
    return run
