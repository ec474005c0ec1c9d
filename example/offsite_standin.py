"""Demo and tests only: point the backup service's `gdrive:` remote at the SFTP stand-in, with the
`gdrive-crypt:` remote over it that offsite copies go through by default.

Production configures a real Google Drive remote instead (docs/BACKUPS.md). Passwords reach
rclone through stdin and are stored obscured in the rclone_config volume, as `rclone config` does.
"""

import sys
from pathlib import Path

from procedures.load import load_config
from procedures.env_file import env_value as procedures_env_value
from procedures.context import OpsContext, prepared_context
from procedures.overlay import RCLONE_CONFIG_DIR
from procedures.redact import register_secret
from procedures.stack.serving import with_serving_tag
from procedures.stack.volumes import ensure_data_volumes

CONF_PATH = f"{RCLONE_CONFIG_DIR}/rclone.conf"  # where the backup service's RCLONE_CONFIG points


def _obscure(ctx: OpsContext, secret: str) -> str:
    register_secret(secret)
    done = ctx.compose.run_once(ctx.config.services.backup, ["rclone", "obscure", "-"], input_text=secret,
                                no_deps=True, limit="command")
    obscured = done.stdout.strip()
    register_secret(obscured)
    return obscured


def rclone_conf(sftp_pass_obscured: str, crypt_pass_obscured: str) -> str:
    text = ("[gdrive]\ntype = sftp\nhost = offsite\nport = 2022\nuser = backup\n"
            f"pass = {sftp_pass_obscured}\nshell_type = unix\n"
            "md5sum_command = md5sum\nsha1sum_command = sha1sum\n")
    text += (f"\n[gdrive-crypt]\ntype = crypt\nremote = gdrive:encrypted\n"
             f"password = {crypt_pass_obscured}\nfilename_encryption = standard\n")
    return text


def configure(ctx: OpsContext, offsite_password: str, crypt_password: str) -> None:
    """Start the stand-in server and write rclone.conf into the rclone_config volume (replacing any earlier one)."""
    ensure_data_volumes(ctx)
    ctx.compose.up(["offsite"])
    conf = rclone_conf(_obscure(ctx, offsite_password), _obscure(ctx, crypt_password))
    ctx.compose.run_once(ctx.config.services.backup, ["dd", f"of={CONF_PATH}", "status=none"], input_text=conf,
                         no_deps=True, limit="command")


def env_value(env_file: Path, name: str) -> str:
    """The variable's value in the stack's env file; exits naming it when the file does not set it."""
    return procedures_env_value(env_file, name) or sys.exit(f"{name} is not set in {env_file}")


if __name__ == "__main__":
    config = load_config(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("ops.toml"))
    context = with_serving_tag(prepared_context(config))
    configure(context, env_value(config.stack.env_file, "OFFSITE_PASSWORD"),
              env_value(config.stack.env_file, "OFFSITE_CRYPT_PASSWORD"))
    print(f"rclone remotes gdrive: and gdrive-crypt: now point at the SFTP stand-in of {config.stack.project}")
