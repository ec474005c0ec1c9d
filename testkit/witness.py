"""What a fault must not cost, noted before it and checked after: the sentinel row, the release
serving, every backup set (local and offsite) and every volume of the stack."""

from dataclasses import dataclass
from uuid import uuid4

import httpx

from procedures.backup import names
from procedures.stack.readiness import served_release

from .backup_helpers import local_files, remote_files
from .disposable import list_project_volumes


@dataclass(frozen=True)
class Witness:
    sentinel: str
    serving: dict
    local_sets: frozenset
    remote_sets: frozenset
    volumes: frozenset


def take(stack) -> Witness:
    """Write a sentinel note through the app, then note what serves and what exists."""
    ctx = stack.ctx
    sentinel = f"sentinel {uuid4().hex[:8]}"
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": sentinel}).status_code == 201
    return Witness(sentinel, served_release(ctx), frozenset(names.group_files(local_files(ctx))),
                   frozenset(names.group_files(remote_files(ctx))), frozenset(list_project_volumes(stack)))


def assert_intact(stack, before: Witness) -> None:
    """The previous release serves, the sentinel is there, no set and no volume is gone."""
    ctx = stack.ctx
    assert served_release(ctx) == before.serving, "the previous release keeps serving"
    assert ctx.database.query(f"SELECT count(*) FROM notes WHERE body = '{before.sentinel}'") == "1"
    assert before.local_sets <= set(names.group_files(local_files(ctx))), "no local backup set lost"
    assert before.remote_sets <= set(names.group_files(remote_files(ctx))), "no offsite backup set lost"
    assert before.volumes <= set(list_project_volumes(stack)), "no volume lost"
