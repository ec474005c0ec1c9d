"""What in a stack's compose model could lose data or bring it down, each with its fix."""

import json
from dataclasses import dataclass

from ..compose_model import LOOPBACK_HOSTS, published_ports
from ..redact import SHORT_SECRET_LENGTH, is_secret_name, is_weak_secret
from . import start_migrations
from .bind_mounts import bind_mounted_data
from .roles import Roles, image_tag


@dataclass(frozen=True)
class Risk:
    what: str
    fix: str


def _long_running(model: dict, roles: Roles) -> list[str]:
    """Services meant to keep running: not one-offs, not backup tools run on demand (a cron runs on)."""
    on_demand = {m["service"] for m in roles.backup_machinery if "cron" not in m["why"]}
    return sorted(n for n, s in (model.get("services") or {}).items()
                  if n not in roles.one_offs and n != roles.migrate and n not in on_demand and s.get("restart") != "no")


def _weak_secrets(services: dict) -> list[str]:
    """service VARIABLE (n characters) for each secret-named variable whose value is short; never the value."""
    weak = []
    for name in sorted(services):
        environment = services[name].get("environment") or {}
        for variable, value in sorted(environment.items()) if isinstance(environment, dict) else []:
            if is_secret_name(variable) and value and is_weak_secret(str(value)):
                weak.append(f"{name} {variable} ({len(str(value))} characters)")
    return weak


def _start_migration_risks(services: dict, roles: Roles, images: dict | None) -> list[Risk]:
    """An app that migrates on every start does so before any backup: each way it does, with the
    setting that turns it off in the generated overlay (the suite then migrates as its one-off)."""
    risks = []
    on = start_migrations.switches(services, roles.app, images)
    if on:
        table = ", ".join(f'{v} = "{off}"' for v, off in sorted({(s.variable, s.off) for s in on}))
        risks.append(Risk("migrations run on app start: " + ", ".join(
                              f"{s.service} {s.variable}={s.value}" if s.value else
                              f"{s.service} leaves {s.variable} unset (another app service sets it {s.off})" for s in on)
                          + ": every `up` migrates the live database before any backup",
                          f"[deploy] app_environment = {{ {table} }} (the proposal sets it): the generated overlay "
                          "turns it off, and the deploy migrates as its one-off step after a verified backup"))
    for found in start_migrations.start_commands(services, roles.app):
        shown = " ".join(found.command)
        if found.without:
            fix = (f"[deploy] app_commands = {{ {found.service} = {json.dumps(list(found.without))} }} (the proposal "
                   "sets it): the generated overlay starts it without the migration; the deploy migrates as its one-off")
        else:
            fix = ("start it without the migration (a compose override of its command or entrypoint, or the image's "
                   "own switch) and let the deploy migrate as its one-off step, after a verified backup")
        risks.append(Risk(f"migrations run on app start: {found.service} runs `{shown}`", fix))
    copies = {c.service: c for c in start_migrations.config_file_commands(services, roles.app, images or {})}
    for entry in start_migrations.entrypoint_migrations(roles.app, images or {}):
        offs, _ = start_migrations.switch_offs(services, roles.app, images)
        named = {v: offs[v] for v in entry.variables if v in offs}
        copy = copies.get(entry.service)
        if named:
            fix = (f"[deploy] app_environment = {{ {', '.join(f'{v} = {json.dumps(o)}' for v, o in named.items())} }} "
                   f"(the proposal sets it; check in {entry.script} that this value turns it off)")
        elif copy:
            fix = (f"[deploy] app_commands = {{ {entry.service} = {json.dumps(list(copy.without))} }} (the proposal "
                   f"sets it): the generated overlay starts {entry.service} over a copy of {entry.script} without "
                   "the lines that migrate")
        else:
            fix = "start it without the migration (a compose override of its entrypoint, or the image's own switch)"
        risks.append(Risk(f"migrations run on app start: {entry.service}'s image entrypoint {entry.script} runs "
                          f"`{entry.steps[0][:100]}`", fix + "; the deploy migrates as its one-off step, after a "
                                                               "verified backup"))
    return risks


def find_risks(model: dict, roles: Roles, images: dict | None = None) -> list[Risk]:
    """Every risk discovery can see in the model (published ports, restart, logs, tags, volumes, backups),
    and in the app's images when image_facts.py read them (their environment and entrypoint)."""
    services = model.get("services") or {}
    risks = []
    exposed = [p for p in published_ports(model, except_services=(roles.proxy,) if roles.proxy else ())
               if p["host_ip"] not in LOOPBACK_HOSTS]
    for port in exposed:
        risks.append(Risk(f"{port['service']} publishes port {port['published']} on {port['host_ip']} (every interface)",
                          f"publish it on 127.0.0.1 only (\"127.0.0.1:{port['published']}:{port['target']}\") or not at all; "
                          "only the reverse proxy faces the network"))
    no_restart = [n for n in _long_running(model, roles) if not services[n].get("restart")]
    if no_restart:
        risks.append(Risk(f"no restart policy: {', '.join(no_restart)} stay down after a crash or a reboot",
                          "restart: unless-stopped (the prod overlay sets it)"))
    unrotated = [n for n in sorted(services) if not ((services[n].get("logging") or {}).get("options") or {}).get("max-size")]
    if unrotated:
        risks.append(Risk(f"no log rotation: {', '.join(unrotated)} log without a size limit and can fill the disk",
                          "logging: {driver: json-file, options: {max-size: 10m, max-file: \"5\"}} (the prod overlay sets it)"))
    moving = [f"{n} ({services[n].get('image')})" for n in sorted(services)
              if services[n].get("image") and image_tag(services[n]["image"]) in (None, "latest")]
    if moving:
        risks.append(Risk(f"latest or untagged images: {', '.join(moving)}: a pull can change what runs",
                          "pin every image to an explicit version; deploy the app by TAG (pytest ops_checks/deploy.py --tag=...)"))
    volume = roles.database_volume
    if volume is not None and not volume.external:
        risks.append(Risk(f"the database volume {volume.key} ({volume.name}) is owned by compose: `down -v` removes it "
                          "and a renamed project creates an empty one",
                          f"declare it external with its name ({volume.name}) in the prod overlay; the data stays where it is"))
    if roles.database and volume is None:
        where = (f"on the bind mount {roles.database_bind}" if roles.database_data == "bind"
                 else "in no volume of its own (the image's anonymous volume: `down` loses it, a new container starts empty)")
        risks.append(Risk(f"the database {roles.database} keeps its data {where}: no volume the suite can make "
                          "external, back up in place or switch after a restore",
                          "move the data to a named volume (the proposal names one) and mount it at the data "
                          "directory, then adopt"))
    backed_up = {source for machine in roles.backup_machinery for source in machine["mounts"]}
    database_key = volume.key if volume else None
    uncovered = sorted({m.get("source") for n in roles.app for m in services[n].get("volumes") or []
                        if isinstance(m, dict) and m.get("type") == "volume" and m.get("source") != database_key}
                       - backed_up)
    if uncovered:
        risks.append(Risk(f"volumes of the app that no backup covers: {', '.join(uncovered)}",
                          "archive them with each backup ([backup] uploads_archive and the backup service's mount)"))
    for bind in bind_mounted_data(model, roles.app):
        risks.append(Risk(f"data in {bind['source']} ({bind['service']}: {bind['target']}) is a bind mount and not "
                          "backed up",
                          f"list it in [backup] paths (\"{bind['source']}\") to archive it with each set, or move it to a "
                          "named volume"))
    risks += _start_migration_risks(services, roles, images)
    gated = [n for n in roles.app if roles.migrate in (services[n].get("depends_on") or {})]
    if gated:
        risks.append(Risk(f"every plain `docker compose up` of {', '.join(gated)} runs {roles.migrate} first, "
                          "with no backup before it",
                          "deploy with `pytest ops_checks/deploy.py --tag=...` (verified backup, then migrate), "
                          "never with a plain up"))
    weak = _weak_secrets(services)
    if weak:
        risks.append(Risk(f"weak secrets, shorter than {SHORT_SECRET_LENGTH} characters: {', '.join(weak)}: easy to guess, and "
                          "the evidence can mask them only as whole words (under 4 characters not at all), so "
                          "they may show inside names and logs",
                          "set a long random value (openssl rand -hex 24) in the app and in the database, "
                          "then in the env file"))
    crons = [m["service"] for m in roles.backup_machinery if "cron" in m["why"]]
    if crons:
        risks.append(Risk(f"an existing backup schedule ({', '.join(crons)}) would run beside the suite's nightly timer",
                          "stop it (docker compose --profile backup stop ...) once the suite's nightly backup runs"))
    return risks
