"""Typed, frozen configuration loaded once from a TOML file and checked at load."""

import posixpath
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import ConfigError
from .guards import THROWAWAY_VOLUME_PREFIX

SUITE_SERVICE_PREFIX = "opsuite-"
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class StackConfig:
    project: str
    compose_files: tuple[Path, ...]
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
    backup: str = "opsuite-backup"

    @property
    def serving(self) -> list[str]:
        """What a release switch recreates: the app services and the proxy, when there is one."""
        return [*self.app, *([self.proxy] if self.proxy else [])]


# The compose variable each switchable [volumes] setting is given as (overlays, env files, compose runs).
VOLUME_VARIABLES = {"database": "PGDATA_VOLUME", "uploads_volume": "UPLOADS_VOLUME"}


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


@dataclass(frozen=True)
class DatabaseConfig:
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


@dataclass(frozen=True)
class HttpConfig:
    base_url: str = "http://127.0.0.1:8080"
    health_path: str = "/healthz"
    ready_path: str = "/readyz"
    # Which release serves: the JSON field `version_field` (dotted for nested, e.g. "build" or
    # "release.version") of version_path's answer; version_path = "" turns the HTTP check off and
    # the running app containers' image tag and id are the proof instead.
    version_path: str = "/version"
    version_field: str = "version"
    ready_timeout_seconds: float = 120.0
    # https with a private CA or a self-signed certificate: a CA bundle to trust, or (explicitly)
    # no verification at all.
    ca_file: str = ""
    insecure: bool = False

    @property
    def verify(self) -> str | bool:
        """What httpx verifies the server's certificate against."""
        return self.ca_file or not self.insecure


@dataclass(frozen=True)
class BackupConfig:
    directory: str = "/backups"
    local_keep_days: int = 14
    # Seed 001's rotation: 2 daily slots, a weekly, a fortnightly and a monthly, beyond the window.
    daily: int = 2
    weekly: int = 1
    fortnightly: int = 1
    monthly: int = 1
    uploads_archive: bool = True  # back up the uploads at all (the name predates the store)
    # Each distinct uploads file once in <directory>/uploads-store and offsite (docs/BACKUPS.md section
    # 10); false writes a full <set>.uploads.tar.gz into every set instead, as before.
    uploads_store: bool = True
    uploads_path: str = "/uploads"
    # The suite's backup image (pg_dump of the server's major version, rclone) in a generated overlay;
    # scripts/build-images.sh builds it from backup-image/.
    image: str = "opsuite-local/backup:pg15"
    min_free_bytes: int = 512 * 1024 * 1024
    free_space_factor: float = 2.0
    # Pruning is refused when "now" is further than this past the newest earlier backup (a clock
    # running ahead would delete history); a nightly schedule leaves a day and a margin.
    max_clock_gap_hours: int = 48
    # Host directories (or files) of the app kept on bind mounts, archived into each set
    # (<set>.paths.tar.gz, docs/BACKUPS.md): absolute, existing, never /.
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class OffsiteConfig:
    enabled: bool = True
    remote: str = "gdrive:ZenOpsBackups"
    keep_days: int = 30
    # Older generations offsite, so corruption noticed late can still be undone: seed 001's tiers,
    # with a year of monthly sets.
    daily: int = 2
    weekly: int = 4
    fortnightly: int = 2
    monthly: int = 12
    # Offsite copies go through an rclone crypt remote (seeds 001, 004); plaintext only when said here.
    plaintext: bool = False
    # rclone's own --retries and --low-level-retries (its defaults): how long an unreachable remote is
    # tried before the backup fails naming it.
    retries: int = 3
    low_level_retries: int = 10

    def rclone_environment(self) -> dict[str, str]:
        """rclone reads every flag from RCLONE_<FLAG>, so the backup service gets these when it starts."""
        return {"RCLONE_RETRIES": str(self.retries), "RCLONE_LOW_LEVEL_RETRIES": str(self.low_level_retries)}

    def path(self, environment: str) -> str:
        """The remote folder of one environment: <remote>/<env>/ (the brief's default layout)."""
        return f"{self.remote.rstrip('/')}/{environment}"


@dataclass(frozen=True)
class OffsiteSetupConfig:
    """How ops_checks/offsite_setup.py creates the offsite remotes (docs/BACKUPS.md section 3). Secrets are
    never written here: each secret option names a variable of the secrets file ([stack] env_file unless
    secrets_file is set), read once and never logged."""
    backend: str = ""  # an rclone backend type (drive, sftp, s3, ...); empty: the suite sets nothing up
    base_remote: str = "gdrive"  # the remote the storage is reached by; the crypt remote wraps it
    crypt_folder: str = "encrypted"  # the folder of base_remote the crypt remote keeps its objects in
    options: dict = field(default_factory=dict)  # the backend's options that are not secret: host, user, scope, ...
    secret_options: dict = field(default_factory=dict)  # backend option -> variable holding its value
    crypt_password: str = "OFFSITE_CRYPT_PASSWORD"  # variable holding the crypt password
    crypt_salt: str = ""  # variable holding the crypt salt (rclone's password2), if one is kept
    secrets_file: str = ""  # a file only root can read, KEY=value lines; empty: [stack] env_file


@dataclass(frozen=True)
class RetentionConfig:
    """Limits on what retention may delete, local and offsite alike (docs/BACKUPS.md section 1); the
    windows and tiers stay in [backup] and [offsite]."""
    # Never fewer verified sets than this kept in each place (Barman's minimum_redundancy).
    min_sets: int = 3
    # More deletions than this in one run (per place, in sets) are refused unless --allow-mass-prune.
    max_deletions_per_run: int = 10
    # An uploads store object younger than this is never collected, referenced or not: a set being
    # written, or one a listing failed to show, may still need it.
    store_grace_hours: float = 48.0


def _retention_section(raw: dict) -> RetentionConfig:
    retention = _section(RetentionConfig, raw, "retention")
    for name in ("min_sets", "max_deletions_per_run"):
        value = getattr(retention, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"[retention] {name} = {value!r} must be a whole number of sets, 1 or more "
                              f"(default {getattr(RetentionConfig, name)})")
    grace = retention.store_grace_hours
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 1:
        raise ConfigError(f"[retention] store_grace_hours = {grace!r} must be a number of hours, 1 or more "
                          f"(default {RetentionConfig.store_grace_hours:g}): younger objects are never collected")
    return retention


SMOKE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class SmokeCheck:
    path: str
    status: int = 200
    contains: str = ""
    method: str = "GET"
    # Any of these answers passes (e.g. [200, 401] for a page that must not fail); empty: `status`.
    statuses: tuple[int, ...] = ()
    # Header -> the environment variable holding its value (seed 003's authenticated checks): the
    # value is read when the check runs and is never written to the config, a log or a report.
    headers: tuple[tuple[str, str], ...] = ()
    # Dotted JSON field -> the value the answer must carry there (e.g. { "status" = "ok" }).
    json_fields: tuple[tuple[str, object], ...] = ()

    @property
    def allowed(self) -> tuple[int, ...]:
        return self.statuses or (self.status,)


@dataclass(frozen=True)
class RehearsalConfig:
    # Variables set in every service of the rollback check's rehearsal (not its database), over the
    # app's own: turn jobs, mail and bots off in a copy that must not act (release/seal.py).
    environment: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeployConfig:
    state_dir: str = "/var/lib/opsuite"
    min_free_bytes: int = 1024 * 1024 * 1024
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
    app_environment: tuple[tuple[str, str], ...] = ()
    app_commands: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class RestoreConfig:
    jobs: int = 2
    sample_queries: tuple[str, ...] = ("SELECT version_num FROM alembic_version",)
    ready_timeout_seconds: float = 120.0


@dataclass(frozen=True)
class TimeoutsConfig:
    """Seconds an external command may run before it is killed with its children (procedures/runner.py)."""
    command_seconds: float = 600.0  # any other command: docker inspect, compose stop/pull, a listing, ...
    dump_seconds: float = 6 * 3600.0  # pg_dump, SQLite's online backup, the uploads archive or store copy
    restore_seconds: float = 6 * 3600.0  # pg_restore, a SQLite copy's restore, unpacking the uploads
    check_seconds: float = 6 * 3600.0  # reading a whole set back: sha256sum, integrity check, rclone check
    copy_seconds: float = 6 * 3600.0  # rclone's transfers to and from the offsite remote
    compose_up_seconds: float = 900.0  # docker compose up: waits for the dependencies' health
    one_off_seconds: float = 3600.0  # docker compose run: migrations and the app's one-off tasks
    build_seconds: float = 3600.0  # docker compose build of a release ([build]), git archive of its ref
    # A psql session holds the dump's snapshot open for the whole pg_dump, so it outlives dump_seconds.
    session_seconds: float = 6 * 3600.0 + 600.0
    # pg_dump --lock-wait-timeout: fail after this long instead of queueing behind a table lock.
    pg_lock_wait_seconds: int = 60


@dataclass(frozen=True)
class NotifyConfig:
    """Where the Apprise URLs of the scheduled checks' notifications are read from (never this file: they
    may hold tokens): a variable of [stack] env_file and/or a file only its owner can read."""
    urls_variable: str = ""  # one or more URLs, separated by spaces or commas
    urls_file: str = ""  # one URL per line; '#' starts a comment line
    on_success: bool = False  # failures always notify; successes too when true


@dataclass(frozen=True)
class FreshnessConfig:
    """How old the evidence of recoverability may be before ops_checks/freshness.py goes red."""
    # A nightly backup leaves a day and a margin for its randomized start and its run time.
    backup_max_age_hours: float = 26.0
    offsite_max_age_hours: float = 26.0
    # The drill is monthly (first Sunday): 35 days covers the longest gap between two first Sundays.
    drill_max_age_days: float = 35.0


@dataclass(frozen=True)
class BuildConfig:
    """Images built on this server from the app's git checkout (docs/DEPLOYMENT_RUNBOOK.md section 11):
    `deploy --tag=REF` builds a git tag or commit of `repository` in a clean export, never its working tree."""
    repository: str = ""  # the app's git checkout (relative to the config's folder, or absolute)
    # Release images kept (by build time); the serving and the previous release's are always kept,
    # so a rollback needs no build.
    keep_releases: int = 3


def _build_section(raw: dict, base: Path) -> BuildConfig:
    build = _section(BuildConfig, raw, "build")
    if not build.repository:
        raise ConfigError("[build] repository is empty: give the app's git checkout the images are built from, "
                          "e.g. repository = \"/srv/app\"")
    repository = (base / build.repository).resolve()
    if not (repository / ".git").exists():
        raise ConfigError(f"[build] repository = {build.repository!r}: {repository} is not a git checkout (no .git); "
                          "give the folder `git clone` made, where `git pull && docker compose build` ran")
    keep = build.keep_releases
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 2:
        raise ConfigError(f"[build] keep_releases = {keep!r} must be a whole number, 2 or more (default 3): the "
                          "serving and the previous release's images are always kept")
    return replace(build, repository=str(repository))


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
    source: Path | None = None

    @property
    def url_service(self) -> str:
        """The app service whose environment carries [database] url_variable."""
        return self.database.url_service or self.services.app[0]

    @property
    def url_file(self) -> Path | None:
        """The env file [database] url_variable is written in ([stack] env_file unless said)."""
        return Path(self.database.url_file) if self.database.url_file else self.stack.env_file


def _require_type(section: str, key: str, value, kind: type) -> None:
    """A switch must be a TOML boolean ("false" in quotes is a true string) and a name a string."""
    if not isinstance(value, kind):
        expected = "true or false (without quotes)" if kind is bool else "a string in quotes"
        raise ConfigError(f"[{section}] {key} = {value!r} must be {expected}")


def _section(cls, raw: dict, name: str):
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(
            f"[{name}] has unknown setting(s) {sorted(unknown)}; known settings: {sorted(known)}"
        )
    for setting in fields(cls):
        if setting.name in raw and isinstance(setting.default, (bool, str)):
            _require_type(name, setting.name, raw[setting.name], type(setting.default))
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        return cls(**values)
    except TypeError as e:
        raise ConfigError(f"[{name}]: {e}") from e


def _services_section(raw: dict) -> ServiceNames:
    """A single_instance name that is no app service would be a typo the switch never sees: refused."""
    services = _section(ServiceNames, raw, "services")
    stray = [name for name in services.single_instance if name not in services.app]
    if "single_instance" in raw and stray:
        raise ConfigError(f"[services] single_instance names {', '.join(stray)}, which [services] app does not list "
                          f"({', '.join(services.app)}): a service named there is switched stop-first, so a "
                          "misspelt name would leave it start-first; name app services only")
    return services


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _rehearsal_section(raw) -> RehearsalConfig:
    if not isinstance(raw, dict):
        raise ConfigError("[deploy] rehearsal must be a table: [deploy.rehearsal] environment = { JOBS = \"off\" }")
    raw = dict(raw)
    env = raw.pop("environment", {})
    _section(RehearsalConfig, raw, "deploy.rehearsal")
    return RehearsalConfig(_variables(env, "[deploy.rehearsal] environment", 'JOBS_ENABLED = "false"'))


def _variables(raw, where: str, example: str) -> tuple[tuple[str, str], ...]:
    """A table of environment variables (where: "[deploy] app_environment"), sorted; names and string values only."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} = {raw!r} must be a table of variables, e.g. {where.split()[-1]} = {{ {example} }}")
    for name, value in raw.items():
        if not _ENV_NAME.fullmatch(name):
            raise ConfigError(f"{where}: {name!r} is not a variable name (letters, digits, _)")
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {name} must be a string in quotes (e.g. {name} = \"{str(value).lower()}\")")
    return tuple(sorted(raw.items()))


def _commands(raw) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict) or not all(isinstance(v, list) and v and all(isinstance(a, str) for a in v)
                                            for v in raw.values()):
        raise ConfigError(f"[deploy] app_commands = {raw!r} must map app services to commands as lists of strings, "
                          'e.g. app_commands = { web = ["sh", "-c", "gunicorn app.wsgi"] }')
    return tuple(sorted((name, tuple(argv)) for name, argv in raw.items()))


def _deploy_section(raw: dict) -> DeployConfig:
    raw = dict(raw)
    smoke = raw.pop("smoke", None)
    rehearsal = raw.pop("rehearsal", None)
    app_environment = _variables(raw.pop("app_environment", {}), "[deploy] app_environment",
                                 'DJANGO_PERFORM_MIGRATIONS = "False"')
    app_commands = _commands(raw.pop("app_commands", {}))
    deploy = replace(_section(DeployConfig, raw, "deploy"), app_environment=app_environment, app_commands=app_commands)
    if rehearsal is not None:
        deploy = replace(deploy, rehearsal=_rehearsal_section(rehearsal))
    if smoke is None:
        return deploy
    return replace(deploy, smoke=tuple(_smoke_check(item) for item in smoke))


def _smoke_check(raw) -> SmokeCheck:
    """One [[deploy.smoke]] table; headers and json_fields are tables, checked here for what they name."""
    if not isinstance(raw, dict):
        raise ConfigError(f"[[deploy.smoke]] {raw!r} must be a table: [[deploy.smoke]] path = \"/healthz\"")
    raw = dict(raw)
    headers, fields_ = raw.pop("headers", {}), raw.pop("json_fields", {})
    check = _section(SmokeCheck, raw, "deploy.smoke")
    where = f"[[deploy.smoke]] path = {check.path!r}"
    if not isinstance(check.path, str) or not check.path.startswith("/"):
        raise ConfigError(f"{where} must start with '/'")
    if check.method.upper() not in SMOKE_METHODS:
        raise ConfigError(f"{where}: method = {check.method!r} is not an HTTP method; use one of {', '.join(SMOKE_METHODS)}")
    codes = (check.status, *check.statuses)
    if not all(isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes):
        raise ConfigError(f"{where}: status and statuses must be HTTP status codes (100 to 599), e.g. statuses = [200, 204]")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError(f"{where}: headers must map a header to the environment variable holding its value, "
                          'e.g. headers = { Authorization = "SMOKE_AUTHORIZATION" } (never the value itself)')
    for header, variable in headers.items():
        if not _HEADER_NAME.fullmatch(header):
            raise ConfigError(f"{where}: headers: {header!r} is not a header name")
        if not _ENV_NAME.fullmatch(variable):
            raise ConfigError(f"{where}: headers: {header} = {variable!r} must name an environment variable "
                              "(letters, digits, _) that holds the value, not the value itself")
    if not isinstance(fields_, dict) or not all(isinstance(k, str) and k and not isinstance(v, (dict, list))
                                                for k, v in fields_.items()):
        raise ConfigError(f"{where}: json_fields must map dotted JSON fields to the value each must hold, "
                          'e.g. json_fields = { status = "ok", "user.active" = true }')
    return replace(check, method=check.method.upper(), headers=tuple(sorted(headers.items())),
                   json_fields=tuple(sorted(fields_.items())))


def _timeouts_section(raw: dict) -> TimeoutsConfig:
    timeouts = _section(TimeoutsConfig, raw, "timeouts")
    for name, value in vars(timeouts).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"[timeouts] {name} = {value!r} must be a number of seconds above 0 "
                              f"(default {getattr(TimeoutsConfig, name)})")
    if not isinstance(timeouts.pg_lock_wait_seconds, int):
        raise ConfigError(f"[timeouts] pg_lock_wait_seconds = {timeouts.pg_lock_wait_seconds!r} must be whole "
                          "seconds (pg_dump --lock-wait-timeout); default 60")
    if timeouts.session_seconds < timeouts.dump_seconds:
        raise ConfigError(f"[timeouts] session_seconds = {timeouts.session_seconds:g} is below dump_seconds = "
                          f"{timeouts.dump_seconds:g}: the psql session holds the dump's snapshot for the whole "
                          "dump; raise session_seconds to at least dump_seconds")
    return timeouts


def _freshness_section(raw: dict) -> FreshnessConfig:
    freshness = _section(FreshnessConfig, raw, "freshness")
    for name, value in vars(freshness).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"[freshness] {name} = {value!r} must be a number above 0 "
                              f"(default {getattr(FreshnessConfig, name):g}); a limit of 0 or less would "
                              "make every backup, copy or drill stale")
    return freshness


def _backup_paths(paths) -> tuple[str, ...]:
    """[backup] paths as absolute, existing host paths other than /, each once; refused otherwise."""
    if isinstance(paths, str) or not all(isinstance(p, str) for p in paths):
        raise ConfigError(f"[backup] paths = {paths!r} must be a list of host paths, e.g. [\"/srv/shop/data\"]")
    checked = []
    for path in paths:
        normal = "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else path
        if not path.startswith("/") or normal == "/":
            raise ConfigError(f"[backup] paths: {path!r} must be an absolute host path other than / (the app's data "
                              "directory, e.g. \"/srv/shop/data\")")
        if ":" in path or "," in path or "\n" in path:
            raise ConfigError(f"[backup] paths: {path!r} holds ':', ',' or a line break, which a container mount "
                              "cannot carry; move the data to a path without them")
        if not Path(normal).exists():
            raise ConfigError(f"[backup] paths: {path!r} does not exist on this host; fix the path or remove it")
        if normal in checked:
            raise ConfigError(f"[backup] paths lists {normal!r} twice; list it once")
        checked.append(normal)
    return tuple(checked)


def _check(config: OpsConfig) -> OpsConfig:
    stack = config.stack
    if config.offsite_setup.backend:
        _check_offsite_setup(config.offsite, config.offsite_setup)
    if config.database.url_variable in dict(config.deploy.rehearsal.environment):
        raise ConfigError(f"[deploy.rehearsal] environment sets {config.database.url_variable}, the database's address, "
                          "which the rehearsal sets itself (to its own copy): remove it from the table")
    stray = [name for name, _ in config.deploy.app_commands if name not in config.services.app]
    if stray:
        raise ConfigError(f"[deploy] app_commands names {', '.join(stray)}, which [services] app does not list "
                          f"({', '.join(config.services.app)}); name app services only")
    if not _PROJECT_NAME.fullmatch(stack.project):
        raise ConfigError(
            f"[stack] project = {stack.project!r} is not a valid compose project name: "
            "use lowercase letters, digits, '-' and '_', starting with a letter or digit"
        )
    if not stack.compose_files:
        raise ConfigError("[stack] compose_files is empty: list the base file, then the prod overlay")
    for path in stack.app_files:
        if not path.is_file():
            raise ConfigError(f"[stack] compose_files: {path} does not exist; fix the path")
    if stack.env_file is not None and not stack.env_file.is_file():
        raise ConfigError(
            f"[stack] env_file: {stack.env_file} does not exist; create it (see .env.example)"
        )
    if not config.services.backup.startswith(SUITE_SERVICE_PREFIX):
        raise ConfigError(f"[services] backup = {config.services.backup!r}: the suite's own services carry the "
                          f"reserved prefix {SUITE_SERVICE_PREFIX!r} so they never merge into an app service of the "
                          "same name; use \"opsuite-backup\" (the prod overlay's name)")
    if not config.services.migrate and not config.deploy.migrate_command:
        raise ConfigError("[services] migrate is empty and [deploy] migrate_command too: name the app's migrate "
                          "service, or give the command that migrates (e.g. [\"alembic\", \"upgrade\", \"head\"])")
    if config.volumes.database.startswith(THROWAWAY_VOLUME_PREFIX):
        raise ConfigError(f"[volumes] database = {config.volumes.database!r}: the prefix "
                          f"{THROWAWAY_VOLUME_PREFIX!r} is reserved for restore-drill volumes; rename it")
    if not 14 <= config.backup.local_keep_days <= 30:
        raise ConfigError(
            f"[backup] local_keep_days = {config.backup.local_keep_days}: keep 14 to 30 days locally "
            "(the brief's policy; default 14)"
        )
    if config.offsite.keep_days < 1:
        raise ConfigError(f"[offsite] keep_days = {config.offsite.keep_days}: must be at least 1 (default 30)")
    for setting, default in (("retries", 3), ("low_level_retries", 10)):
        if getattr(config.offsite, setting) < 1:
            raise ConfigError(f"[offsite] {setting} = {getattr(config.offsite, setting)}: must be at least 1 "
                              f"(rclone's default is {default})")
    if config.offsite.enabled and ":" not in config.offsite.remote:
        raise ConfigError(
            f"[offsite] remote = {config.offsite.remote!r} must be an rclone remote path such as "
            "'gdrive:ZenOpsBackups' (remote name, colon, folder)"
        )
    http = config.http
    if not http.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"[http] base_url = {http.base_url!r} must start with http:// or https://")
    for setting, path in (("ready_path", http.ready_path), ("health_path", http.health_path),
                          ("version_path", http.version_path)):
        if path and not path.startswith("/"):
            raise ConfigError(f"[http] {setting} = {path!r} must start with '/'")
    if http.version_path and not http.version_field:
        raise ConfigError("[http] version_field is empty: name the JSON field of version_path that carries "
                          "the release (e.g. \"version\" or \"build\"), or set version_path = \"\" to check "
                          "the running images' tag instead")
    if http.ca_file and http.insecure:
        raise ConfigError("[http] ca_file and insecure = true contradict each other: keep ca_file to verify "
                          "against that CA, or drop it to skip verification")
    if http.ca_file and not Path(http.ca_file).is_file():
        raise ConfigError(f"[http] ca_file = {http.ca_file!r} does not exist; give the path of the CA bundle (PEM)")
    config = replace(config, backup=replace(config.backup, paths=_backup_paths(config.backup.paths)))
    if config.notify is not None:
        from .notify_targets import read_urls  # Apprise loads only for a config that notifies
        read_urls(config.notify.urls_variable, config.notify.urls_file, stack.env_file)
    return config


_REMOTE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_. -]*[A-Za-z0-9_]|[A-Za-z0-9_]")  # rclone's remote names


def _offsite_setup_section(raw: dict) -> OffsiteSetupConfig:
    """Variables are names (never the secrets), options strings, base_remote a remote's name."""
    setup = _section(OffsiteSetupConfig, raw, "offsite_setup")
    if not setup.backend:
        return setup
    for table in ("options", "secret_options"):
        bad = [k for k, v in getattr(setup, table).items() if not isinstance(v, str) or not _ENV_NAME.fullmatch(k)]
        if bad:
            raise ConfigError(f"[offsite_setup] {table}: {bad} must be rclone option names with string values, "
                              f'e.g. {table} = {{ host = "backup.example.com" }}')
    variables = [("crypt_password", setup.crypt_password), ("crypt_salt", setup.crypt_salt),
                 *((f"secret_options.{k}", v) for k, v in setup.secret_options.items())]
    bad = [f"{where} = {name!r}" for where, name in variables if name and not _ENV_NAME.fullmatch(name)]
    if bad:
        raise ConfigError(f"[offsite_setup] {', '.join(bad)}: each names a variable of the secrets file "
                          '(e.g. "OFFSITE_CRYPT_PASSWORD"), never the secret itself')
    if not _REMOTE_NAME.fullmatch(setup.base_remote):
        raise ConfigError(f"[offsite_setup] base_remote = {setup.base_remote!r} is not an rclone remote name "
                          '(letters, digits, _ . - and spaces), e.g. "gdrive"')
    return setup


def _check_offsite_setup(offsite: OffsiteConfig, setup: OffsiteSetupConfig) -> None:
    """The remotes the set-up makes fit [offsite] remote: a crypt remote of its own name over base_remote,
    or base_remote itself when [offsite] plaintext = true."""
    remote = offsite.remote.split(":", 1)[0]
    if offsite.plaintext and remote != setup.base_remote:
        raise ConfigError(f"[offsite_setup] base_remote = {setup.base_remote!r} but [offsite] remote = "
                          f"{offsite.remote!r} with plaintext = true: copies would not go to the remote set up; "
                          f"set base_remote = {remote!r}")
    if not offsite.plaintext and remote == setup.base_remote:
        raise ConfigError(f"[offsite] remote = {offsite.remote!r} names base_remote itself: copies would be "
                          f"plaintext; name the crypt remote over it instead (e.g. remote = "
                          f"\"{setup.base_remote}-crypt:{offsite.remote.split(':', 1)[-1]}\")")


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
    unknown = set(raw) - {"stack", "services", "volumes", "database", "http", "backup", "offsite", "deploy", "restore",
                          "timeouts", "notify", "freshness", "retention", "offsite_setup", "build"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}")
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, key = dotted.split(".", 1)
        raw.setdefault(section, {})[key] = value
    stack_raw = dict(raw.get("stack", {}))
    backup_raw = raw.get("backup", {})
    if "lock_dir" in backup_raw:  # its first home; the lock was always the whole stack's
        stack_raw.setdefault("lock_dir", backup_raw["lock_dir"])
        raw["backup"] = {k: v for k, v in backup_raw.items() if k != "lock_dir"}
    if "project" not in stack_raw or "compose_files" not in stack_raw:
        raise ConfigError(f"{path}: [stack] needs project and compose_files")
    base = path.parent
    stack_raw["compose_files"] = [str(base / p) for p in stack_raw["compose_files"]]
    if stack_raw.get("env_file"):
        stack_raw["env_file"] = base / stack_raw["env_file"]
    if raw.get("database", {}).get("url_file"):
        raw["database"]["url_file"] = str(base / raw["database"]["url_file"])
    if raw.get("http", {}).get("ca_file"):
        raw["http"]["ca_file"] = str(base / raw["http"]["ca_file"])
    if raw.get("notify", {}).get("urls_file"):
        raw["notify"]["urls_file"] = str(base / raw["notify"]["urls_file"])
    if raw.get("offsite_setup", {}).get("secrets_file"):
        raw["offsite_setup"]["secrets_file"] = str(base / raw["offsite_setup"]["secrets_file"])
    stack = _section(StackConfig, stack_raw, "stack")
    files = tuple(Path(p) for p in stack.compose_files)
    if stack.overlay:
        overlay = base / stack.overlay
        if overlay in files:
            raise ConfigError(f"[stack] overlay = {stack.overlay!r} is also one of compose_files: the overlay is "
                              "generated (and rewritten) by the suite; give it a file name of its own")
        stack = replace(stack, overlay=overlay)
        files += (overlay,)
    stack = replace(stack, compose_files=files)
    return _check(
        OpsConfig(
            stack=stack,
            services=_services_section(raw.get("services", {})),
            volumes=_section(VolumeNames, raw.get("volumes", {}), "volumes"),
            database=_section(DatabaseConfig, raw.get("database", {}), "database"),
            http=_section(HttpConfig, raw.get("http", {}), "http"),
            backup=_section(BackupConfig, raw.get("backup", {}), "backup"),
            offsite=_section(OffsiteConfig, raw.get("offsite", {}), "offsite"),
            offsite_setup=_offsite_setup_section(raw.get("offsite_setup", {})),
            retention=_retention_section(raw.get("retention", {})),
            deploy=_deploy_section(raw.get("deploy", {})),
            restore=_section(RestoreConfig, raw.get("restore", {}), "restore"),
            timeouts=_timeouts_section(raw.get("timeouts", {})),
            notify=_section(NotifyConfig, raw["notify"], "notify") if "notify" in raw else None,
            freshness=_freshness_section(raw.get("freshness", {})),
            build=_build_section(raw["build"], base) if "build" in raw else None,
            source=path,
        )
    )

