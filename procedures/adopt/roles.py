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

_DATABASE_IMAGES = ("postgres", "postgis", "timescale")
_PROXY_IMAGES = ("caddy", "nginx", "traefik", "haproxy", "envoy")
_POSTGRES_DATA = "/var/lib/postgresql"
MIGRATION_WORDS = re.compile(r"alembic\s+upgrade|\bmigrat", re.I)
_BACKUP_WORDS = re.compile(r"backup|pg_dump|rclone|\bcron", re.I)
_WORKER_WORDS = re.compile(r"worker|celery|\brq\b|outbox|scheduler|queue", re.I)
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


def find_database(model: dict, roles: Roles) -> None:
    services = model.get("services") or {}
    candidates = sorted(
        name for name, service in services.items()
        if any(word in (service.get("image") or "").lower() for word in _DATABASE_IMAGES)
        and any(m.get("target", "").startswith(_POSTGRES_DATA) or m.get("target") == _environment(service).get("PGDATA")
                for m in _mounts(service)))
    roles.database = _choose(candidates, "database", "[services] database",
                             f"a postgres image mounting a volume at {_POSTGRES_DATA}")
    if roles.database:
        service = services[roles.database]
        for mount in _mounts(service):
            if mount.get("type") == "volume" and (mount.get("target", "").startswith(_POSTGRES_DATA)
                                                  or mount.get("target") == _environment(service).get("PGDATA")):
                roles.database_volume = _volume_of(model, mount)
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
    raise ConfigError("no database service found: looked for a postgres image mounting a volume at "
                      f"{_POSTGRES_DATA}, a DATABASE_URL to a host outside the stack and a SQLite file path; "
                      "name the database service with [services] database = \"...\"")


def find_one_offs(model: dict, roles: Roles) -> None:
    services = model.get("services") or {}
    completed = {dep for service in services.values()
                 for dep, spec in (service.get("depends_on") or {}).items() if (spec or {}).get("condition") == COMPLETED}
    roles.one_offs = sorted(completed)
    migrations = sorted(name for name in services if name in completed or services[name].get("restart") == "no"
                        if MIGRATION_WORDS.search(f"{name} {command_text(services[name])}"))
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
    services = model.get("services") or {}
    by_image = sorted(n for n, s in services.items() if any(w in (s.get("image") or "").lower() for w in _PROXY_IMAGES))
    by_port = sorted(n for n, s in services.items()
                     if any(int(p.get("target") or 0) in (80, 443) and p.get("published") for p in s.get("ports") or []))
    both = [n for n in by_image if n in by_port]
    roles.proxy = _choose(both or by_image or by_port, "reverse proxy", "[services] proxy",
                          f"an image of {', '.join(_PROXY_IMAGES)} or a service publishing 80/443")


def find_app(model: dict, roles: Roles) -> None:
    services = model.get("services") or {}
    taken = {roles.database, roles.proxy, *roles.one_offs, roles.migrate,
             *(m["service"] for m in roles.backup_machinery)}
    candidates = sorted(n for n in services if n not in taken and n not in roles.profile_only)
    behind_proxy = [n for n in (services.get(roles.proxy, {}).get("depends_on") or {}) if n in candidates]
    named = [n for n in candidates if n in ("api", "backend", "app", "web", "server")]
    api = (behind_proxy or named or candidates or [None])[0]
    if api is None:
        raise ConfigError("no app service found besides the database, proxy, one-offs and backup machinery; "
                          "name them with [services] app = [\"...\"]")
    if not behind_proxy:
        roles.guesses["services.app"] = f"{api} taken for the api by its name or order; the proxy does not depend on it"
    repository = image_repository(services[api].get("image") or "")
    roles.api = api
    roles.app = [api] + sorted(n for n in candidates if n != api
                               and image_repository(services[n].get("image") or "") == repository)
    database_key = roles.database_volume.key if roles.database_volume else None
    holders = [n for n in roles.app if roles.engine == "sqlite" and database_key
               and any(m.get("type") == "volume" and m.get("source") == database_key for m in _mounts(services[n]))]
    workers = [n for n in roles.app[1:] if n not in holders and _WORKER_WORDS.search(f"{n} {command_text(services[n])}")]
    roles.single_instance = [n for n in roles.app if n in holders or n in workers]
    roles.uploads = sorted({m["source"] for n in roles.app for m in _mounts(services[n])
                            if m.get("type") == "volume" and m.get("source") and m["source"] != database_key})
    why = ([f"{', '.join(holders)} {'holds' if len(holders) == 1 else 'hold'} the SQLite database "
            f"{roles.sqlite_path} (one copy only)"] if holders else []) \
        + ([f"{', '.join(workers)} named or run like a worker"] if workers else [])
    if why:
        roles.guesses["services.single_instance"] = "; ".join(why) + ": confirm two copies must never run at once"


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
