"""The offsite set-up runbook: create the rclone remotes the backups go to, then prove them with a probe.

    secrets -> remotes -> probe

Passwords come from a file only root reads (or the stack's env file) and reach rclone through stdin,
obscured by rclone itself where rclone says the option is a password (`rclone config providers`), as
`rclone config` stores them. A remote that already exists is kept as it is and proven like a new one:
running the set-up again never replaces a working Drive token. The probe writes a small object through
the remote the backups use, lists it, compares its hash (cryptcheck through a crypt remote) and deletes it.
"""

import configparser
import contextlib
import io
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..box import BackupBox, locked_box
from ..commands import files as files_cmd
from ..commands import rclone as cmd
from ..config import OpsConfig
from ..context import OpsContext
from ..env_file import env_value
from ..errors import CommandFailed, ConfigError, OffsiteError
from ..overlay import RCLONE_CONFIG_DIR
from ..redact import register_secret
from ..runbook import Runbook, Step

CONF_PATH = f"{RCLONE_CONFIG_DIR}/rclone.conf"  # where the backup service's RCLONE_CONFIG points
PROBE_DIR = "/tmp/opsuite-offsite-probe"  # inside the backup container, gone with it


@dataclass
class SetupRun:
    ctx: OpsContext
    break_stale_lock: bool = False
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    secrets: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    _box: BackupBox | None = None

    def box(self) -> BackupBox:
        """The backup container, under the stack's lock (the set-up writes the config every backup reads)."""
        if self._box is None:
            self.ctx, self._box = locked_box(self.ctx, "offsite-setup", self.cleanup, break_stale=self.break_stale_lock)
        return self._box


def secrets_source(config: OpsConfig) -> Path:
    """The file the secret variables are read from: [offsite_setup] secrets_file, else [stack] env_file."""
    setup = config.offsite_setup
    if setup.secrets_file:
        return Path(setup.secrets_file)
    if config.stack.env_file is None:
        raise ConfigError("[offsite_setup] needs a file holding its secrets: set secrets_file (mode 0600, owned by "
                          "root) or [stack] env_file")
    return Path(config.stack.env_file)


def _only_owner_reads(path: Path) -> None:
    try:
        facts = path.stat()
    except OSError as e:
        raise ConfigError(f"[offsite_setup] secrets file {path} cannot be read ({e.strerror}); create it with one "
                          "KEY=value line per secret, then: chmod 600 {path}") from None
    if stat.S_IMODE(facts.st_mode) & 0o077 or facts.st_uid != os.geteuid():
        raise ConfigError(f"[offsite_setup] secrets file {path} may be read by others (mode "
                          f"{stat.S_IMODE(facts.st_mode):o}, owner uid {facts.st_uid}); it holds the offsite "
                          f"credentials: chown {os.geteuid()} {path} && chmod 600 {path}")


def wanted_variables(config: OpsConfig) -> dict[str, str]:
    """option -> variable for every secret the remotes need (the crypt's only when copies are encrypted)."""
    setup = config.offsite_setup
    wanted = dict(setup.secret_options)
    if not config.offsite.plaintext:
        wanted["password"] = setup.crypt_password
        if setup.crypt_salt:
            wanted["password2"] = setup.crypt_salt
    return wanted


def read_secrets(run: SetupRun) -> dict:
    """Every secret variable the set-up needs is set in the secrets file; each is registered as a secret."""
    config = run.ctx.config
    if not config.offsite_setup.backend:
        raise ConfigError("[offsite_setup] backend is not set: say which storage the offsite copies go to, e.g. "
                          'backend = "drive" (docs/BACKUPS.md section 3)')
    source = secrets_source(config)
    if config.offsite_setup.secrets_file:
        _only_owner_reads(source)
    missing = []
    for option, variable in wanted_variables(config).items():
        value = env_value(source, variable)
        if not value:
            missing.append(f"{variable} (for {option})")
            continue
        register_secret(value)
        run.secrets[variable] = value
    if missing:
        raise ConfigError(f"{source} does not set {', '.join(missing)}: add a line VARIABLE=value for each "
                          "(the crypt password and salt: keep a copy outside this server too, docs/BACKUPS.md)")
    return {"secrets file": str(source), "variables": sorted(run.secrets)}


def password_options(box: BackupBox, backend: str) -> set[str]:
    """The options rclone itself stores obscured for a backend (IsPassword in `rclone config providers`)."""
    providers = json.loads(box.run(cmd.providers(), limit="command").stdout)
    for provider in providers:
        if provider.get("Name") == backend:
            return {o["Name"] for o in provider.get("Options") or [] if o.get("IsPassword")}
    raise ConfigError(f"[offsite_setup] backend = {backend!r} is not a storage this rclone knows "
                      f"(it knows {', '.join(sorted(p.get('Name', '') for p in providers))})")


def _obscured(box: BackupBox, value: str) -> str:
    obscured = box.run(cmd.obscure_stdin(), input_text=value, limit="command").stdout.strip()
    register_secret(obscured)  # rclone reveals it without a key: as secret as the value
    return obscured


def wanted_sections(run: SetupRun, box: BackupBox) -> dict[str, dict[str, str]]:
    """The remotes [offsite_setup] describes: the storage, and the crypt remote over it unless plaintext."""
    config = run.ctx.config
    setup = config.offsite_setup
    hidden = password_options(box, setup.backend)
    base = {"type": setup.backend, **setup.options}
    for option, variable in setup.secret_options.items():
        value = run.secrets[variable]
        base[option] = _obscured(box, value) if option in hidden else value
    sections = {setup.base_remote: base}
    if not config.offsite.plaintext:
        crypt = {"type": "crypt", "remote": f"{setup.base_remote}:{setup.crypt_folder}",
                 "filename_encryption": "standard", "directory_name_encryption": "true",
                 "password": _obscured(box, run.secrets[setup.crypt_password])}
        if setup.crypt_salt:
            crypt["password2"] = _obscured(box, run.secrets[setup.crypt_salt])
        sections[config.offsite.remote.split(":", 1)[0]] = crypt
    return sections


def merged_config(existing: str, sections: dict[str, dict[str, str]]) -> tuple[str, list[str], list[str]]:
    """existing rclone.conf text with the sections it lacks added; (text, added, kept). A section already
    there is never changed: it may hold a Drive token that cannot be made again without a browser."""
    parser = configparser.RawConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # rclone's keys are case-sensitive
    parser.read_string(existing)
    added, kept = [], []
    for name, options in sections.items():
        if parser.has_section(name):
            kept.append(name)
            continue
        parser.add_section(name)
        for key, value in options.items():
            parser.set(name, key, value)
        added.append(name)
    text = io.StringIO()
    parser.write(text)
    return text.getvalue(), added, kept


def create_remotes(run: SetupRun) -> dict:
    """Add the remotes rclone.conf lacks (written under a partial name, then renamed); keep the ones it has."""
    box = run.box()
    done = box.run(files_cmd.read(CONF_PATH), limit="command", check=False)
    existing = done.stdout if done.returncode == 0 else ""
    text, run.added, run.kept = merged_config(existing, wanted_sections(run, box))
    if run.added:
        partial = f"{CONF_PATH}.partial"
        box.run(files_cmd.write_private_stdin_to(partial), input_text=text, limit="command")
        box.run(files_cmd.replace(partial, CONF_PATH), limit="command")
    return {"added": run.added, "kept as they were": run.kept, "config": CONF_PATH}


def probe_remote(run: SetupRun) -> dict:
    """Write, list, hash-check and delete a probe object through the remote the backups use."""
    config = run.ctx.config
    box = run.box()
    folder = f"{config.offsite.remote.rstrip('/')}/.opsuite-probe-{secrets.token_hex(6)}"
    name = "probe.bin"
    content = secrets.token_hex(32 * 1024)  # 64 KiB that no compression or dedupe shortens
    box.run(files_cmd.make_dir(PROBE_DIR), limit="command")
    box.run(files_cmd.write_stdin_to(f"{PROBE_DIR}/{name}"), input_text=content, limit="command")
    crypt = not config.offsite.plaintext
    try:
        try:
            box.run(cmd.copy_files(PROBE_DIR, folder, [name]), limit="copy")
        except CommandFailed as e:
            raise OffsiteError(f"cannot write to {folder}: {e.stderr_tail}; check the remote's credentials "
                               "([offsite_setup], docs/BACKUPS.md section 3)") from e
        listed = {f["Name"]: f["Size"] for f in _listing(box, folder)}
        if listed.get(name) != len(content):
            raise OffsiteError(f"the probe written to {folder} lists as {listed}: expected {name} of {len(content)} bytes")
        try:
            box.run(cmd.check(PROBE_DIR, folder, [name], crypt=crypt), limit="check")
        except CommandFailed as e:
            raise OffsiteError(f"the probe in {folder} does not match what was written: {e.stderr_tail}") from e
    finally:
        box.run(cmd.delete_file(f"{folder}/{name}"), limit="command", check=False)
        box.run(cmd.rmdir(folder), limit="command", check=False)
    left = box.run(cmd.lsjson(folder), limit="command", check=False)
    if left.returncode == 0 and left.stdout.strip() not in ("", "[]"):
        raise OffsiteError(f"the probe in {folder} could not be deleted: remove it by hand (rclone purge {folder})")
    return {"remote": config.offsite.remote, "probe bytes": len(content),
            "checked by": "cryptcheck (hash of the encrypted object)" if crypt else "rclone check (size and hash)",
            "written, listed, checked, deleted": True}


def _listing(box: BackupBox, folder: str) -> list[dict]:
    return json.loads(box.run(cmd.lsjson(folder), limit="command").stdout or "[]")


OFFSITE_SETUP = Runbook("offsite_setup", (
    Step("secrets", read_secrets),
    Step("remotes", create_remotes),
    Step("probe", probe_remote),
))


def set_up_offsite(ctx: OpsContext) -> SetupRun:
    """Run every step: read the secrets, add the remotes rclone.conf lacks, prove them with a probe."""
    run = SetupRun(ctx)
    with run.cleanup:
        OFFSITE_SETUP.run_all(run)
    return run
