"""Who does what in a rendered compose model: database, app, workers, proxy, one-offs, backup machinery.

Pure logic over the model. Every answer that rests on a name or a habit rather than on the model's
own facts carries the reason it is a guess, so the proposed config can mark it.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..compose_model import COMPLETED, image_repository
from ..errors import ConfigError
from .frameworks import Found, identify
from .start_migrations import MIGRATION_STEP

_DATABASE_IMAGES = ("postgres", "postgis", "timescale", "pgvector")
_PROXY_IMAGES = ("caddy", "nginx", "traefik", "haproxy", "envoy")
_POSTGRES_DATA = "/var/lib/postgresql"
# MariaDB, and MySQL (the same data directory and client protocol), both backed up by engine "mariadb".
_MARIADB_IMAGES = ("mariadb", "mysql")
_MARIADB_DATA = "/var/lib/mysql"
# The official images' credential variables, MARIADB_* first (mariadb reads both, mysql only MYSQL_*).
_MARIADB_CREDENTIALS = {"user": ("MARIADB_USER", "MYSQL_USER"), "password": ("MARIADB_PASSWORD", "MYSQL_PASSWORD"),
                        "name": ("MARIADB_DATABASE", "MYSQL_DATABASE")}
# Off-the-shelf services an app runs beside it: never its api, never its release.
_INFRASTRUCTURE_IMAGES = re.compile(r"redis|valkey|memcached|rabbitmq|elasticsearch|opensearch|meilisearch|clickhouse"
                                    r"|minio|mongo|kafka|zookeeper|postgres|mariadb|mysql|pgvector", re.I)
_BACKUP_WORDS = re.compile(r"backup|pg_dump|rclone|\bcron", re.I)
_WORKER_WORDS = re.compile(r"worker|celery|\brq\b|outbox|scheduler|queue|sidekiq|\bbeat\b|rqworker", re.I)
# A name says worker by its last word (n8n-worker, celery_beat, taiga-async), not by a word inside it
# (n8n-worker-runner is the worker's task runner); a queue technology anywhere in the name says it too.
_WORKER_NAME_END = re.compile(r"(^|[-_])(worker|workers|beat|scheduler|async|sidekiq)$", re.I)
_QUEUE_NAME = re.compile(r"celery|\brq\b|outbox|queue|sidekiq", re.I)
# What public apps call their api service (a weak hint, after the model's facts; the corpus's 32 files).
_API_NAMES = ("api", "backend", "app", "web", "server", "webserver")
_SQLITE_FILE = re.compile(r"(^sqlite:|\.(db|sqlite3?)$)", re.I)


@dataclass(frozen=True)
class DatabaseVolume:
    key: str  # the compose key (pgdata, postgres_data, ...)
    name: str  # the volume's real name as rendered (<project>_postgres_data, or the external name)
    external: bool
    target: str  # where the database service mounts it


@dataclass
class Roles:
    database: str | None = None
    engine: str = "postgres"
    database_volume: DatabaseVolume | None = None
    database_url_host: str | None = None  # a DATABASE_URL host outside the stack (ZakOps' shape)
    database_url_variable: str | None = None  # ... the variable holding it, and the service whose it is
    database_url_service: str | None = None
    sqlite_path: str | None = None  # a SQLite file in a volume (LazyFlow's shape)
    database_data: str = "volume"  # where the database service keeps its data: volume, bind (host path) or none
    database_bind: str | None = None  # ... the host path, for a bind mount
    api: str | None = None
    app: list[str] = field(default_factory=list)
    single_instance: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)  # the app's named volumes, but the database's
    proxy: str | None = None
    one_offs: list[str] = field(default_factory=list)
    migrate: str | None = None
    backup_machinery: list[dict] = field(default_factory=list)
    guesses: dict[str, str] = field(default_factory=dict)  # setting -> why it is a guess
    profile_only: list[str] = field(default_factory=list)  # in a profile compose does not turn on: never app
    framework: Found | None = None  # the migration framework (frameworks.py), from the model and images
    # The database service's credential variables (user, password, name -> variable), where the engine reads
    # them; with a guess for each it does not set.
    credential_variables: dict[str, str] = field(default_factory=dict)


def find_framework(model: dict, roles: Roles, image_files: dict[str, list[str]] | None = None) -> None:
    """The migration framework of the migrate service or the app, surest fact first (frameworks.identify)."""
    names = [n for n in (roles.migrate, *roles.app) if n]
    roles.framework = identify(model.get("services") or {}, names, image_files or {})


def image_tag(image: str) -> str | None:
    """The tag of an image reference, None when it has none (then docker means latest)."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def command_text(service: dict) -> str:
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts.append(" ".join(value) if isinstance(value, list) else str(value))
    return " ".join(parts)


def _environment(service: dict) -> dict:
    return service.get("environment") or {}


def _mounts(service: dict) -> list[dict]:
    return [m for m in service.get("volumes") or [] if isinstance(m, dict)]


def _choose(candidates: list[str], role: str, key: str, looked_for: str) -> str | None:
    if len(candidates) > 1:
        raise ConfigError(f"several services could be the {role}: {', '.join(candidates)}; name it with "
                          f"{key} = \"...\" (looked for {looked_for})")
    return candidates[0] if candidates else None


def _volume_of(model: dict, mount: dict) -> DatabaseVolume:
    volume = (model.get("volumes") or {}).get(mount["source"]) or {}
    return DatabaseVolume(mount["source"], volume.get("name") or mount["source"], bool(volume.get("external")),
                          mount["target"])


def _data_mounts(service: dict, data: str) -> list[dict]:
    return [m for m in _mounts(service) if m.get("target", "").startswith(data)
            or (data == _POSTGRES_DATA and m.get("target") == _environment(service).get("PGDATA"))]


def _database_candidates(services: dict, images: tuple[str, ...], data: str) -> list[str]:
    """Services that run the engine: its image, or its data directory mounted (pgvector, a built image);
    the app's own backup tools on the same image are not the database."""
    return sorted(name for name, service in services.items()
                  if (any(word in (service.get("image") or "").lower() for word in images)
                      or _data_mounts(service, data))
                  and not _BACKUP_WORDS.search(f"{name} {command_text(service)}"))


def _database_service(model: dict, roles: Roles, candidates: list[str], data: str, looked_for: str) -> None:
    services = model["services"]
    # A database with its data directory mounted beats one with none (listmonk's demo-db beside db).
    mounted = [n for n in candidates if _data_mounts(services[n], data)]
    roles.database = _choose(mounted or candidates, "database", "[services] database", looked_for)
    mounts = _data_mounts(services[roles.database], data)
    volume = next((m for m in mounts if m.get("type") == "volume" and m.get("source")), None)
    bind = next((m for m in mounts if m.get("type") == "bind"), None)
    if volume is not None:
        roles.database_volume = _volume_of(model, volume)
    elif bind is not None:
        roles.database_data, roles.database_bind = "bind", bind.get("source")
    else:
        roles.database_data = "none"


def find_database(model: dict, roles: Roles) -> None:
    services = model.get("services") or {}
    candidates = _database_candidates(services, _DATABASE_IMAGES, _POSTGRES_DATA)
    if candidates:
        _database_service(model, roles, candidates, _POSTGRES_DATA,
                          f"a postgres image or a service mounting {_POSTGRES_DATA}")
        return
    candidates = _database_candidates(services, _MARIADB_IMAGES, _MARIADB_DATA)
    if candidates:
        roles.engine = "mariadb"
        _database_service(model, roles, candidates, _MARIADB_DATA,
                          f"a mariadb or mysql image or a service mounting {_MARIADB_DATA}")
        _mariadb_facts(services[roles.database], roles)
        return
    for name, service in sorted(services.items()):
        for key, value in _environment(service).items():
            text = str(value or "")
            if key.upper().endswith("DATABASE_URL") and "://" in text and not text.startswith("sqlite"):
                host = urlsplit(text.replace("+psycopg2", "").replace("+asyncpg", "")).hostname
                if host and host not in services:
                    roles.engine, roles.database_url_host = "postgres-url", host
                    roles.database_url_variable, roles.database_url_service = key, name
                    roles.guesses["database.engine"] = f"no database service; {name}'s {key} points at {host}, outside the stack"
                    return
            if _SQLITE_FILE.search(text) and "/" in text:
                roles.engine, roles.sqlite_path, roles.database = "sqlite", text, None
                path = text.removeprefix("sqlite:").removeprefix("///")
                holder = next((m for m in _mounts(service) if m.get("type") == "volume"
                               and path.startswith(m.get("target", "").rstrip("/") + "/")), None)
                if holder is not None:
                    roles.database_volume = _volume_of(model, holder)
                roles.guesses["database.engine"] = f"no database service; {name}'s {key} = {text} looks like a SQLite file"
                return
    roles.engine = ""  # nothing yet: find_app looks for a SQLite file on the api's data volume


def _mariadb_facts(service: dict, roles: Roles) -> None:
    """What the image says of the engine (MySQL is backed up as MariaDB is: a guess to check), and the
    credential variables the service really sets (bookstack's MYSQL_USER, the mariadb image's MARIADB_USER)."""
    image = (service.get("image") or "").lower()
    if "mariadb" not in image:
        runs = f"runs {service.get('image')}" if "mysql" in image else f"mounts {_MARIADB_DATA} (MariaDB or MySQL)"
        roles.guesses["database.engine"] = (f"{roles.database} {runs}: the mariadb engine's mariadb-dump was never "
                                            "tried on a MySQL server (docs/ADOPTING.md section 9); check the first "
                                            "backup and drill")
    env = _environment(service)
    for what, names in _MARIADB_CREDENTIALS.items():
        found = next((n for n in names if n in env), None)
        roles.credential_variables[what] = found or names[0]
        if found is None:
            roles.guesses[f"database.{what}_variable"] = (f"{roles.database} sets neither {' nor '.join(names)}: "
                                                          f"the variable of its environment holding the {what}")


def _sqlite_on_data_volume(model: dict, roles: Roles) -> None:
    """No database service, URL or file path: an app keeping SQLite at its default path, in its data volume
    (paperless, mealie). The volume is a fact; the file's name is the app's, so it is a guess."""
    service = model["services"][roles.api]
    named = [m for m in _mounts(service) if m.get("type") == "volume" and m.get("source")]
    data = [m for m in named if re.search(r"data", f"{m['source']} {m.get('target', '')}", re.I)]
    chosen = data[:1] or (named if len(named) == 1 else [])
    if not chosen:
        raise ConfigError("no database service found: looked for a postgres, mariadb or mysql image or data "
                          f"directory, a DATABASE_URL to a host outside the stack, a SQLite file path and a data "
                          f"volume of {roles.api}; name the database service with [services] database = \"...\"")
    said = next((f"{k}={v}" for k, v in _environment(service).items() if str(v).lower() in ("sqlite", "sqlite3")), None)
    roles.engine, roles.database_volume = "sqlite", _volume_of(model, chosen[0])
    roles.sqlite_path = chosen[0]["target"].rstrip("/") + "/"
    roles.guesses["database.engine"] = (f"no database service; {said or 'no database in sight'}: a SQLite file in "
                                        f"{roles.api}'s data volume {chosen[0]['source']}")
    roles.guesses["database.file"] = (f"the SQLite file's name in {roles.sqlite_path} is the app's own (its "
                                      "documentation names it): give its whole path")


def find_one_offs(model: dict, roles: Roles) -> None:
    services = model.get("services") or {}
    completed = {dep for service in services.values()
                 for dep, spec in (service.get("depends_on") or {}).items() if (spec or {}).get("condition") == COMPLETED}
    # A task that ends by exiting and is never restarted runs once too (plane's createbuckets).
    exiting = {name for name, service in services.items() if service.get("restart") in (None, "", "no")
               and re.search(r"\bexit\s+0\W*$", command_text(service).strip())}
    roles.one_offs = sorted(completed | exiting)
    migrations = sorted(name for name in services if name in completed or services[name].get("restart") == "no"
                        if MIGRATION_STEP.search(f"{name} {command_text(services[name])}"))
    roles.migrate = _choose(migrations, "migration task", "[services] migrate",
                            "a one-off whose name or command says alembic upgrade or migrate")


def find_backup_machinery(model: dict, roles: Roles) -> None:
    for name, service in sorted((model.get("services") or {}).items()):
        if name == roles.database:
            continue
        said = _BACKUP_WORDS.findall(f"{name} {command_text(service)}")
        if said:
            roles.backup_machinery.append({"service": name, "why": sorted({w.lower() for w in said}),
                                           "profiles": service.get("profiles") or [],
                                           "mounts": [m.get("source") for m in _mounts(service)]})


def find_proxy(model: dict, roles: Roles) -> None:
    # A proxy only in a profile compose does not turn on serves nothing (an operator's override parking the
    # app's own Caddy): taking it would plan switches behind a proxy that never runs.
    services = {n: s for n, s in (model.get("services") or {}).items() if n not in roles.profile_only}
    by_image = sorted(n for n, s in services.items() if any(w in (s.get("image") or "").lower() for w in _PROXY_IMAGES))
    by_port = sorted(n for n, s in services.items()
                     if any(int(p.get("target") or 0) in (80, 443) and p.get("published") for p in s.get("ports") or []))
    both = [n for n in by_image if n in by_port]
    # A service facing 80/443 is the front door, before an image that only mentions a proxy (nextcloud's
    # letsencrypt-nginx-proxy-companion).
    roles.proxy = _choose(both or by_port or by_image, "reverse proxy", "[services] proxy",
                          f"an image of {', '.join(_PROXY_IMAGES)} or a service publishing 80/443")


def release_identity(service: dict) -> tuple:
    """What a release moves together: the image (repository and tag), or, with no image, the build."""
    image = service.get("image")
    if image:
        return ("image", image_repository(image), image_tag(image))
    build = service.get("build") or {}
    return ("build", build.get("context"), build.get("dockerfile"), build.get("target"))


def _same_release(service: dict, api: dict) -> bool:
    """The api's image or build, or an image of the same project at the same pinned tag (mastodon-streaming
    beside mastodon at v4.3.17, immich-machine-learning beside immich-server)."""
    if release_identity(service) == release_identity(api):
        return True
    image, api_image = service.get("image") or "", api.get("image") or ""
    tag = image_tag(image)
    return bool(image and api_image and tag and tag == image_tag(api_image) and tag != "latest"
                and re.search(r"\d", tag) and _namespace(image) == _namespace(api_image))


def _namespace(image: str) -> str:
    path = image_repository(image).split("/")
    if len(path) > 1 and ("." in path[0] or ":" in path[0]):
        path = path[1:]  # the registry's host
    return "/".join(path[:-1])


def worker_like(name: str, service: dict) -> bool:
    return bool(_WORKER_WORDS.search(command_text(service)) or _WORKER_NAME_END.search(name)
                or _QUEUE_NAME.search(name))


def _serves(service: dict) -> bool:
    return bool(service.get("ports") or service.get("expose"))


def _api_rank(model: dict, roles: Roles, candidates: list[str], name: str) -> tuple:
    """Higher is likelier the api: not an off-the-shelf service, not a worker, depended on by the app's
    other services (plane-api, lemmy), built here, behind the proxy, named so, serving a port, on the image
    most services share."""
    services = model["services"]
    service = services[name]
    behind_proxy = name in (services.get(roles.proxy, {}).get("depends_on") or {})
    depended = sum(name in (services[other].get("depends_on") or {}) for other in candidates if other != name)
    sharing = sum(release_identity(services[other]) == release_identity(service) for other in candidates)
    return (not _INFRASTRUCTURE_IMAGES.search(service.get("image") or ""), not worker_like(name, service), depended,
            bool(service.get("build")), behind_proxy, name in _API_NAMES,
            _serves(service), sharing)


def find_app(model: dict, roles: Roles) -> None:
    services = model.get("services") or {}
    taken = {roles.database, roles.proxy, *roles.one_offs, roles.migrate,
             *(m["service"] for m in roles.backup_machinery)}
    candidates = sorted(n for n in services if n not in taken and n not in roles.profile_only)
    if not candidates:
        raise ConfigError("no app service found besides the database, proxy, one-offs and backup machinery; "
                          "name them with [services] app = [\"...\"]")
    ranks = {n: _api_rank(model, roles, candidates, n) for n in candidates}
    api = min(n for n in candidates if ranks[n] == max(ranks.values()))  # a tie: the first name
    if api not in (services.get(roles.proxy, {}).get("depends_on") or {}):
        roles.guesses["services.app"] = f"{api} taken for the api by its name or order; the proxy does not depend on it"
    roles.api = api
    roles.app = [api] + sorted(n for n in candidates if n != api and _same_release(services[n], services[api])
                               and not _INFRASTRUCTURE_IMAGES.search(services[n].get("image") or ""))
    if roles.engine == "":
        _sqlite_on_data_volume(model, roles)
    if roles.migrate is None:
        _init_as_migrate(model, roles)
    database_key = roles.database_volume.key if roles.database_volume else None
    holders = [n for n in roles.app if roles.engine == "sqlite" and database_key
               and any(m.get("type") == "volume" and m.get("source") == database_key for m in _mounts(services[n]))]
    workers = [n for n in roles.app[1:] if n not in holders and worker_like(n, services[n])]
    roles.single_instance = [n for n in roles.app if n in holders or n in workers]
    roles.uploads = sorted({m["source"] for n in roles.app for m in _mounts(services[n])
                            if m.get("type") == "volume" and m.get("source") and m["source"] != database_key})
    why = ([f"{', '.join(holders)} {'holds' if len(holders) == 1 else 'hold'} the SQLite database "
            f"{roles.sqlite_path} (one copy only)"] if holders else []) \
        + ([f"{', '.join(workers)} named or run like a worker"] if workers else [])
    if why:
        roles.guesses["services.single_instance"] = "; ".join(why) + ": confirm two copies must never run at once"


def _init_as_migrate(model: dict, roles: Roles) -> None:
    """The one init task the app waits for, on the app's own image or build, is where its schema is set up
    (superset-init runs `superset db upgrade`): a guess the operator confirms."""
    services = model["services"]
    inits = [n for n in roles.one_offs if release_identity(services[n]) == release_identity(services[roles.api])]
    if len(inits) == 1:
        roles.migrate = inits[0]
        roles.guesses["services.migrate"] = (f"{inits[0]}, the one-off the app waits for on its own image, taken for "
                                             "the migration: confirm it migrates the schema")


def find_roles(model: dict, active: frozenset[str] | None = None) -> Roles:
    """Every role the suite needs, from the rendered model (every profile's services); refuses (ConfigError)
    where none or several fit. active: the services plain `docker compose up` starts (None: all of them);
    the others run only when their profile is asked for, so a deploy must never start one as the app."""
    roles = Roles()
    if active is not None:
        roles.profile_only = sorted(set(model.get("services") or {}) - set(active))
    find_database(model, roles)
    find_one_offs(model, roles)
    find_backup_machinery(model, roles)
    find_proxy(model, roles)
    find_app(model, roles)
    find_framework(model, roles)
    return roles
