"""A proposed ops config from what discovery found; every setting that is a guess says so beside it."""

import json
import os
import re
from pathlib import Path

from ..compose_model import built_here, built_on_server, published_ports
from ..config import BackupConfig
from . import start_migrations
from .bind_mounts import bind_mounted_data
from .frameworks import BY_NAME
from .outside_proxy import OutsideProxy
from .roles import Roles, command_text, image_tag

GUESS = "# GUESS:"


def _value(value) -> str:
    return json.dumps(value)  # TOML strings, arrays and booleans read as JSON does for these values


def _line(key: str, value, why: str | None = None) -> str:
    return f"{key} = {_value(value)}" + (f"   {GUESS} {why}" if why else "")


def _base_url(model: dict, roles: Roles) -> tuple[str, str | None]:
    # Without a proxy the app's own published port is where it is reached.
    front = roles.proxy or roles.api
    ports = [p for p in published_ports(model) if p["service"] == front]
    https = next((p for p in ports if str(p["target"]) == "443"), None)
    http = next((p for p in ports if str(p["target"]) == "80"), None) or (ports[0] if ports else None)
    if http is not None:
        host = "127.0.0.1" if http["host_ip"] in ("0.0.0.0", "::", "") else http["host_ip"]
        port = "" if http["published"] == "80" else f":{http['published']}"
        return f"http://{host}{port}", ("the public https URL is better when the proxy terminates TLS"
                                       if https else None if roles.proxy else
                                       f"no reverse proxy: {front}'s own published port")
    return "http://127.0.0.1:8080", f"{front or 'no service'} publishes no port: set the URL the app is reached at"


def _ready_path(model: dict, roles: Roles) -> tuple[str, str]:
    """The path the api's own healthcheck asks, when it asks one: apps name readiness differently.
    A healthcheck that asks no path is not given one it never asked: what it tests is said instead."""
    health = (model["services"].get(roles.api) or {}).get("healthcheck") or {}
    test = " ".join(health.get("test") or [])
    found = re.search(r"https?://[^/\s'\"]+(/[\w./-]*)?", test)
    if found and (found.group(1) or "/") != "/":
        return found.group(1), f"the path {roles.api}'s healthcheck asks: the check that the app can serve"
    if found:
        return "/", (f"{roles.api}'s healthcheck asks the root ({found.group(0)}): set the path that answers 200 "
                     "only when the app can serve, if it has one")
    if test and not health.get("disable"):
        shown = re.sub(r"^(CMD-SHELL|CMD)\s+", "", test)[:80]
        return "/", (f"{roles.api}'s healthcheck asks no HTTP path (it runs `{shown}`): / is only the app's root; "
                     "set the path that answers 200 only when the app can serve")
    return "/readyz", "the app's readiness path (answers 200 only when it can serve)"


def known_ready_path(model: dict, roles: Roles) -> str | None:
    """The readiness path the api's own healthcheck asks; None when it asks none (never a guess)."""
    path, _ = _ready_path(model, roles)
    health = " ".join(((model["services"].get(roles.api) or {}).get("healthcheck") or {}).get("test") or [])
    return path if path != "/" and path in health else None


def _proxy_lines(roles: Roles, outside: OutsideProxy | None) -> list[str]:
    if roles.proxy or outside is None:
        return [_line("proxy", roles.proxy or "", None if roles.proxy else "no reverse proxy found")]
    where = (f"the Traefik of compose project {outside.project}" if outside.project else "a Traefik outside compose") \
        + f" on the network {outside.network}, which an app service joins"
    why = (f"{GUESS} `traefik version` answered in {', '.join(outside.others)} too: name the one that routes this app"
           if outside.others else "#")
    return [_line("proxy", "") + "   # no proxy service in this project: proxy_container serves it",
            _line("proxy_container", outside.container) + f"   {why} {where}: read to decide each switch, "
                                                          "never recreated"]


def _volume_lines(roles: Roles, project: str) -> list[str]:
    lines = ["", "[volumes]"]
    if roles.database_volume:
        lines.append(_line("database", roles.database_volume.name))
    elif roles.database:
        # Never the example's default: a volume of this stack's, which the data must move to first.
        where = (f"on the bind mount {roles.database_bind}" if roles.database_data == "bind"
                 else "in the image's anonymous volume (a `docker compose down` loses it)")
        lines.append(_line("database", f"{project}_{roles.database}_data",
                           f"{roles.database} keeps its data {where}: the suite keeps a database only on a named "
                           "volume; move the data to this one before adopting (docs/ADOPTING.md, section 1)"))
    elif roles.engine == "postgres-url":
        lines.append(_line("database", ""))
    # Several volumes: one named for files is the likelier home of uploads (still a guess).
    named = [v for v in roles.uploads if re.search(r"upload|media|files|attachment", v, re.I)]
    uploads = (named or roles.uploads or [""])[0]
    why = (None if len(roles.uploads) == 1 else
           f"the app mounts several volumes ({', '.join(roles.uploads)}): name the one holding uploads"
           if roles.uploads else "the app mounts no volume besides the database's: no uploads to archive")
    lines.append(_line("uploads", uploads, why))
    # The suite's own volumes: prefixed so they never merge into an app volume of the same name.
    lines += [_line("backups", "opsuite_backups"), _line("rclone_config", "opsuite_rclone_config")]
    return lines


_POSTGRES_MAJOR = re.compile(r"(?:^|/)postgres:(\d+)")
_DEFAULT_DUMP_MAJOR = re.search(r"pg(\d+)$", BackupConfig.image).group(1)


def _mariadb_backup_image_lines(image: str, roles: Roles) -> list[str]:
    """The backup image built on the server's own image, for its mariadb-dump (the default dumps Postgres).
    A MySQL image has no apt to add the backup's tools: MariaDB's client reads MySQL."""
    tag = image_tag(image) if "mariadb" in image.lower() else None
    base = image if "mariadb" in image.lower() else "mariadb:lts"
    name = f"opsuite-backup:mariadb{tag if tag and tag != 'latest' else ''}"
    why = (f"the backup image carries mariadb-dump of {roles.database}'s server"
           + (f" ({image}, MySQL: built on MariaDB's image, whose client reads MySQL)" if base != image else "")
           + f": docker build --build-arg SERVER_IMAGE={base} -t {name} backup-image/ (backup-image/Dockerfile)")
    return [_line("image", name, why)]


def _backup_image_lines(model: dict, roles: Roles) -> list[str]:
    """A backup image at the database image's Postgres major, when it names one the default's pg_dump is
    older than (the first backup would refuse it); for MariaDB, one of the server's own image."""
    image = str(((model.get("services") or {}).get(roles.database) or {}).get("image") or "")
    if roles.engine == "mariadb":
        return _mariadb_backup_image_lines(image, roles)
    found = _POSTGRES_MAJOR.search(image) if roles.engine == "postgres" else None
    if not found or int(found.group(1)) <= int(_DEFAULT_DUMP_MAJOR):
        return []
    major = found.group(1)
    return [_line("image", f"opsuite-backup:pg{major}",
                  f"pg_dump must not be older than {roles.database}'s {image}; the default {BackupConfig.image} dumps "
                  f"{_DEFAULT_DUMP_MAJOR}: docker build --build-arg POSTGRES_IMAGE={image} -t opsuite-backup:pg{major} "
                  "backup-image/ (docs/BACKUPS.md section 7)")]


def _backup_lines(model: dict, roles: Roles) -> list[str]:
    """A backup image at the database's major when the default's is older; the app services' writable
    bind mounts as [backup] paths, commented out: no volume backup sees them, and the operator decides
    which hold data (uncommented, each must exist on this host)."""
    lines = _backup_image_lines(model, roles)
    binds = bind_mounted_data(model, list(roles.app))
    if binds:
        where = ", ".join(f"{b['service']}:{b['target']}" for b in binds)
        sources = sorted({b["source"] for b in binds})
        lines += [f"# {GUESS} the app keeps files on host folders ({where}), which no volume backup sees: "
                  "uncomment to archive them with each set (docs/BACKUPS.md section 12)", f"# paths = {_value(sources)}"]
    return ["", "[backup]", *lines] if lines else []


def propose(model: dict, roles: Roles, project: str, compose_files: list[Path], overlay: Path,
            environment: str = "prod", images: dict | None = None, outside: OutsideProxy | None = None) -> str:
    """The text of an ops config for this stack: the app's compose files, then the overlay the suite
    generates from this config at `overlay` (`images`: what image_facts.py read in the app's images;
    `outside`: the proxy another project runs in front of it)."""
    base_url, url_guess = _base_url(model, roles)
    ready_path, ready_why = _ready_path(model, roles)
    guesses = roles.guesses
    lines = [
        f"# Proposed by `pytest ops_checks/discover.py` from {', '.join(str(f) for f in compose_files)}.",
        f"# Lines marked {GUESS} rest on names or habits, not on the compose model: check them.",
        "[stack]",
        _line("project", project),
        _line("compose_files", [str(f) for f in compose_files]),
        _line("overlay", str(overlay)) + "   # generated from this config by the suite: do not edit it",
        _line("environment", environment, "the environment's name in backup names and the remote folder"),
        "",
        "[services]",
    ]
    if roles.database or roles.engine in ("postgres-url", "sqlite"):
        lines.append(_line("database", roles.database or "", None if roles.database else
                           "none: the database is outside the stack" if roles.engine == "postgres-url" else
                           "none: the database is a file of an app service"))
    lines += [
        _line("app", roles.app, guesses.get("services.app")),
        _line("single_instance", roles.single_instance, guesses.get("services.single_instance")),
        *_proxy_lines(roles, outside),
        _line("migrate", roles.migrate or "", guesses.get("services.migrate") if roles.migrate else
              "no migrate service: [deploy] migrate_command runs in the first app service"),
    ]
    lines += _volume_lines(roles, project)
    lines += _backup_lines(model, roles)
    lines += ["", "[database]", _line("engine", roles.engine, guesses.get("database.engine")),
              *_url_lines(model, roles, compose_files),
              "", "[http]", _line("base_url", base_url, url_guess),
              _line("ready_path", ready_path, ready_why),
              _line("version_path", "/version", "the path that says which release serves (\"\" to check "
                                                "the running images' tag instead)"),
              _line("version_field", "version", "the JSON field of version_path that carries the deployed TAG "
                                                "(e.g. \"build\"); empty or absent: the running images' tag, "
                                                "said in the evidence"),
              "", "[offsite]", _line("remote", f"gdrive-crypt:{project}-backups",
                                     "your rclone crypt remote over Drive, and a folder (docs/BACKUPS.md section 5); "
                                     "backups go to <remote>/<env>/"),
              *_deploy_lines(model, roles, images),
              # After every deploy and rollback; the default /healthz is not every app's.
              "", "[[deploy.smoke]]", _line("path", ready_path, "a request that must answer 200 after every "
                                                                "deploy (add your most important pages)"),
              *_build_lines(model, project, compose_files),
              "", "[restore]",
              _line("sample_queries", _sample_queries(model, roles),
                    "queries that must return rows from a restored copy (your most important tables)")]
    return "\n".join(lines) + "\n"


def _sample_queries(model: dict, roles: Roles) -> list[str]:
    if _alembic(model, roles):
        return ["SELECT version_num FROM alembic_version"]
    return [roles.framework.framework.revision_query(roles.engine)] if roles.framework else []


def _build_lines(model: dict, project: str, compose_files: list[Path]) -> list[str]:
    """Services built on the server: deploy builds them from the app's git checkout by tag or commit
    (docs/DEPLOYMENT_RUNBOOK.md section 11). The checkout is found as git finds it, from the compose
    file's folder up to the first holding `.git` (healthchecks keeps its file in docker/ and builds `..`);
    without one, the folder holding every build context is proposed, commented out."""
    built = built_here(model)
    if not built:
        return []
    named = sorted(set(built) - set(built_on_server(model)))
    folder = Path(compose_files[0]).parent
    checkout = next((f for f in (folder, *folder.parents) if (f / ".git").exists()), None)
    if checkout is None:
        contexts = [str(Path((model["services"][n]["build"] or {}).get("context") or folder)) for n in built]
        checkout = Path(os.path.commonpath([str(folder), *contexts]))
    why = (f"{', '.join(built)} are built on the server (`build:`): `deploy --tag=REF` builds a git "
           f"tag or commit of this checkout as {project}-<service>:<tag>")
    if named:
        why += f" ({', '.join(named)}: instead of the image named in the compose file; remove [build] if a registry serves it)"
    if (checkout / ".git").exists():
        return ["", "[build]", _line("repository", str(checkout), why), _line("keep_releases", 3)]
    return ["", f"# {GUESS} {why}; this folder is no git checkout: uncomment with the checkout's path",
            "# [build]", f"# repository = {_value(str(checkout))}"]


def _revision_line(model: dict, roles: Roles) -> list[str]:
    found = roles.framework
    if found:
        return [_line("revision_query", found.framework.revision_query(roles.engine),
                      None if found.certain else f"{found.framework.name} guessed from {found.why}: its migrations "
                                                 f"table {found.framework.table}")]
    if _alembic(model, roles):  # the config's default is Alembic's on Postgres
        return [_line("revision_query", BY_NAME["alembic"].revision_query(roles.engine))] \
            if roles.engine == "mariadb" else []
    return [_line("revision_query", "", "no migration framework seen: a SELECT returning your schema revision "
                                        "(e.g. from your migrations table), or \"\" for none")]


def _deploy_lines(model: dict, roles: Roles, images: dict | None) -> list[str]:
    """How the app migrates when it has no migrate service, and its start without the migrations it
    runs itself (start_migrations.py): the generated overlay applies both."""
    services = model.get("services") or {}
    lines = []
    if not roles.migrate:
        found = roles.framework
        if found:
            lines.append(_line("migrate_command", list(found.framework.migrate_command),
                               None if found.certain else f"{found.framework.name}'s migrate command, from {found.why}; "
                                                          f"run as a one-off in {roles.api}"))
        else:
            lines.append(_line("migrate_command", ["alembic", "upgrade", "head"],
                               f"no migration framework seen: the command that migrates, run as a one-off in {roles.api}"))
    offs, guessed = start_migrations.switch_offs(services, roles.app, images)
    if offs:
        table = ", ".join(f"{v} = {_value(off)}" for v, off in offs.items())
        lines.append(f"app_environment = {{ {table} }}   " + (
            f"{GUESS} {', '.join(guessed)} read by the image's entrypoint, which migrates: check the value that "
            "turns it off" if guessed else
            "# the app migrates on start otherwise: the suite migrates as its one-off, after a verified backup"))
    commands = [c for c in start_migrations.start_commands(services, roles.app) if c.without] \
        + start_migrations.config_file_commands(services, roles.app, images or {})
    if commands:
        table = ", ".join(f"{_value(c.service)} = {_value(list(c.without))}" for c in commands)
        lines.append(f"app_commands = {{ {table} }}   {GUESS} the start command without its migration step: check it")
    return ["", "[deploy]", *lines] if lines else []


def _url_lines(model: dict, roles: Roles, compose_files: list[Path]) -> list[str]:
    """For a database outside the stack: where its URL is, the drill server's image, and the schema
    revision query when the app shows no Alembic; for a SQLite file, its path; for MariaDB, the variables
    of the database service's credentials."""
    if roles.engine == "sqlite":
        return [_line("file", roles.sqlite_path.removeprefix("sqlite:").removeprefix("///"),
                      roles.guesses.get("database.file")), *_revision_line(model, roles)]
    if roles.engine == "mariadb":
        return [_line(f"{what}_variable", variable, roles.guesses.get(f"database.{what}_variable"))
                for what, variable in roles.credential_variables.items()] + _revision_line(model, roles)
    if roles.engine != "postgres-url":
        return _revision_line(model, roles)
    lines = [_line("url_variable", roles.database_url_variable),
             _line("url_service", roles.database_url_service)]
    # compose reads the project directory's .env: the file a disaster restore edits to switch databases
    dot_env = Path(compose_files[0]).parent / ".env"
    if dot_env.is_file() and re.search(rf"^\s*{re.escape(roles.database_url_variable)}\s*=", dot_env.read_text(), re.M):
        lines.append(_line("url_file", str(dot_env), f"the file that sets {roles.database_url_variable}"))
    lines += [
             _line("server_image", "postgres:{major}", "the image a drill restores into, at the backed-up "
                                                       "server's major version ({major})")]
    return lines + _revision_line(model, roles)


def _alembic(model: dict, roles: Roles) -> bool:
    services = model.get("services") or {}
    return any("alembic" in command_text(services[n]) for n in (roles.migrate, roles.api) if n in services)
