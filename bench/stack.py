"""The bench's own disposable copy of the example stack: installed at 1.0.0, offsite stand-in set, always removed."""

import contextlib
from pathlib import Path
from typing import Iterator

import docker

from procedures.guards import THROWAWAY_VOLUME_PREFIX
from procedures.restore import DRILL_LABEL
from tests import disposable


def remove_restore_leftovers(stack: disposable.DisposableStack) -> None:
    """Remove restore servers of this project that a killed drill left behind (its name is in theirs)."""
    prefix = f"{THROWAWAY_VOLUME_PREFIX}{stack.project}-"
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"name": prefix}):
        if container.name.startswith(prefix):
            container.remove(force=True)
    for volume in client.volumes.list(filters={"name": prefix}):
        if volume.name.startswith(prefix) and (volume.attrs.get("Labels") or {}) == DRILL_LABEL:
            volume.remove(force=True)


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
