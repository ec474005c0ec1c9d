"""Rollback compatibility, checked before the live migration: will the release serving now still
serve on the schema the new TAG's migrations leave, so that an app-only rollback is safe?

The deploy's own pre-migration backup is restored into a throwaway copy (a new volume carrying the
drill's prefix and label), and a rehearsal of the stack runs on it under a compose project of its
own: the new TAG's migrations, then the PREVIOUS TAG's app, whose readiness and smoke checks are
asked at the container's own address. The live stack is not touched: the rehearsal has its own
containers and networks, throwaway database and uploads volumes, and an overlay takes away every
published port and fixed container name. A database outside the stack (postgres-url) is restored
into a server of the rehearsal's own, and the app's URL points there for the rehearsal only.
"""

import contextlib
import json
import secrets
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from .. import runner
from ..backup.box import backup_box
from ..commands import compose as compose_cmd
from ..commands import docker as docker_cmd
from ..config import OpsConfig
from ..context import OpsContext
from ..errors import CommandFailed, DeployError, NotReady, OpsError
from ..guards import THROWAWAY_VOLUME_PREFIX
from ..private_files import write_private
from ..restore.choose import Chosen
from ..restore.throwaway import DRILL_LABEL, remove_throwaway
from ..stack import proxy_config, readiness, services
from ..stack.serving import running_containers
from . import start_first
from .migrations import run_migrations
from .one_offs import run_one_offs

REHEARSAL_DB_SERVICE = "opsuite-rehearsal-db"
SAFE, UNSAFE = "safe", "NOT safe"


@dataclass
class Rehearsal:
    project: str
    database_volume: str
    uploads_volume: str
    overlay: Path
    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, step: str, started: float) -> None:
        self.seconds[step] = round(time.monotonic() - started, 2)


def rehearsal_project(ctx: OpsContext) -> str:
    return f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-rehearsal-{secrets.token_hex(3)}"


def _overlay_text(ctx: OpsContext, url: str | None) -> str:
    """YAML (compose's !reset and !override tags have no JSON form): no published port, no fixed
    container name, every service on the rehearsal's own default network only (an external network
    would let the live proxy reach a rehearsal container), and for a database outside the stack the
    URL pointing at the rehearsal's own server."""
    model = ctx.compose.rendered()["services"]
    names = ctx.config.services
    with_url = {ctx.config.url_service, *([names.migrate] if names.migrate else [])} if url is not None else set()
    lines = ["services:"]
    for name, service in sorted(model.items()):
        lines.append(f"  {json.dumps(name)}:")
        lines += [f"    {key}: !reset {empty}" for key, empty in (("container_name", "null"), ("ports", "[]"))
                  if service.get(key)]
        if not service.get("network_mode"):
            lines.append('    networks: !override ["default"]')
        if name in with_url:
            lines += ["    environment:", f"      {ctx.config.database.url_variable}: {json.dumps(url)}"]
    return "\n".join(lines) + "\n"


def _rehearsal_config(ctx: OpsContext, rehearsal: Rehearsal) -> OpsConfig:
    """The live config under the rehearsal's project, on its volumes, with its overlay last; no generated
    overlay is written from it (the live one is kept as it is)."""
    config = ctx.config
    stack = replace(config.stack, project=rehearsal.project, overlay=None,
                    compose_files=(*config.stack.compose_files, rehearsal.overlay))
    volumes = replace(config.volumes, database=rehearsal.database_volume,
                      uploads_volume=rehearsal.uploads_volume if config.volumes.uploads else "")
    return replace(config, stack=stack, volumes=volumes)


@dataclass(frozen=True)
class RestoredCopy:
    url: str | None = None  # a database outside the stack: the rehearsal's URL to its own server
    server_image: str = ""  # ... and that server's image (the dump's major)
    data_path: str = ""  # ... where that image keeps its data


def _restore_copy(ctx: OpsContext, chosen: Chosen, volume: str) -> RestoredCopy:
    """Restore the set into the throwaway volume, where the rehearsal's database will find it."""
    engine = ctx.engine
    with backup_box(ctx) as box, contextlib.ExitStack() as cleanup:
        container = f"{volume}-restore"
        cleanup.callback(runner.run, docker_cmd.remove_container(container), limit="command", check=False)
        if not engine.database_volume:  # outside the stack: a server of the dump's major, own credentials
            user, password = engine.one_time_credentials()
            database, major = chosen.manifest["database"], chosen.manifest["server_version_num"]
            server = engine.start_server(ctx, box, container, volume, database, DRILL_LABEL,
                                         credentials=(user, password), server_version_num=major)
            copy = RestoredCopy(f"postgresql://{user}:{password}@{REHEARSAL_DB_SERVICE}:5432/{database}",
                                engine.server_image(major), engine.server_data_path)
        elif engine.database_service:  # the stack's own server: its credentials, so the app logs in
            user, password, name = ctx.database.credentials()
            server = engine.start_server(ctx, box, container, volume, name, DRILL_LABEL, credentials=(user, password))
            copy = RestoredCopy()
        else:  # a database file, where the app finds it, owned as the live one
            server = engine.start_disaster_copy(ctx, box, container, volume, DRILL_LABEL)
            copy = RestoredCopy()
        engine.restore_dump(server, chosen.dump_in_backups, ctx.config.restore.jobs,
                            chosen.manifest.get("table_count", 0))
        runner.run(docker_cmd.stop_container(container, 60), limit="command", check=False)  # a clean shutdown before reuse
    return copy


def _database_services(ctx: OpsContext, copy: RestoredCopy) -> list[str]:
    """The rehearsal's database service, started first: the stack's own, or the rehearsal's server."""
    if copy.url is not None:
        return [REHEARSAL_DB_SERVICE]
    return [ctx.config.services.database] if ctx.engine.database_service else []


def _server_service(copy: RestoredCopy, volume: str) -> str:
    """The rehearsal's server for a database outside the stack, on the restored volume."""
    return "\n".join([f'  "{REHEARSAL_DB_SERVICE}":', f'    image: "{copy.server_image}"', "    volumes:",
                      f'      - "{REHEARSAL_DB_SERVICE}:{copy.data_path}"', "volumes:",
                      f'  "{REHEARSAL_DB_SERVICE}":', "    external: true", f'    name: "{volume}"']) + "\n"


def app_port(ctx: OpsContext, proxy: proxy_config.ProxyView | None) -> int:
    """Where the app's first service answers HTTP: the port the proxy forwards to (its view from the
    deploy's preflight), else its published port's target; refuses when neither tells."""
    name = ctx.config.services.app[0]
    upstream = proxy.upstreams.get(name) if proxy else None
    if upstream:
        return upstream.port
    ports = [p.get("target") for p in ctx.compose.rendered()["services"][name].get("ports") or [] if p.get("target")]
    if ports:
        return int(ports[0])
    raise DeployError(f"cannot tell which port {name} answers on (no proxy forwards to it and it publishes none): "
                      "set [deploy] rollback_check = false, or publish its port")


@contextlib.contextmanager
def rehearsal_of(ctx: OpsContext) -> Iterator[Rehearsal]:
    """The throwaway volumes and overlay file of one rehearsal; its containers, networks and volumes
    are removed on every exit (never the live stack's: all carry the rehearsal's own names)."""
    project = rehearsal_project(ctx)
    with contextlib.ExitStack() as cleanup:
        folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="opsuite-rehearsal-")))
        rehearsal = Rehearsal(project, f"{project}-db", f"{project}-uploads", folder / "rehearsal.yml")
        for volume in (rehearsal.database_volume, rehearsal.uploads_volume):
            cleanup.callback(remove_throwaway, volume)
            runner.run(docker_cmd.volume_create(volume, DRILL_LABEL), limit="command")
        cleanup.callback(_take_down, ctx, rehearsal)
        yield rehearsal


def _take_down(ctx: OpsContext, rehearsal: Rehearsal) -> None:
    if rehearsal.overlay.exists():  # compose ran only once the overlay was written
        config = _rehearsal_config(ctx, rehearsal)
        # check=False: a failed take-down must not hide why the rehearsal stopped; its volumes go next.
        OpsContext(config, ctx.tag).compose.run(compose_cmd.down(config.stack), limit="command", check=False)


def check(ctx: OpsContext, chosen: Chosen, previous_tag: str, proxy: proxy_config.ProxyView | None) -> dict:
    """Rehearse the deploy on a copy of the set the deploy just took and verified (not verified again):
    the new TAG's migrations, then previous_tag serving on the result. Returns the verdict and what it
    cost; raises only when the rehearsal cannot run (or the new TAG's migrations fail on the copy),
    never for an unsafe rollback: refuse_unsafe decides that."""
    port = app_port(ctx, proxy)
    with rehearsal_of(ctx) as rehearsal:
        started = time.monotonic()
        # The backup's own context (the serving TAG): its compose models are already rendered.
        copy = _restore_copy(ctx.with_tag(previous_tag), chosen, rehearsal.database_volume)
        rehearsal.timed("restore", started)
        text = _overlay_text(ctx, copy.url)
        if copy.url is not None:
            text += _server_service(copy, rehearsal.database_volume)
        write_private(rehearsal.overlay, text)
        new = OpsContext(_rehearsal_config(ctx, rehearsal), ctx.tag)
        started = time.monotonic()
        database = _database_services(ctx, copy)
        if database:
            new.compose.up(database, no_deps=True)
            services.wait_healthy(new.compose, database, timeout=ctx.config.http.ready_timeout_seconds)
        try:
            run_migrations(new)
        except CommandFailed as e:
            raise DeployError(f"the migrations of {ctx.tag} failed on a copy of backup {chosen.set_name}; the live "
                              f"database was not touched: {e.stderr_tail}") from e
        rehearsal.timed("migrate", started)
        started = time.monotonic()
        verdict = _previous_serves(new.with_tag(previous_tag), port)
        rehearsal.timed("previous release", started)
    return {**verdict, "backup": chosen.set_name, "previous_tag": previous_tag, "tag": ctx.tag,
            "seconds": rehearsal.seconds}


def _previous_serves(old: OpsContext, port: int) -> dict:
    """Start the previous release's first app service on the migrated copy and ask it directly."""
    name = old.config.services.app[0]
    try:
        run_one_offs(old)
        old.compose.up([name], no_deps=True)
        running = start_first.container_facts(running_containers(old, name))
        if not running:
            raise NotReady(f"no container of {name} runs after `compose up`")
        deadline = time.monotonic() + old.config.http.ready_timeout_seconds
        ready = start_first.ready_directly(old, running[0], port, deadline)
        smoke = readiness.smoke(old, base_url=ready["base_url"])
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
