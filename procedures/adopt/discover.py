"""The discovery runbook: read a stack the suite did not create and say what it is, read-only.

    render -> roles -> running state -> risks -> proposed ops config

It runs `docker compose config` and lists the project's containers and volumes; it starts,
changes and removes nothing. Its report is seed 000's "Current State"; beside it goes a proposed
ops config whose guesses are marked.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ..commands import docker as docker_cmd
from ..compose import register_model_secrets
from ..config import StackConfig
from ..errors import ConfigError
from ..private_files import private_dir, write_private
from ..stack import proxy_config
from ..stack.proxy_view import RUNBOOK
from ..runbook import Runbook, Step
from . import compose_rules, outside_proxy, project_check, proxy_front
from .outside_proxy import OutsideProxy
from .proposal import known_ready_path, propose
from .risks import Risk, find_risks
from .image_facts import marker_files, read_images
from .roles import Roles, command_text, find_framework, find_roles

# The overlay the suite generates from the proposed config, beside the app's first compose file.
OVERLAY_NAME = "docker-compose.opsuite.yml"


@dataclass
class DiscoverRun:
    compose_files: list[Path]  # as given (files, or the app's directory) until render names compose's own
    project: str | None  # as given (--project), else compose's name once rendered
    proposal_path: Path | None = None
    view: compose_rules.ComposeView | None = None
    model: dict = field(default_factory=dict)
    roles: Roles | None = None
    running: dict = field(default_factory=dict)
    risks: list[Risk] = field(default_factory=list)
    proposal: str = ""
    images: dict = field(default_factory=dict)  # service -> what its image holds (image_facts.py)
    outside_proxy: OutsideProxy | None = None  # the proxy another project runs in front of this one
    front: proxy_front.Front | None = None  # a proxy proposed for app services publishing their own port

    @property
    def stack(self) -> StackConfig:
        return StackConfig(self.project, tuple(self.compose_files))


def open_run(compose_files: list[str] | None, project: str | None, proposal_path: Path | None) -> DiscoverRun:
    """Refuse a run without compose files (or the app's directory) or with one that does not exist, naming the fix."""
    if not compose_files:
        raise ConfigError("discovery needs the app's directory or its compose files: --compose-file=/srv/app "
                          "(what plain `docker compose` there reads) or --compose-file=docker-compose.yml "
                          "[--compose-file=docker-compose.override.yml ...] [--project=NAME]")
    files = [Path(f).resolve() for f in compose_files]
    missing = [str(f) for f in files if not f.is_file() and not (len(files) == 1 and f.is_dir())]
    if missing:
        raise ConfigError(f"compose file(s) not found: {', '.join(missing)}; pass the paths of the app's own files "
                          "or its directory")
    return DiscoverRun(files, project, proposal_path)


def render(run: DiscoverRun) -> dict:
    """The app's compose files render, every profile included (compose's own error, verbatim, when they do
    not); the files, project name and active profiles are the ones compose itself uses."""
    run.view = view = compose_rules.view(run.compose_files, run.project)
    run.compose_files, run.project = list(view.files), view.project
    run.model = register_model_secrets(view.model)
    return {"project": run.project, "files": [str(f) for f in run.compose_files],
            "plain compose in the directory reads": [str(f) for f in view.plain_files or ()],
            "services": sorted(run.model.get("services") or {}),
            "not started (profile not active)": view.profile_only,
            "volumes": sorted(run.model.get("volumes") or {})}


def identify_roles(run: DiscoverRun) -> list[dict]:
    """Database and its volume, app services, single-instance workers, proxy, one-offs, backup machinery."""
    run.roles = roles = find_roles(run.model, run.view.active if run.view else None)
    role_of = {roles.database: "database", roles.proxy: "reverse proxy", roles.migrate: "migrate (one-off)"}
    role_of.update({n: "app" for n in roles.app})
    role_of.update({n: "app, single instance" for n in roles.single_instance})
    role_of.update({n: "one-off" for n in roles.one_offs if n != roles.migrate})
    role_of.update({m["service"]: f"backup machinery ({', '.join(m['why'])})" for m in roles.backup_machinery})
    role_of.update({n: "not started (profile not active)" for n in roles.profile_only if n not in role_of})
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


def running_state(run: DiscoverRun) -> dict:
    """When the stack runs: its containers and the volumes compose or the suite made for it; and the
    framework files in the app's images when they are on this host (read-only, never pulled)."""
    containers = project_check.rows(docker_cmd.project_containers(run.project))
    volumes = [*project_check.rows(docker_cmd.project_volumes(run.project)),
               *project_check.rows(docker_cmd.suite_volumes(run.project))]
    run.running = {"containers": [{"service": project_check.labels(c).get(project_check.SERVICE), "name": c.get("Names"),
                                   "state": c.get("State"), "status": c.get("Status"), "image": c.get("Image")}
                                  for c in containers],
                   "volumes": sorted({v.get("Name") for v in volumes})}
    if run.view:
        started_here = project_check.rows(docker_cmd.directory_containers(str(run.view.directory)))
        run.running["other projects"] = project_check.other_projects(started_here, run.project)
    run.outside_proxy = found = outside_proxy.find(run.model, run.roles, run.project)
    if found:
        run.running["proxy outside the project"] = {"container": found.container, "project": found.project,
                                                    "network": found.network, "also answered": list(found.others)}
    services = run.model.get("services") or {}
    run.images = read_images(services, [n for n in (run.roles.migrate, *run.roles.app) if n], run.project)
    find_framework(run.model, run.roles, marker_files(run.images))
    framework = run.roles.framework
    # Names only from the images' environment: its values may be secrets.
    run.running["images"] = {"framework files": marker_files(run.images),
                             "entrypoint migrations": {n: f["entrypoint"] for n, f in run.images.items() if "entrypoint" in f},
                             "framework": f"{framework.framework.name} ({framework.why})" if framework else None}
    return run.running


def _proxy_risks(run: DiscoverRun) -> list[Risk]:
    """Where the running proxy would fail requests while a deploy switches an app service, with the fix."""
    proxy = next((c["name"] for c in run.running.get("containers", [])
                  if c["service"] == run.roles.proxy and c["state"] == "running"), None)
    proxy = proxy or (run.outside_proxy.container if run.outside_proxy else None)
    if not proxy:
        return []
    view = proxy_config.read(proxy, list(run.roles.app), run.model, str(run.compose_files[0]),
                             known_ready_path(run.model, run.roles))
    if not view.kind:
        return [Risk(f"cannot tell whether the proxy {run.roles.proxy or proxy} retries on a new container: "
                     f"{view.problem}", "deploys recreate the app services (a short gap); an nginx, Caddy or "
                                    f"Traefik front switches without one ({RUNBOOK})")]
    return [Risk(f"the proxy ({view.kind}) would fail requests while a deploy switches {u.service}: "
                 f"{(u.problem or u.advice).split('; fix: ')[0]}", u.patch or u.problem)
            for u in view.upstreams.values() if u.problem or u.advice]


def front_path(run: DiscoverRun) -> Path | None:
    """Where the proposed proxy file goes: beside the proposal (none without a report path)."""
    if run.proposal_path is None:
        return None
    return run.proposal_path.with_name(run.proposal_path.name.removesuffix(".ops.toml") + "." + proxy_front.FILE_NAME)


def _front_risks(run: DiscoverRun) -> list[Risk]:
    """App services that publish their own port with no proxy in front: each deploy fails their requests."""
    # A proxy another project runs (a shared Traefik) is the stack's proxy: none is proposed beside it.
    run.front = None if run.outside_proxy else proxy_front.propose(run.model, run.roles)
    if run.front is None:
        return []
    front = run.front
    where = front_path(run) or f"the discover report's {proxy_front.FILE_NAME}"
    directory = run.compose_files[0].parent
    return [Risk(f"no reverse proxy in front of {', '.join(sorted({u.service for u in front.upstreams}))}, which "
                 f"publish(es) {front.describe()} themselves: a deploy can only recreate them, and requests fail from "
                 "the old container's stop until the new one answers",
                 f"put the proposed Caddy in front: copy {where} to {directory / proxy_front.FILE_NAME}, add it last to "
                 "the stack's compose files (COMPOSE_FILE in its .env, or -f), run `docker compose up -d` once (the "
                 f"service(s) lose their port, {front.service} takes it: a few seconds' gap), then discover again "
                 f"({RUNBOOK})")]


def _project_risks(run: DiscoverRun) -> list[Risk]:
    """Where the project or files compose would use differ from what runs or what the operator passed."""
    risks = [Risk(f"the app's containers run as compose project {name} ({', '.join(names)}), not {run.project} "
                  "(the name compose gives these files now): the proposal would address a project without the "
                  "app's containers or data, and adopt refuses it",
                  f"discover again with --project={name} (the project the data is under)")
             for name, names in (run.running.get("other projects") or {}).items()]
    plain = run.view.plain_files if run.view and run.view.listed else None
    if plain and list(plain) != run.compose_files:
        risks.append(Risk(f"plain `docker compose` in {run.view.directory} reads {', '.join(map(str, plain))} "
                          f"(its COMPOSE_FILE), not the files discovery was given ({', '.join(map(str, run.compose_files))})",
                          f"discover with --compose-file={run.view.directory} to read what compose reads, or "
                          "check the proposal's [stack] compose_files"))
    return risks


def assess_risks(run: DiscoverRun) -> list[Risk]:
    """Every risk the model shows, and the running proxy's config, each with its fix."""
    run.risks = find_risks(run.model, run.roles, run.images) + _proxy_risks(run) + _front_risks(run) + _project_risks(run)
    return run.risks


def write_proposal(run: DiscoverRun) -> str:
    """A proposed ops config for this stack, guesses marked; written beside the report (partial, then renamed)."""
    run.proposal = propose(run.model, run.roles, run.project, run.compose_files,
                           run.compose_files[0].parent / OVERLAY_NAME, images=run.images, outside=run.outside_proxy)
    if run.proposal_path is not None:
        private_dir(run.proposal_path.parent, tighten=False)
        write_private(run.proposal_path, run.proposal)
        if run.front is not None:
            write_private(front_path(run), run.front.compose_text)
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
