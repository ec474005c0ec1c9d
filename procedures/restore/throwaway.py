"""A throwaway server for the restore drill: a fresh volume with the reserved prefix, removed afterwards.

The engine starts the server (no network, backups read-only); this module owns the volume's
name, label and removal. The live database and its volume are never touched.
"""

import contextlib
import secrets
from datetime import datetime, timezone
from typing import Iterator

from .. import runner
from ..box import BackupBox
from ..commands import docker as cmd
from ..context import OpsContext
from ..engines.targets import DRILL, RestoreTarget, TargetPlan
from ..guards import THROWAWAY_VOLUME_PREFIX
from ..stack import volumes

DRILL_LABEL = {"io.opsuite.role": "restore-test"}


def remove_throwaway(name: str) -> None:
    """Remove a drill's throwaway server and its volume (they share the name); no other volume."""
    runner.run(cmd.remove_container(name), limit="command", check=False)
    facts = volumes.inspect_volume(name)
    if name.startswith(THROWAWAY_VOLUME_PREFIX) and facts is not None and facts.labels == DRILL_LABEL:
        runner.run(cmd.remove_throwaway_volume(name), limit="command", check=False)


@contextlib.contextmanager
def throwaway_server(ctx: OpsContext, box: BackupBox, database: str, *, server_version_num: int = 0,
                     keep: bool = False) -> Iterator[RestoreTarget]:
    """Start an isolated server able to restore a dump of server_version_num on a fresh throwaway volume;
    both are removed on exit unless keep."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-{stamp}-{secrets.token_hex(3)}"

    def new_volume() -> str:
        runner.run(cmd.volume_create(name, DRILL_LABEL), limit="command")
        return name

    with contextlib.ExitStack() as cleanup:
        if not keep:
            cleanup.callback(remove_throwaway, name)
        yield ctx.engine.restore_target(ctx, box, TargetPlan(DRILL, name, DRILL_LABEL, new_volume, database,
                                                             server_version_num))
