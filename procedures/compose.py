"""The one place that runs `docker compose`, with TAG and the database volume name in its env."""

import json
import shlex
import os
from dataclasses import dataclass

from . import runner
from .commands import compose as cmd
from .config import VOLUME_VARIABLES, OpsConfig
from .redact import is_secret_name, register_secret, url_passwords
from .runner import Completed

# Rendering costs ~150 ms of compose start-up; a run asks for the model many times. The key holds
# everything the model depends on (argv, the process environment with the variables we add, each
# file's size and mtime), so an edited compose or env file (a volume switch rewrites one) renders afresh.
_rendered: dict[tuple, dict] = {}


def register_model_secrets(model: dict) -> dict:
    """Register for redaction every secret-named environment value of a rendered model, env files
    included (*PASSWORD*, *SECRET*, *TOKEN*, *PWD*, ...; PASS, KEY, AUTH, DSN as a part: SMTP_PASS,
    SENTRY_DSN), and the password of every URL with credentials in any value; returns the model."""
    for service in model.get("services", {}).values():
        for key, value in (service.get("environment") or {}).items():
            if value and is_secret_name(key):
                register_secret(str(value))
            for password in url_passwords(str(value or "")):
                register_secret(password)
    return model


def forget_rendered_models() -> None:
    """Drop every cached model (a long-lived process that measures or must see outside edits)."""
    _rendered.clear()


def _file_stamps(paths) -> tuple:
    stamps = []
    for path in paths:
        try:
            stat = os.stat(path)
            stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:
            stamps.append((str(path), None, None))
    return tuple(stamps)


def inputs(stack) -> list:
    """Every file a render of this stack reads: its compose files and its env file (compose's
    default, .env in the first file's directory, when none is given)."""
    env_file = stack.env_file or (stack.compose_files[0].parent / ".env" if stack.compose_files else None)
    return [*stack.compose_files, *([env_file] if env_file else [])]


def rendered_model(argv: list[str], env: dict[str, str], files) -> dict:
    """`docker compose config --format json` of argv, once per argv, environment and files' state;
    secrets found in it are registered for redaction. Callers must not change the returned dict."""
    key = (tuple(argv), hash(frozenset({**os.environ, **env}.items())), _file_stamps(files))
    if key not in _rendered:
        _rendered[key] = register_model_secrets(json.loads(runner.run(argv, env=env, limit="command").stdout))
    return _rendered[key]


@dataclass(frozen=True)
class Compose:
    config: OpsConfig
    tag: str | None = None

    def environment(self) -> dict[str, str]:
        """Variables the prod overlay interpolates: the release TAG, the database volume and, once a
        disaster restore has moved them, the uploads volume."""
        env = {variable: getattr(self.config.volumes, setting) for setting, variable in VOLUME_VARIABLES.items()
               if getattr(self.config.volumes, setting)}  # an empty uploads_volume: the file's own name
        if self.tag:
            env["TAG"] = self.tag
        return env

    def run(self, argv: list[str], **kwargs) -> Completed:
        return runner.run(argv, env={**self.environment(), **kwargs.pop("env", {})}, **kwargs)

    def operator_command(self, *args: str) -> str:
        """The compose command an operator pastes into a shell, from any directory, to run args on this
        stack as the suite does: its variables, project name, env file and every file (the generated
        overlay is not one of compose's default files, and it needs an explicit TAG)."""
        assignments = [f"{name}={shlex.quote(value)}" for name, value in sorted(self.environment().items())]
        return " ".join([*assignments, shlex.join(cmd.compose(self.config.stack, *args))])

    def rendered(self) -> dict:
        """The fully interpolated compose model, rendered once per TAG and files' state; secrets
        found in it are registered for redaction. Callers must not change the returned dict."""
        stack = self.config.stack
        return rendered_model(cmd.config_json(stack), self.environment(), inputs(stack))

    def rendered_every_profile(self) -> dict:
        """The model with every profile's services (and the volumes only they use), cached the same way."""
        stack = self.config.stack
        return rendered_model(cmd.config_json_every_profile(stack), self.environment(), inputs(stack))

    def containers(self) -> list[dict]:
        """`compose ps` rows (one JSON object per line in compose v2.21+)."""
        out = self.run(cmd.ps_json(self.config.stack), limit="command").stdout.strip()
        if not out:
            return []
        if out.startswith("["):
            return json.loads(out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def up(self, services: list[str], **kwargs) -> Completed:
        return self.run(cmd.up(self.config.stack, services, **kwargs), limit="compose_up")

    def run_once(self, service: str, command: list[str] | None = None, **kwargs) -> Completed:
        extra_env = kwargs.pop("env", {})
        argv = cmd.run_once(self.config.stack, service, command,
                            volumes=kwargs.pop("volumes", None), env_names=sorted(extra_env),
                            detach=kwargs.pop("detach", False), name=kwargs.pop("name", None),
                            no_deps=kwargs.pop("no_deps", False))
        return self.run(argv, env=extra_env, **kwargs)

    def stop(self, services: list[str]) -> Completed:
        return self.run(cmd.stop(self.config.stack, services), limit="command")

    def down(self) -> Completed:
        return self.run(cmd.down(self.config.stack), limit="command")

    def logs(self, services: list[str] | None = None, tail: int = 200) -> str:
        done = self.run(cmd.logs(self.config.stack, services, tail), limit="command", check=False)
        return done.stdout + done.stderr
