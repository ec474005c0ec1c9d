"""The bench's own disposable copy of the example stack: installed at 1.0.0, offsite stand-in set, always removed."""

import contextlib
from pathlib import Path
from typing import Iterator

import docker

from procedures import runner
from procedures.restore import throwaway
from procedures.commands import docker as docker_cmd
from procedures.guards import THROWAWAY_VOLUME_PREFIX
from testkit import disposable


def remove_restore_leftovers(stack: disposable.DisposableStack) -> None:
    """Remove throwaway restore servers of this project that a killed drill left behind (its name is in theirs)."""
    prefix = f"{THROWAWAY_VOLUME_PREFIX}{stack.project}-"
    containers = runner.run(docker_cmd.container_names(prefix), limit="command").stdout.split()
    volumes = [v.name for v in docker.from_env().volumes.list(filters={"name": prefix})]
    for name in sorted({n for n in (*containers, *volumes) if n.startswith(prefix)}):
        throwaway.remove_throwaway(name)


@contextlib.contextmanager
def bench_stack(workdir: Path) -> Iterator[disposable.DisposableStack]:
    """A disposable stack ready to serve and back up; removed on every exit, Ctrl-C included."""
    stack = disposable.create(workdir)
    try:
        disposable.bring_up(stack)
        disposable.configure_offsite(stack)
        yield stack
    finally:
        remove_restore_leftovers(stack)
        disposable.destroy(stack)
