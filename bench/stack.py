"""The bench's own disposable copy of the example stack: installed at 1.0.0, offsite stand-in set, always removed."""

import contextlib
from pathlib import Path
from typing import Iterator

import docker

from procedures import runner
from procedures.commands import docker as docker_cmd
from procedures.guards import THROWAWAY_VOLUME_PREFIX
from procedures.restore import DRILL_LABEL
from tests import disposable


def remove_restore_leftovers(stack: disposable.DisposableStack) -> None:
    """Remove restore servers of this project that a killed drill left behind (its name is in theirs),
    through the runner, whose guard lets only reserved-prefix volumes be removed."""
    prefix = f"{THROWAWAY_VOLUME_PREFIX}{stack.project}-"
    for name in runner.run(docker_cmd.container_names(prefix)).stdout.split():
        runner.run(docker_cmd.remove_container(name), check=False)
    for volume in docker.from_env().volumes.list(filters={"name": prefix}):
        if volume.name.startswith(prefix) and (volume.attrs.get("Labels") or {}) == DRILL_LABEL:
            runner.run(docker_cmd.remove_throwaway_volume(volume.name), check=False)


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
