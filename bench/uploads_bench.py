"""Nightly uploads cost: bytes a backup writes locally and sends offsite, for a first backup and for
a second one with the uploads unchanged. With a full uploads archive in every set the second costs
as much as the first, so kept sets x uploads size is what the disk and the remote hold.

`python -m bench.uploads_bench [--files N] [--file-kib K]` runs it alone on its own disposable stack.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import httpx

from procedures.backup import names
from procedures.backup import pipeline as backup
from procedures.context import OpsContext
from testkit.backup_helpers import local_files, remote_files

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


def one_night(ctx: OpsContext) -> dict:
    """One backup: the bytes of the files it added locally and uploaded, uploads' share apart."""
    before = local_files(ctx)
    result = backup.backup(ctx)
    added = {n: s for n, s in local_files(ctx).items() if n not in before}
    remote = remote_files(ctx)
    sent = {n: remote[n].size for n in result.uploaded if n in remote}
    return {"set": result.set_name,
            "local_bytes": sum(added.values()), "local_uploads_bytes": sum(s for n, s in added.items() if _is_uploads(n)),
            "offsite_bytes": sum(sent.values()),
            "offsite_uploads_bytes": sum(s for n, s in sent.items() if _is_uploads(n)),
            "seconds": {k: round(v, 3) for k, v in result.timings.items()}}


def run(ctx: OpsContext, files: int = 200, file_bytes: int = 256 * 1024) -> dict:
    uploads_bytes = fill_uploads(ctx, files, file_bytes)
    first = one_night(ctx)
    say("uploads", f"first backup: {first['local_bytes']} bytes locally, {first['offsite_bytes']} offsite")
    second = one_night(ctx)
    say("uploads", f"second backup, uploads unchanged: {second['local_bytes']} bytes locally, "
                   f"{second['offsite_bytes']} offsite")
    return {"mechanism": "full tar.gz + file list per set", "uploads_files": files,
            "uploads_bytes": uploads_bytes, "first": first, "second_unchanged": second,
            "second_over_first_local": round(second["local_uploads_bytes"] / max(first["local_uploads_bytes"], 1), 3),
            "second_over_first_offsite": round(second["offsite_uploads_bytes"]
                                               / max(first["offsite_uploads_bytes"], 1), 3)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.uploads_bench", description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=200)
    p.add_argument("--file-kib", type=int, default=256)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opsuite-bench-") as tmp, bench_stack(Path(tmp)) as stack:
        found = run(stack.ctx, args.files, args.file_kib * 1024)
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
