"""Typed, frozen configuration loaded once from a TOML file and checked at load.

The schema is the dataclasses below: every key's type and range is its annotation, and pydantic (v2)
checks a whole file against them at once. pydantic rather than msgspec: it validates these stdlib
dataclasses as they are (callers build them and `dataclasses.replace` them, so they stay plain frozen
dataclasses), forbids unknown keys at every level, and reports every error of the file together with
its location; msgspec stops at the first error and ignores unknown keys of a dataclass. This file went
from 712 lines of hand-written checks to 567; the generic part (words for a type, the TOML path of an
error, the message, shared with the generated doc) is procedures/config_schema.py. What no annotation can say
(files that must exist, keys that must agree with each other) is checked after, in `_problems`; the
engine's own keys are checked by the engine (procedures/load.py). Every error becomes one ConfigError
naming the key's TOML path, what was found, what is expected and the fix (procedures/config_schema.py);
several are reported together. The keys' reference, generated from this schema: docs/CONFIG.md.
"""

import json
import posixpath
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Iterator

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError, with_config

from . import config_schema
from .errors import ConfigError
from .guards import THROWAWAY_VOLUME_PREFIX

SUITE_SERVICE_PREFIX = "opsuite-"
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STRICT = ConfigDict(extra="forbid", strict=True)


def _text(pattern: str, meaning: str, **more):
    """A string that matches pattern; meaning says in words what it takes."""
    return Annotated[str, Field(pattern=pattern, description=meaning, **more)]


def _pairs(value: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in value.items()))


# A TOML table of environment variables, kept as sorted (name, value) pairs.
EnvName = _text(_ENV_NAME, "a variable name in quotes (letters, digits, _)")
Variables = Annotated[dict[EnvName, str], AfterValidator(_pairs)]
Count = Annotated[int, Field(ge=0)]
AtLeastOne = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0)]
UrlPath = _text(r"^(/.*)?$", "a path starting with '/' (or \"\" for none), in quotes")
ProjectName = _text(r"^[a-z0-9][a-z0-9_-]*$", "a compose project name: lowercase letters, digits, '-' and '_', "
                    "starting with a letter or digit", examples=["shop"])
Files = Annotated[tuple[Path, ...], Field(min_length=1, examples=[["docker-compose.yml", "docker-compose.prod.yml"]],
                                         description="a list of compose files, base first, at least one")]


@with_config(_STRICT)
@dataclass(frozen=True)
class StackConfig:
    project: ProjectName
    compose_files: Files
    env_file: Path | None = None
    environment: str = "prod"
    # One operation at a time per stack: deploy, rollback, backup, restore and volume switch share it.
    lock_dir: str = "/var/lib/opsuite/locks"
    # Where the suite writes the overlay it generates from this config for a stack it did not create
    # (procedures/overlay.py); it is the last of compose_files. None: compose_files are complete as
    # listed (the example lists the shipped docker-compose.prod.yml).
    overlay: Path | None = None

    @property
    def app_files(self) -> tuple[Path, ...]:
        """The compose files without the generated overlay: the app's own, as it ran before the suite."""
        return tuple(p for p in self.compose_files if p != self.overlay)


SuiteService = _text(f"^{SUITE_SERVICE_PREFIX}", f"a service name with the reserved prefix {SUITE_SERVICE_PREFIX!r}, "
                     "so the suite's own services never merge into an app service of the same name")


@with_config(_STRICT)
@dataclass(frozen=True)
class ServiceNames:
    database: str = "db"
    app: tuple[str, ...] = ("api", "email-worker")
    single_instance: tuple[str, ...] = ("email-worker",)
    proxy: str = "reverse-proxy"
    # A proxy that another compose project runs in front of this one (a shared Traefik on an external
    # network): its container's name. The suite reads its config to decide each switch, and never
    # recreates it; set [services] proxy = "" then.
    proxy_container: str = ""
    # The app's own migrate service; "" when it has none (then [deploy] migrate_command runs in the
    # first app service, as a one-off).
    migrate: str = "migrate"
    # The suite's backup service, from the prod overlay; the reserved prefix keeps it from merging
    # into an app service of the same name.
    backup: SuiteService = "opsuite-backup"

    @property
    def serving(self) -> list[str]:
        """What a release switch recreates: the app services and the proxy, when there is one."""
        return [*self.app, *([self.proxy] if self.proxy else [])]


# The compose variable each switchable [volumes] setting is given as (overlays, env files, compose runs).
VOLUME_VARIABLES = {"database": "PGDATA_VOLUME", "uploads_volume": "UPLOADS_VOLUME"}


@with_config(_STRICT)
@dataclass(frozen=True)
class VolumeNames:
    database: str = "zenops_pgdata"
    backups: str = "backups"
    uploads: str = "uploads"  # the compose key of the app's uploads volume ("" when it keeps no files)
    # The real name of the uploads volume the stack uses; "" is the name the compose files give it.
    # A disaster restore sets it to the volume it restored the uploads into (UPLOADS_VOLUME for compose).
    uploads_volume: str = ""
    rclone_config: str = "rclone_config"


# Alembic's revision, '' while the table does not exist yet (a new database).
ALEMBIC_REVISION_QUERY = ("SELECT CASE WHEN to_regclass('alembic_version') IS NULL THEN '' "
                          "ELSE (SELECT string_agg(version_num, ',') FROM alembic_version) END")


@with_config(_STRICT)
@dataclass(frozen=True)
class DatabaseConfig:
    """The engine's keys are typed here and checked for what they mean by the engine (its check_config)."""
    engine: str = "postgres"
    user_variable: str = "POSTGRES_USER"
    password_variable: str = "POSTGRES_PASSWORD"
    name_variable: str = "POSTGRES_DB"
    # The app's schema revision: a query returning one value, recorded in every manifest and compared
    # after a restore. "" when the app records none (then both sides are "").
    revision_query: str = ALEMBIC_REVISION_QUERY
    # engine = "postgres-url": the app's variable holding the URL, the app service whose environment
    # carries it (default: the first [services] app), and the env file it is written in (default:
    # [stack] env_file), which a disaster restore edits to switch databases.
    url_variable: str = "DATABASE_URL"
    url_service: str = ""
    url_file: str = ""
    # The image of the throwaway server a drill restores into when no service of the stack runs the
    # database; {major} is the backed-up server's major version, so the drill restores into the same.
    server_image: str = "postgres:{major}"
    # engine = "sqlite": the database file as the app service mounting [volumes] database sees it.
    file: str = ""


BaseUrl = _text(r"^https?://", "a URL starting with http:// or https://")


@with_config(_STRICT)
@dataclass(frozen=True)
class HttpConfig:
    base_url: BaseUrl = "http://127.0.0.1:8080"
    health_path: UrlPath = "/healthz"
    ready_path: UrlPath = "/readyz"
    # Which release serves: the JSON field `version_field` (dotted for nested, e.g. "build" or
    # "release.version") of version_path's answer; version_path = "" turns the HTTP check off and
    # the running app containers' image tag and id are the proof instead.
    version_path: UrlPath = "/version"
    version_field: str = "version"
    ready_timeout_seconds: Seconds = 120.0
    # https with a private CA or a self-signed certificate: a CA bundle to trust, or (explicitly)
    # no verification at all.
    ca_file: str = ""
    insecure: bool = False

    @property
    def verify(self) -> str | bool:
        """What httpx verifies the server's certificate against."""
        return self.ca_file or not self.insecure


HostPath = _text(r"^/[^:,\n]*$", "an absolute host path without ':' or ',', e.g. \"/srv/shop/data\"")


@with_config(_STRICT)
@dataclass(frozen=True)
class BackupConfig:
    directory: str = "/backups"
    local_keep_days: Annotated[int, Field(ge=14, le=30)] = 14  # the brief's policy
    # Seed 001's rotation: 2 daily slots, a weekly, a fortnightly and a monthly, beyond the window.
    daily: Count = 2
    weekly: Count = 1
    fortnightly: Count = 1
    monthly: Count = 1
    uploads_archive: bool = True  # back up the uploads at all (the name predates the store)
    # Each distinct uploads file once in <directory>/uploads-store and offsite (docs/BACKUPS.md section
    # 10); false writes a full <set>.uploads.tar.gz into every set instead, as before.
    uploads_store: bool = True
    uploads_path: str = "/uploads"
    # The suite's backup image (pg_dump of the server's major version, rclone) in a generated overlay;
    # scripts/build-images.sh builds it from backup-image/.
    image: str = "opsuite-local/backup:pg15"
    min_free_bytes: Count = 512 * 1024 * 1024
    free_space_factor: Annotated[float, Field(ge=0)] = 2.0
    # Pruning is refused when "now" is further than this past the newest earlier backup (a clock
    # running ahead would delete history); a nightly schedule leaves a day and a margin.
    max_clock_gap_hours: AtLeastOne = 48
    # Host directories (or files) of the app kept on bind mounts, archived into each set
    # (<set>.paths.tar.gz, docs/BACKUPS.md): absolute, existing, never /.
    paths: Annotated[tuple[HostPath, ...], Field(description="a list of absolute host paths, e.g. [\"/srv/shop/data\"]")] = ()


@with_config(_STRICT)
@dataclass(frozen=True)
class OffsiteConfig:
    enabled: bool = True
    remote: str = "gdrive:ZenOpsBackups"
    keep_days: AtLeastOne = 30
    # Older generations offsite, so corruption noticed late can still be undone: seed 001's tiers,
    # with a year of monthly sets.
    daily: Count = 2
    weekly: Count = 4
    fortnightly: Count = 2
    monthly: Count = 12
    # Offsite copies go through an rclone crypt remote (seeds 001, 004); plaintext only when said here.
    plaintext: bool = False
    # rclone's own --retries and --low-level-retries (its defaults): how long an unreachable remote is
    # tried before the backup fails naming it.
    retries: AtLeastOne = 3
    low_level_retries: AtLeastOne = 10

    def rclone_environment(self) -> dict[str, str]:
        """rclone reads every flag from RCLONE_<FLAG>, so the backup service gets these when it starts."""
        return {"RCLONE_RETRIES": str(self.retries), "RCLONE_LOW_LEVEL_RETRIES": str(self.low_level_retries)}

    def path(self, environment: str) -> str:
        """The remote folder of one environment: <remote>/<env>/ (the brief's default layout)."""
        return f"{self.remote.rstrip('/')}/{environment}"


Secret = Annotated[str, Field(pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$", description="the name of a variable of the "
                              "secrets file, e.g. \"OFFSITE_CRYPT_PASSWORD\" (never the secret itself), or \"\"")]
Option = _text(_ENV_NAME, "an rclone option name (letters, digits, _)")
RemoteName = _text(r"^([A-Za-z0-9_][A-Za-z0-9_. -]*[A-Za-z0-9_]|[A-Za-z0-9_])$",
                   "an rclone remote name (letters, digits, _ . - and spaces), e.g. \"gdrive\"")


@with_config(_STRICT)
@dataclass(frozen=True)
class OffsiteSetupConfig:
    """How ops_checks/offsite_setup.py creates the offsite remotes (docs/BACKUPS.md section 3). Secrets are
    never written here: each secret option names a variable of the secrets file ([stack] env_file unless
    secrets_file is set), read once and never logged."""
    backend: str = ""  # an rclone backend type (drive, sftp, s3, ...); empty: the suite sets nothing up
    # the remote the storage is reached by; the crypt remote wraps it
    base_remote: RemoteName = "gdrive"
    crypt_folder: str = "encrypted"  # the folder of base_remote the crypt remote keeps its objects in
    options: dict[Option, str] = field(default_factory=dict)  # the backend's options that are not secret
    secret_options: dict[Option, Secret] = field(default_factory=dict)  # backend option -> variable holding it
    crypt_password: Secret = "OFFSITE_CRYPT_PASSWORD"  # variable holding the crypt password
    crypt_salt: Secret = ""  # variable holding the crypt salt (rclone's password2), if one is kept
    secrets_file: str = ""  # a file only root can read, KEY=value lines; empty: [stack] env_file


@with_config(_STRICT)
@dataclass(frozen=True)
class RetentionConfig:
    """Limits on what retention may delete, local and offsite alike (docs/BACKUPS.md section 1); the
    windows and tiers stay in [backup] and [offsite]."""
    # Never fewer verified sets than this kept in each place (Barman's minimum_redundancy).
    min_sets: AtLeastOne = 3
    # More deletions than this in one run (per place, in sets) are refused unless --allow-mass-prune.
    max_deletions_per_run: AtLeastOne = 10
    # An uploads store object younger than this is never collected, referenced or not: a set being
    # written, or one a listing failed to show, may still need it.
    store_grace_hours: Annotated[float, Field(ge=1)] = 48.0


SMOKE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
Status = Annotated[int, Field(ge=100, le=599)]
SmokePath = _text("^/", "a path starting with '/', in quotes", examples=["/healthz"])
HttpMethod = Annotated[_text(f"(?i)^({'|'.join(SMOKE_METHODS)})$", f"an HTTP method: {', '.join(SMOKE_METHODS)}"),
                       AfterValidator(str.upper)]
HeaderName = _text(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", "a header name, e.g. \"Authorization\"")
JsonField = _text(".", "a dotted JSON field, e.g. \"user.active\"")


@with_config(_STRICT)
@dataclass(frozen=True)
class SmokeCheck:
    path: SmokePath
    status: Status = 200
    contains: str = ""
    method: HttpMethod = "GET"
    # Any of these answers passes (e.g. [200, 401] for a page that must not fail); empty: `status`.
    statuses: tuple[Status, ...] = ()
    # Header -> the environment variable holding its value (seed 003's authenticated checks): the
    # value is read when the check runs and is never written to the config, a log or a report.
    headers: Annotated[dict[HeaderName, EnvName], AfterValidator(_pairs)] = ()
    # Dotted JSON field -> the value the answer must carry there (e.g. { "status" = "ok" }).
    json_fields: Annotated[dict[JsonField, str | bool | int | float], AfterValidator(_pairs)] = ()

    @property
    def allowed(self) -> tuple[int, ...]:
        return self.statuses or (self.status,)


@with_config(_STRICT)
@dataclass(frozen=True)
class RehearsalConfig:
    # Variables set in every service of the rollback check's rehearsal (not its database), over the
    # app's own: turn jobs, mail and bots off in a copy that must not act (release/seal.py).
    environment: Variables = ()


@with_config(_STRICT)
@dataclass(frozen=True)
class DeployConfig:
    state_dir: str = "/var/lib/opsuite"
    min_free_bytes: Count = 1024 * 1024 * 1024
    smoke: tuple[SmokeCheck, ...] = (SmokeCheck("/healthz"),)
    migrate_command: tuple[str, ...] = ("alembic", "upgrade", "head")
    # Switch a stateless app service behind the proxy by starting the new container beside the old
    # one (docs/DEPLOYMENT_RUNBOOK.md section 9); false: compose recreates it (a short gap).
    start_first: bool = True
    # Before the live migration, rehearse it on a copy of the deploy's backup and start the serving
    # release on the result (release/rollback_check.py): a deploy after which the app could not be
    # rolled back stops unless --allow-irreversible. false: not rehearsed (the ledger says so).
    rollback_check: bool = True
    rehearsal: RehearsalConfig = field(default_factory=RehearsalConfig)
    # An image that migrates on start is started without it, so migrations run only as the one-off
    # step after a verified backup: variables set in every app service by the generated overlay
    # (e.g. DJANGO_PERFORM_MIGRATIONS = "False"), and app services' commands without the migration.
    app_environment: Variables = ()
    app_commands: Annotated[dict[str, Annotated[tuple[str, ...], Field(min_length=1)]], AfterValidator(_pairs)] = ()


@with_config(_STRICT)
@dataclass(frozen=True)
class RestoreConfig:
    jobs: AtLeastOne = 2
    sample_queries: tuple[str, ...] = ("SELECT version_num FROM alembic_version",)
    ready_timeout_seconds: Seconds = 120.0


@with_config(_STRICT)
@dataclass(frozen=True)
class TimeoutsConfig:
    """Seconds an external command may run before it is killed with its children (procedures/runner.py)."""
    command_seconds: Seconds = 600.0  # any other command: docker inspect, compose stop/pull, a listing, ...
    dump_seconds: Seconds = 6 * 3600.0  # pg_dump, SQLite's online backup, the uploads archive or store copy
    restore_seconds: Seconds = 6 * 3600.0  # pg_restore, a SQLite copy's restore, unpacking the uploads
    check_seconds: Seconds = 6 * 3600.0  # reading a whole set back: sha256sum, integrity check, rclone check
    copy_seconds: Seconds = 6 * 3600.0  # rclone's transfers to and from the offsite remote
    compose_up_seconds: Seconds = 900.0  # docker compose up: waits for the dependencies' health
    one_off_seconds: Seconds = 3600.0  # docker compose run: migrations and the app's one-off tasks
    build_seconds: Seconds = 3600.0  # docker compose build of a release ([build]), git archive of its ref
    # A psql session holds the dump's snapshot open for the whole pg_dump, so it outlives dump_seconds.
    session_seconds: Seconds = 6 * 3600.0 + 600.0
    # pg_dump --lock-wait-timeout: fail after this long instead of queueing behind a table lock.
    pg_lock_wait_seconds: AtLeastOne = 60


@with_config(_STRICT)
@dataclass(frozen=True)
class NotifyConfig:
    """Where the Apprise URLs of the scheduled checks' notifications are read from (never this file: they
    may hold tokens): a variable of [stack] env_file and/or a file only its owner can read."""
    urls_variable: str = ""  # one or more URLs, separated by spaces or commas
    urls_file: str = ""  # one URL per line; '#' starts a comment line
    on_success: bool = False  # failures always notify; successes too when true


@with_config(_STRICT)
@dataclass(frozen=True)
class FreshnessConfig:
    """How old the evidence of recoverability may be before ops_checks/freshness.py goes red."""
    # A nightly backup leaves a day and a margin for its randomized start and its run time.
    backup_max_age_hours: Seconds = 26.0
    offsite_max_age_hours: Seconds = 26.0
    # The drill is monthly (first Sunday): 35 days covers the longest gap between two first Sundays.
    drill_max_age_days: Seconds = 35.0


@with_config(_STRICT)
@dataclass(frozen=True)
class BuildConfig:
    """Images built on this server from the app's git checkout (docs/DEPLOYMENT_RUNBOOK.md section 11):
    `deploy --tag=REF` builds a git tag or commit of `repository` in a clean export, never its working tree."""
    # the app's git checkout (relative to the config's folder, or absolute)
    repository: Annotated[str, Field(min_length=1, description="the app's git checkout, in quotes",
                                     examples=["/srv/app"])]
    # Release images kept (by build time); the serving and the previous release's are always kept,
    # so a rollback needs no build.
    keep_releases: Annotated[int, Field(ge=2)] = 3


@with_config(_STRICT)
@dataclass(frozen=True)
class OpsConfig:
    stack: StackConfig
    services: ServiceNames = field(default_factory=ServiceNames)
    volumes: VolumeNames = field(default_factory=VolumeNames)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    offsite: OffsiteConfig = field(default_factory=OffsiteConfig)
    offsite_setup: OffsiteSetupConfig = field(default_factory=OffsiteSetupConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    restore: RestoreConfig = field(default_factory=RestoreConfig)
    timeouts: TimeoutsConfig = field(default_factory=TimeoutsConfig)
    # None: no [notify] section, so no notifications and nothing read.
    notify: NotifyConfig | None = None
    freshness: FreshnessConfig = field(default_factory=FreshnessConfig)
    # None: no [build] section, so release images come by TAG from a registry.
    build: BuildConfig | None = None
    source: Path | None = field(default=None, metadata={"not_a_key": True})  # the file it was read from

    @property
    def url_service(self) -> str:
        """The app service whose environment carries [database] url_variable."""
        return self.database.url_service or self.services.app[0]

    @property
    def url_file(self) -> Path | None:
        """The env file [database] url_variable is written in ([stack] env_file unless said)."""
        return Path(self.database.url_file) if self.database.url_file else self.stack.env_file


_SCHEMA = TypeAdapter(OpsConfig)


def read_config(path: Path, **overrides) -> OpsConfig:
    """Read the TOML config and check what every engine shares; overrides (stack.project=..., http.base_url=...)
    win. procedures.load.load_config adds the engine's own checks: use that one."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found; pass --ops-config PATH or create ops.toml")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    for dotted, value in overrides.items():
        section, key = dotted.split(".", 1)
        if value is not None and isinstance(raw.setdefault(section, {}), dict):
            raw[section][key] = value
    if isinstance(raw.get("backup"), dict) and "lock_dir" in raw["backup"]:  # its first home, before [stack]
        lock_dir = raw["backup"].pop("lock_dir")
        if isinstance(raw.get("stack"), dict):
            raw["stack"].setdefault("lock_dir", lock_dir)
    try:
        config = _SCHEMA.validate_json(json.dumps({**raw, "source": str(path)}, default=str), strict=True)
        config = _resolved(config, path.parent)
        problems = list(_problems(config, raw))
    except ValidationError as e:
        problems = _type_problems(raw, e)
    if "source" in raw:
        problems.insert(0, "source is not a section of the config (the suite records the file it read): remove it")
    if len(problems) == 1:
        raise ConfigError(f"{path}: {problems[0]}")
    if problems:
        raise ConfigError(f"{path} has {len(problems)} problems; fix them all, then run again:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return config


def _type_problems(raw: dict, error: ValidationError) -> list[str]:
    """Every key of the wrong type or out of range, unknown or missing, as one message each."""
    unknown = config_schema.unknown_keys(OpsConfig, raw)
    messages: dict[str, str | None] = {}  # one per key: a value that is none of a union's kinds fails each
    for found in error.errors():
        messages.setdefault(config_schema.locate(OpsConfig, found["loc"]).where,
                            config_schema.message(OpsConfig, found, unknown))
    return [text for text in messages.values() if text]


def _resolved(config: OpsConfig, base: Path) -> OpsConfig:
    """Files named relative to the config's folder, as absolute paths; the overlay last of compose_files."""
    stack = config.stack
    files = tuple(base / p for p in stack.compose_files)
    stack = replace(stack, compose_files=files + ((base / stack.overlay,) if stack.overlay else ()),
                    overlay=base / stack.overlay if stack.overlay else None,
                    env_file=base / stack.env_file if stack.env_file else None)
    moved = {}
    for name, key in (("database", "url_file"), ("http", "ca_file"), ("notify", "urls_file"),
                      ("offsite_setup", "secrets_file"), ("build", "repository")):
        section = getattr(config, name)
        if section is not None and getattr(section, key):
            path = base / getattr(section, key)
            moved[name] = replace(section, **{key: str(path.resolve() if name == "build" else path)})
    paths = tuple(dict.fromkeys("/" + posixpath.normpath(p).lstrip("/") for p in config.backup.paths))
    return replace(config, stack=stack, backup=replace(config.backup, paths=paths), **moved)


def _problems(config: OpsConfig, raw: dict) -> Iterator[str]:
    """What the types cannot say: files that must exist and keys that must agree with each other."""
    stack, services, http, offsite = config.stack, config.services, config.http, config.offsite
    if stack.overlay and stack.compose_files.count(stack.overlay) > 1:
        yield (f"[stack] overlay = \"{stack.overlay.name}\" is also one of compose_files: the overlay is generated "
               "(and rewritten) by the suite; give it a file name of its own")
    yield from (f"[stack] compose_files: {p} does not exist; fix the path" for p in stack.app_files if not p.is_file())
    if stack.env_file is not None and not stack.env_file.is_file():
        yield f"[stack] env_file: {stack.env_file} does not exist; create it (see .env.example)"
    stray = [name for name in services.single_instance if name not in services.app]
    if "single_instance" in raw.get("services", {}) and stray:
        yield (f"[services] single_instance names {', '.join(stray)}, which [services] app does not list "
               f"({', '.join(services.app)}): a service named there is switched stop-first, so a misspelt name "
               "would leave it start-first; name app services only")
    if not services.migrate and not config.deploy.migrate_command:
        yield ("[services] migrate is empty and [deploy] migrate_command too: name the app's migrate service, or "
               "give the command that migrates (e.g. [\"alembic\", \"upgrade\", \"head\"])")
    if config.volumes.database.startswith(THROWAWAY_VOLUME_PREFIX):
        yield (f"[volumes] database = {config.volumes.database!r}: the prefix {THROWAWAY_VOLUME_PREFIX!r} is "
               "reserved for restore-drill volumes; rename it")
    if offsite.enabled and ":" not in offsite.remote:
        yield (f"[offsite] remote = {offsite.remote!r} must be an rclone remote path such as 'gdrive:ZenOpsBackups' "
               "(remote name, colon, folder)")
    if config.offsite_setup.backend:
        yield from _offsite_setup_problems(offsite, config.offsite_setup)
    if http.version_path and not http.version_field:
        yield ("[http] version_field is empty: name the JSON field of version_path that carries the release (e.g. "
               "\"version\" or \"build\"), or set version_path = \"\" to check the running images' tag instead")
    if http.ca_file and http.insecure:
        yield ("[http] ca_file and insecure = true contradict each other: keep ca_file to verify against that CA, "
               "or drop it to skip verification")
    elif http.ca_file and not Path(http.ca_file).is_file():
        yield f"[http] ca_file = {http.ca_file!r} does not exist; give the path of the CA bundle (PEM)"
    for path in config.backup.paths:
        if path == "/":
            yield "[backup] paths: '/' is the whole host: give the app's data directory, e.g. \"/srv/shop/data\""
        elif not Path(path).exists():
            yield f"[backup] paths: {path!r} does not exist on this host; fix the path or remove it"
    given = ["/" + posixpath.normpath(p).lstrip("/") for p in raw.get("backup", {}).get("paths", ())]
    yield from (f"[backup] paths lists {p!r} twice; list it once" for p in config.backup.paths if given.count(p) > 1)
    yield from _deploy_problems(config)
    timeouts = config.timeouts
    if timeouts.session_seconds < timeouts.dump_seconds:
        yield (f"[timeouts] session_seconds = {timeouts.session_seconds:g} is below dump_seconds = "
               f"{timeouts.dump_seconds:g}: the psql session holds the dump's snapshot for the whole dump; raise "
               "session_seconds to at least dump_seconds")
    if config.build and not (Path(config.build.repository) / ".git").exists():
        yield (f"[build] repository = {config.build.repository!r} is not a git checkout (no .git); give the folder "
               "`git clone` made, where `git pull && docker compose build` ran")
    if config.notify is not None:
        from .notify_targets import read_urls  # Apprise loads only for a config that notifies
        try:
            read_urls(config.notify.urls_variable, config.notify.urls_file, stack.env_file)
        except ConfigError as e:
            yield str(e)


def _deploy_problems(config: OpsConfig) -> Iterator[str]:
    deploy = config.deploy
    if config.database.url_variable in dict(deploy.rehearsal.environment):
        yield (f"[deploy.rehearsal] environment sets {config.database.url_variable}, the database's address, which "
               "the rehearsal sets itself (to its own copy): remove it from the table")
    stray = [name for name, _ in deploy.app_commands if name not in config.services.app]
    if stray:
        yield (f"[deploy] app_commands names {', '.join(stray)}, which [services] app does not list "
               f"({', '.join(config.services.app)}); name app services only")


def _offsite_setup_problems(offsite: OffsiteConfig, setup: OffsiteSetupConfig) -> Iterator[str]:
    """The remotes the set-up makes fit [offsite] remote: a crypt remote of its own name over base_remote,
    or base_remote itself when [offsite] plaintext = true."""
    remote = offsite.remote.split(":", 1)[0]
    if offsite.plaintext and remote != setup.base_remote:
        yield (f"[offsite_setup] base_remote = {setup.base_remote!r} but [offsite] remote = {offsite.remote!r} with "
               f"plaintext = true: copies would not go to the remote set up; set base_remote = {remote!r}")
    if not offsite.plaintext and remote == setup.base_remote:
        yield (f"[offsite] remote = {offsite.remote!r} names base_remote itself: copies would be plaintext; name the "
               f"crypt remote over it instead (e.g. remote = \"{setup.base_remote}-crypt:"
               f"{offsite.remote.split(':', 1)[-1]}\")")
