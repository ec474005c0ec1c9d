"""Nightly uploads cost: bytes a backup writes locally and sends offsite, for a first backup and for
a second one with the uploads unchanged, for each mechanism in one run on the same uploads. With a
full uploads archive in every set ("archive") the second costs as much as the first; with the
content-addressed store ("store", the default) it costs the set's file list only.

`python -m bench.uploads_bench [--files N] [--file-kib K] [--mechanism store|archive ...]` runs it
alone on its own disposable stack.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import httpx

from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.context import OpsContext
from procedures.remote import uploads_store
from procedures.sets import names
from testkit.backup_helpers import local_files, remote_files, with_config

MECHANISMS = {"store": "content-addressed store + file list per set", "archive": "full tar.gz + file list per set"}

from .progress import say
from .stack import bench_stack


def fill_uploads(ctx: OpsContext, files: int, file_bytes: int) -> int:
    """Upload files of random bytes through the api (incompressible: the worst case for tar.gz)."""
    base = ctx.config.http.base_url
    for i in range(files):
        assert httpx.put(f"{base}/uploads/bench-{i:05}.bin", content=os.urandom(file_bytes),
                         timeout=60).status_code == 201
    return files * file_bytes


def _is_uploads(name: str) -> bool:
    parsed = names.parse_set_name(name)
    return parsed is not None and parsed.kind in ("uploads", "uploads_list")


def store_objects(ctx: OpsContext) -> tuple[dict[str, int], dict[str, int]]:
    """Object -> size in the local store and in the remote store (empty before the first store night)."""
    store = uploads_store.store_dir(ctx.config.stack.project)
    local_store = f"{ctx.config.backup.directory}/{store}"
    remote_store = f"{ctx.config.offsite.path(ctx.config.stack.environment)}/{store}"
    with backup_box(ctx) as box:
        box.run(files_cmd.make_dir(local_store), limit="command")
        local = box.run(["find", local_store, "-mindepth", "2", "-maxdepth", "2", "-type", "f",
                         "-printf", "%P\t%s\n"], limit="command").stdout.splitlines()
        remote = box.run(["rclone", "lsjson", "--recursive", "--files-only", remote_store], check=False, limit="command")
    rows = json.loads(remote.stdout or "[]") if remote.returncode == 0 else []
    return ({o: int(s) for o, s in (line.split("\t") for line in local)}, {r["Path"]: r["Size"] for r in rows})


def one_night(ctx: OpsContext) -> dict:
    """One backup: the bytes of the files (and store objects) it added locally and uploaded,
    uploads' share apart."""
    before, (objects_before, remote_objects_before) = local_files(ctx), store_objects(ctx)
    result = backup.backup(ctx)
    added = {n: s for n, s in local_files(ctx).items() if n not in before}
    objects, remote_objects = store_objects(ctx)
    new_objects = sum(s for o, s in objects.items() if o not in objects_before)
    sent_objects = sum(s for o, s in remote_objects.items() if o not in remote_objects_before)
    remote = remote_files(ctx)
    sent = {n: remote[n].size for n in result.uploaded if n in remote}
    return {"set": result.set_name,
            "local_bytes": sum(added.values()) + new_objects,
            "local_uploads_bytes": sum(s for n, s in added.items() if _is_uploads(n)) + new_objects,
            "offsite_bytes": sum(sent.values()) + sent_objects,
            "offsite_uploads_bytes": sum(s for n, s in sent.items() if _is_uploads(n)) + sent_objects,
            "store_objects_added": {"local": len(set(objects) - set(objects_before)),
                                    "offsite": len(set(remote_objects) - set(remote_objects_before))},
            "seconds": {k: round(v, 3) for k, v in result.timings.items()}}


def two_nights(ctx: OpsContext, mechanism: str) -> dict:
    ctx = with_config(ctx, backup={"uploads_store": mechanism == "store"})
    first = one_night(ctx)
    say("uploads", f"{mechanism}: first backup: {first['local_bytes']} bytes locally, {first['offsite_bytes']} offsite")
    second = one_night(ctx)
    say("uploads", f"{mechanism}: second backup, uploads unchanged: {second['local_bytes']} bytes locally, "
                   f"{second['offsite_bytes']} offsite")
    return {"mechanism": MECHANISMS[mechanism], "first": first, "second_unchanged": second,
            "second_over_first_local": round(second["local_uploads_bytes"] / max(first["local_uploads_bytes"], 1), 4),
            "second_over_first_offsite": round(second["offsite_uploads_bytes"]
                                               / max(first["offsite_uploads_bytes"], 1), 4)}


def run(ctx: OpsContext, files: int = 200, file_bytes: int = 256 * 1024,
        mechanisms: tuple[str, ...] = ("archive", "store")) -> dict:
    """Fill the uploads once, then two nights per mechanism (the store's first night starts empty)."""
    uploads_bytes = fill_uploads(ctx, files, file_bytes)
    return {"uploads_files": files, "uploads_bytes": uploads_bytes,
            "mechanisms": {m: two_nights(ctx, m) for m in mechanisms}}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.uploads_bench", description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=200)
    p.add_argument("--file-kib", type=int, default=256)
    p.add_argument("--mechanism", action="append", choices=sorted(MECHANISMS),
                   help="measure only these (repeatable); default: archive, then store")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opsuite-bench-") as tmp, bench_stack(Path(tmp)) as stack:
        found = run(stack.ctx, args.files, args.file_kib * 1024, tuple(args.mechanism or ("archive", "store")))
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
