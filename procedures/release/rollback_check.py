"""Rollback compatibility, checked before the live migration: will the release serving now still
serve on the schema the new TAG's migrations leave, so that an app-only rollback is safe?

The deploy's own pre-migration backup is restored into a throwaway copy (a new volume carrying the
drill's prefix and label), and a rehearsal of the stack runs on it under a compose project of its
own: the new TAG's migrations, then the PREVIOUS TAG's app, whose readiness and smoke checks are
asked at the container's own address from a probe inside the rehearsal. The live stack is not
touched and the world is not reached: the rehearsal is sealed (release/seal.py: its own internal
network with no route to the host, only throwaway volumes, read-only bind mounts, no published port
or shared name) and runs with [deploy.rehearsal] environment over the app's. A database outside the
stack (postgres-url) is restored into a server of the rehearsal's own, and the app's URL points there
for the rehearsal only. Everything the rehearsal made is removed on every exit.
"""

import contextlib
import logging
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from .. import compose_model, docker_api, runner
from ..box import backup_box
from ..commands import compose as compose_cmd
from ..commands import docker as docker_cmd
from ..config import OpsConfig
from ..context import OpsContext, prepared_context
from ..engines.targets import REHEARSAL, RehearsalDatabase, TargetPlan
from ..errors import CommandFailed, DeployError, NotReady, OpsError
from ..guards import THROWAWAY_VOLUME_PREFIX
from ..private_files import write_private
from ..restore.throwaway import DRILL_LABEL, remove_throwaway
from ..sets import manifest
from ..sets.chosen import Chosen
from ..stack import readiness, services
from ..stack.proxy_view import ProxyView
from ..stack.serving import running_containers
from . import image_volumes, start_first
from . import seal as sealing
from .migrations import run_migrations
from .one_offs import run_one_offs

log = logging.getLogger("ops.rehearsal")
SAFE, UNSAFE = "safe", "NOT safe"


@dataclass
class Rehearsal:
    project: str
    database_volume: str
    uploads_volume: str
    overlay: Path
    seconds: dict[str, float] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)  # every volume it created, removed last

    def create_volume(self, name: str) -> None:
        self.volumes.append(name)  # noted first: a create interrupted half-way is removed too
        runner.run(docker_cmd.volume_create(name, DRILL_LABEL), limit="command")

    def timed(self, step: str, started: float) -> None:
        self.seconds[step] = round(time.monotonic() - started, 2)


def rehearsal_project(ctx: OpsContext) -> str:
    return f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-rehearsal-{secrets.token_hex(3)}"


def _sealed(ctx: OpsContext, rehearsal: Rehearsal, copy: RehearsalDatabase, previous_tag: str | None = None) -> sealing.Seal:
    """The rehearsal's sealed overlay, from the model the rehearsal's project would render without it
    (every profile): the restored database and uploads keep their throwaway volumes. The VOLUMEs that
    the images of both TAGs declare get throwaway volumes too."""
    config = _rehearsal_config(ctx, rehearsal)
    bare = replace(config, stack=replace(config.stack, compose_files=ctx.config.stack.compose_files))
    model = prepared_context(bare, ctx.tag).compose.rendered_every_profile()
    models = [model] + ([prepared_context(bare, previous_tag).compose.rendered_every_profile()]
                        if previous_tag and previous_tag != ctx.tag else [])
    ours = {rehearsal.database_volume, rehearsal.uploads_volume}
    own = {k: v["name"] for k, v in (model.get("volumes") or {}).items() if v.get("name") in ours}
    names, extra, service_env = ctx.config.services, {}, {}
    for name in copy.extra_services:
        own[name] = rehearsal.database_volume
        extra[name] = copy.extra_services[name]
    if copy.url is not None:
        holders = {ctx.config.url_service, *([names.migrate] if names.migrate else [])}
        service_env = {name: {ctx.config.database.url_variable: copy.url} for name in holders}
    images = {sealing.PROBE_SERVICE: ctx.config.backup.image, **{k: v["image"] for k, v in extra.items()}}
    return sealing.seal(model, rehearsal.project, own_volumes=own,
                        environment=dict(ctx.config.deploy.rehearsal.environment), service_env=service_env,
                        skip_env={names.database, names.backup, *copy.extra_services},
                        probe_image=ctx.config.backup.image, labels=DRILL_LABEL, extra_services=extra,
                        image_volumes=image_volumes.of_services(models, images))


def _rehearsal_config(ctx: OpsContext, rehearsal: Rehearsal) -> OpsConfig:
    """The live config under the rehearsal's project, on its volumes, with its overlay last; no generated
    overlay is written from it (the live one is kept as it is)."""
    config = ctx.config
    stack = replace(config.stack, project=rehearsal.project, overlay=None,
                    compose_files=(*config.stack.compose_files, rehearsal.overlay))
    volumes = replace(config.volumes, database=rehearsal.database_volume,
                      uploads_volume=rehearsal.uploads_volume if config.volumes.uploads else "")
    return replace(config, stack=stack, volumes=volumes)


def _restore_and_seal(ctx: OpsContext, chosen: Chosen, rehearsal: Rehearsal,
                      previous_tag: str) -> tuple[RehearsalDatabase, sealing.Seal]:
    """Restore the set into the throwaway volume, where the rehearsal's database will find it, and seal
    the rehearsal while pg_restore runs: what it must start for the copy is the engine's answer, known
    once the restore target has started, and the sealing (models rendered, images read, volumes made,
    overlay written) is fixed work that need not wait for a restore growing with the database."""
    serving = ctx.with_tag(previous_tag)  # the backup's own context (the serving TAG)
    with backup_box(serving) as box, contextlib.ExitStack() as cleanup:
        container = f"{rehearsal.database_volume}-restore"
        cleanup.callback(runner.run, docker_cmd.remove_container(container), limit="command", check=False)
        plan = TargetPlan(REHEARSAL, container, DRILL_LABEL, lambda: rehearsal.database_volume,
                          chosen.manifest["database"], manifest.restorable_by(chosen.manifest))
        target = serving.engine.restore_target(serving, box, plan)
        # Leaving this block waits for the sealing thread, so whatever volume it made is noted in
        # rehearsal.volumes before the rehearsal's clean-up removes them (an interrupt included).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rehearsal-seal") as pool:
            sealed = pool.submit(_seal_files, ctx, rehearsal, target.rehearsal, previous_tag)
            target.restore(chosen.dump_in_backups, ctx.config.restore.jobs, chosen.manifest.get("table_count", 0))
            seal = sealed.result()
        target.retire()  # a clean shutdown before the rehearsal's database reuses the volume
    return target.rehearsal, seal


def _seal_files(ctx: OpsContext, rehearsal: Rehearsal, copy: RehearsalDatabase, previous_tag: str) -> sealing.Seal:
    """The sealed overlay written and the throwaway volumes it names created."""
    sealed = _sealed(ctx, rehearsal, copy, previous_tag)
    for volume in sealed.volumes.values():
        rehearsal.create_volume(volume)
    write_private(rehearsal.overlay, sealed.text)
    return sealed


def app_port(ctx: OpsContext, proxy: ProxyView | None) -> int:
    """Where the app's first service answers HTTP: the port the proxy forwards to (its view from the
    deploy's preflight), else its published port's target; refuses when neither tells."""
    name = ctx.config.services.app[0]
    upstream = proxy.upstreams.get(name) if proxy else None
    if upstream and upstream.port:
        return upstream.port
    ports = compose_model.container_ports(ctx.compose.rendered()["services"][name])
    if ports:
        return ports[0]
    raise DeployError(f"cannot tell which port {name} answers on (no proxy forwards to it, and it neither publishes "
                      "nor `expose:`s one): add `expose: [\"PORT\"]` to it, or set [deploy] rollback_check = false")


@contextlib.contextmanager
def rehearsal_of(ctx: OpsContext) -> Iterator[Rehearsal]:
    """The throwaway volumes and overlay file of one rehearsal; its containers, networks and volumes
    are removed on every exit (never the live stack's: all carry the rehearsal's own names)."""
    project = rehearsal_project(ctx)
    with contextlib.ExitStack() as cleanup:
        folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="opsuite-rehearsal-")))
        rehearsal = Rehearsal(project, f"{project}-db", f"{project}-uploads", folder / "rehearsal.yml")
        # Registered before anything exists, run last: volumes go once no container holds them.
        cleanup.callback(_remove_volumes, rehearsal)
        cleanup.callback(_remove_leftovers, project)
        for volume in (rehearsal.database_volume, rehearsal.uploads_volume):
            rehearsal.create_volume(volume)
        cleanup.callback(_take_down, ctx, rehearsal)
        yield rehearsal


def _take_down(ctx: OpsContext, rehearsal: Rehearsal) -> None:
    if rehearsal.overlay.exists():  # compose ran only once the overlay was written
        config = _rehearsal_config(ctx, rehearsal)
        # check=False: a failed take-down must not hide why the rehearsal stopped; its volumes go next.
        # No stop grace: nothing of the rehearsal is kept, and a container deaf to SIGTERM (the probe's
        # `sleep`) would hold the take-down for compose's 10 s.
        prepared_context(config, ctx.tag).compose.run(compose_cmd.down(config.stack, stop_seconds=0), limit="command",
                                                      check=False)


def _remove_leftovers(project: str) -> None:
    """Containers and networks of the rehearsal's project that a failed or interrupted `down` left."""
    for container in docker_api.project_container_ids(project):
        runner.run(docker_cmd.remove_container(container), limit="command", check=False)
    for network in docker_api.project_network_names(project):
        runner.run(docker_cmd.remove_network(network), limit="command", check=False)


def _remove_volumes(rehearsal: Rehearsal) -> None:
    for volume in rehearsal.volumes:
        remove_throwaway(volume)  # only the reserved prefix and the drill's label


def check(ctx: OpsContext, chosen: Chosen, previous_tag: str, proxy: ProxyView | None) -> dict:
    """Rehearse the deploy on a copy of the set the deploy just took and verified (not verified again):
    the new TAG's migrations, then previous_tag serving on the result. Returns the verdict and what it
    cost; raises only when the rehearsal cannot run (or the new TAG's migrations fail on the copy),
    never for an unsafe rollback: refuse_unsafe decides that."""
    port = app_port(ctx, proxy)
    with rehearsal_of(ctx) as rehearsal:
        started = time.monotonic()
        copy, sealed = _restore_and_seal(ctx, chosen, rehearsal, previous_tag)
        rehearsal.timed("restore", started)
        if sealed.dropped:
            log.warning("the rehearsal runs without what loosened isolation: %s", "; ".join(sealed.dropped))
        new = prepared_context(_rehearsal_config(ctx, rehearsal), ctx.tag)
        started = time.monotonic()
        database = list(copy.start_first)
        if database:
            new.compose.up(database, no_deps=True)
            services.wait_healthy(new.compose, database, timeout=ctx.config.http.ready_timeout_seconds)
        try:
            run_migrations(new)
        except CommandFailed as e:
            raise DeployError(f"the migrations of {ctx.tag} failed on a copy of backup {chosen.set_name}; the live "
                              f"database was not touched: {e.reason}\n{e.stderr_tail}") from e
        rehearsal.timed("migrate", started)
        started = time.monotonic()
        verdict = _previous_serves(new.with_tag(previous_tag), port)
        rehearsal.timed("previous release", started)
    return {**verdict, "backup": chosen.set_name, "previous_tag": previous_tag, "tag": ctx.tag,
            "seconds": rehearsal.seconds, "sealed": sealed_evidence(ctx, sealed)}


def sealed_evidence(ctx: OpsContext, sealed: sealing.Seal) -> dict:
    """What the evidence says of the seal: names only (environment values may be secrets)."""
    first = ctx.config.services.app[0]
    twin = (f"{first} is single-instance: its rehearsal twin ran only sealed (no route out, no live name), "
            f"with [deploy.rehearsal] environment {', '.join(sealed.environment) or '(none set)'} applied"
            if first in ctx.config.services.single_instance else None)
    return {"network": f"{sealed.network} (internal, no host address)", "environment": list(sealed.environment),
            "throwaway_volumes": sorted(sealed.volumes.values()), "read_only_binds": list(sealed.read_only_binds),
            "dropped": list(sealed.dropped),
            **({"single_instance": twin} if twin else {})}


def _previous_serves(old: OpsContext, port: int) -> dict:
    """Start the previous release's first app service on the migrated copy and ask it directly, from the
    probe inside the sealed network (the host has no route in)."""
    name = old.config.services.app[0]
    try:
        run_one_offs(old)
        old.compose.up([name, sealing.PROBE_SERVICE], no_deps=True)
        running = start_first.container_facts(running_containers(old, name))
        probe = running_containers(old, sealing.PROBE_SERVICE)
        if not running or not probe:
            raise NotReady(f"no container of {name} (or of the probe) runs after `compose up`")
        ask = readiness.get_from(probe[0])
        deadline = time.monotonic() + old.config.http.ready_timeout_seconds
        ready = start_first.ready_directly(old, running[0], port, deadline, ask=ask)
        smoke = readiness.smoke(old, base_url=ready["base_url"], ask=ask)
    except (OpsError, CommandFailed) as e:
        logs = old.compose.logs([name], tail=40)
        return {"rollback": UNSAFE, "why": f"{old.tag} does not serve on the migrated copy: {e}", "logs": logs}
    return {"rollback": SAFE, "why": f"{old.tag} is ready and passes its smoke checks on the migrated copy",
            "ready": ready, "smoke": smoke}


def refuse_unsafe(verdict: dict, allow_irreversible: bool) -> None:
    """Stop the deploy before the live migration when the app could not be rolled back, unless allowed."""
    if verdict["rollback"] == UNSAFE and not allow_irreversible:
        raise DeployError(f"refused before the live migration: an app-only rollback to {verdict['previous_tag']} "
                          f"would not work after {verdict['tag']}'s migrations ({verdict['why']}). Nothing live "
                          "changed. Deploy anyway with --allow-irreversible (a rollback then needs the database "
                          f"restored from backup {verdict['backup']}: docs/DEPLOYMENT_RUNBOOK.md section 10)")
