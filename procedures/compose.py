"""The one place that runs `docker compose`, with TAG and the database volume name in its env."""

import json
from dataclasses import dataclass

from . import runner
from .commands import compose as cmd
from .config import OpsConfig
from .redact import register_secret
from .runner import Completed

_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY", "PASSPHRASE")


@dataclass(frozen=True)
class Compose:
    config: OpsConfig
    tag: str | None = None

    def environment(self) -> dict[str, str]:
        """Variables the prod overlay interpolates: the release TAG and the database volume."""
        env = {"PGDATA_VOLUME": self.config.volumes.database}
        if self.tag:
            env["TAG"] = self.tag
        return env

    def run(self, argv: list[str], **kwargs) -> Completed:
        return runner.run(argv, env={**self.environment(), **kwargs.pop("env", {})}, **kwargs)

    def rendered(self) -> dict:
        """The fully interpolated compose model; secrets found in it are registered for redaction."""
        model = json.loads(self.run(cmd.config_json(self.config.stack)).stdout)
        for service in model.get("services", {}).values():
            for key, value in (service.get("environment") or {}).items():
                if value and any(word in key.upper() for word in _SECRET_WORDS):
                    register_secret(str(value))
        return model

    def containers(self) -> list[dict]:
        """`compose ps` rows (one JSON object per line in compose v2.21+)."""
        out = self.run(cmd.ps_json(self.config.stack)).stdout.strip()
        if not out:
            return []
        if out.startswith("["):
            return json.loads(out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def up(self, services: list[str], **kwargs) -> Completed:
        return self.run(cmd.up(self.config.stack, services, **kwargs))

    def run_once(self, service: str, command: list[str] | None = None, **kwargs) -> Completed:
        extra_env = kwargs.pop("env", {})
        argv = cmd.run_once(self.config.stack, service, command,
                            volumes=kwargs.pop("volumes", None), env_names=sorted(extra_env),
                            detach=kwargs.pop("detach", False), name=kwargs.pop("name", None),
                            no_deps=kwargs.pop("no_deps", False))
        return self.run(argv, env=extra_env, **kwargs)

    def stop(self, services: list[str]) -> Completed:
        return self.run(cmd.stop(self.config.stack, services))

    def down(self) -> Completed:
        return self.run(cmd.down(self.config.stack))

    def logs(self, services: list[str] | None = None, tail: int = 200) -> str:
        done = self.run(cmd.logs(self.config.stack, services, tail), check=False)
        return done.stdout + done.stderr
