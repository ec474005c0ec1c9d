"""One long-lived container of the `backup` service per run: every backup command execs in it.

Starting one container instead of one per command keeps the run close to the raw pg_dump cost.
"""

import contextlib
import os
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Iterator

from . import docker_api, lock, runner
from .commands import docker as cmd
from .compose import Compose
from .context import OpsContext
from .stack.serving import with_serving_tag
from .stack.volumes import ensure_data_volumes


@dataclass(frozen=True)
class BackupBox:
    name: str
    service: str = "opsuite-backup"  # the compose service it runs, for the commands errors suggest
    # The stack's compose, for the commands errors suggest; None for a throwaway container the suite
    # only execs in (an extractor, a checker), which never suggests one.
    compose: Compose | None = None
    # Answers this run may reuse: questions whose answer nothing in the run can change (a remote's config
    # and features, a name's encryption). Per box, so per run: the next run asks again.
    answers: dict = field(default_factory=dict, compare=False, repr=False)

    def how_to_run(self, args: str) -> str:
        """The command an operator pastes to run args in a one-off container of the backup service."""
        return f"{self.compose.operator_command('run', '--rm', '--no-deps', self.service)} {args}"

    def set_up_command(self) -> str:
        """The check that creates and proves the offsite remotes from [offsite_setup]."""
        return f"pytest ops_checks/offsite_setup.py --ops-config={shlex.quote(str(self.compose.config.source or 'ops.toml'))}"

    def run(self, argv: list[str], **kwargs) -> runner.Completed:
        return runner.run(cmd.exec_in(self.name, argv), **kwargs)

    def ask_once(self, argv: list[str], limit: str = "command") -> str:
        """The stdout of argv, run the first time this box is asked it; only for a question whose answer
        nothing in this run can change."""
        key = tuple(argv)
        if key not in self.answers:
            self.answers[key] = self.run(argv, limit=limit).stdout
        return self.answers[key]

    def session(self, argv: list[str]):
        return runner.session(cmd.exec_in(self.name, argv))

    def host_path(self, path: str) -> Path | None:
        """Where a path inside the container is on this host (its mount's source), to stat a growing file
        without an exec; None when this host cannot see it (remote or rootless Docker, no permission)."""
        mounts = docker_api.container_mounts(self.name)
        for mount in sorted(mounts, key=lambda m: len(m["Destination"]), reverse=True):
            inside = PurePosixPath(path)
            if inside.is_relative_to(mount["Destination"]) and mount.get("Source"):
                source = Path(mount["Source"])
                return source / inside.relative_to(mount["Destination"]) if source.is_dir() else None
        return None

    def volume_at(self, destination: str) -> str:
        """Name of the volume mounted at destination (compose may have prefixed or renamed it)."""
        mounts = docker_api.container_mounts(self.name)
        return next(m["Name"] for m in mounts if m["Destination"] == destination)


def remove_leftover_boxes(ctx: OpsContext) -> list[str]:
    """Remove backup containers a killed run left behind; call only while holding the lock."""
    prefix = f"{ctx.config.stack.project}-backup-"
    names = docker_api.container_names(prefix)
    for name in (n for n in names if n.startswith(prefix)):
        runner.run(cmd.remove_container(name), limit="command", check=False)
    return names


@contextlib.contextmanager
def backup_box(ctx: OpsContext, volumes: list[str] | None = None) -> Iterator[BackupBox]:
    """Start the backup service detached (with the extra volumes given), yield it, always remove it.

    --no-deps: a backup never starts the database itself; a stopped database fails the preflight.
    """
    remove_leftover_boxes(ctx)
    ensure_data_volumes(ctx)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    name = f"{ctx.config.stack.project}-backup-{stamp}-{os.getpid()}"
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(runner.run, cmd.remove_container(name), limit="command", check=False)
        ctx.compose.run_once(ctx.config.services.backup, ["sleep", "infinity"], detach=True, limit="command", name=name,
                             no_deps=True, volumes=volumes, env={**ctx.engine.client_environment(ctx),
                                                **ctx.config.offsite.rclone_environment()})
        yield BackupBox(name, ctx.config.services.backup, ctx.compose)


def locked_box(ctx: OpsContext, action: str, cleanup: contextlib.ExitStack, *,
               break_stale: bool = False) -> tuple[OpsContext, BackupBox]:
    """The stack's lock and a backup container, for a run that needs them only in some steps: the ctx at the
    serving TAG and the box, both released by cleanup (nothing is held when opening fails)."""
    with contextlib.ExitStack() as opening:
        ctx = with_serving_tag(ctx)
        opening.enter_context(lock.hold_stack(ctx.config, action, break_stale=break_stale))
        box = opening.enter_context(backup_box(ctx))
        cleanup.enter_context(opening.pop_all())
    return ctx, box
