"""The drill's paths step: extract the set's archive of [backup] paths into a throwaway volume and
compare every member with what the manifest recorded at backup time (path, size, sha256, mode,
owner of each file; mode and owner of each directory; links and other entries by name).

The archive is extracted only there, never over the live paths: the throwaway volume carries the
reserved prefix and the drill's label, its container has no network and the backups read-only,
and the one removal path (throwaway.remove_throwaway) removes both at the end of the run unless
--keep. A disaster restore does not put the paths back by itself (docs/RESTORE_RUNBOOK.md section 5).
"""

import secrets
from datetime import datetime, timezone

from .. import docker_api, runner
from ..box import BackupBox
from ..commands import docker as docker_cmd
from ..commands import files as files_cmd
from ..errors import RestoreError
from ..guards import THROWAWAY_VOLUME_PREFIX
from ..sets import uploads_list
from .throwaway import DRILL_LABEL, remove_throwaway

EXTRACTED_AT = "/restored-paths"


def not_applicable(run) -> str | None:
    """Why the chosen set has no archive of host paths to extract (None: it has one, or nothing is chosen yet)."""
    if run.chosen is None:
        return None
    recorded = run.chosen.manifest.get("paths")
    if not recorded:
        return "the set has no archive of host paths ([backup] paths was empty when it was taken)"
    if "members" not in recorded:
        return ("the set was taken before the archive's members were recorded: its checksum and entry count "
                "were checked when it was chosen, its files cannot be compared")
    return None


def throwaway_name(project: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"{THROWAWAY_VOLUME_PREFIX}{project}-paths-{stamp}-{secrets.token_hex(3)}"


def compare(recorded: dict, extracted: dict) -> dict:
    """Files, directories and other entries (links) the manifest recorded against those extracted:
    missing, extra and differing, by path. Directories the extraction made above the recorded ones
    (srv/, srv/shop/) are not extra."""
    files = uploads_list.compare(recorded["files"], extracted["files"])
    want = {d["path"]: d for d in recorded.get("directories", [])}
    got = {d["path"]: d for d in extracted.get("directories", [])}
    directories = [{"path": path, **{k: {"recorded": want[path][k], "restored": got[path].get(k)}
                                     for k in ("mode", "uid", "gid") if want[path][k] != got[path].get(k)}}
                   for path in sorted(set(want) & set(got))]
    return {"missing": files.missing + sorted(set(want) - set(got)),
            "extra": files.extra,
            "differing": files.differing + [d for d in directories if len(d) > 1],
            "other_missing": sorted(set(recorded.get("skipped", [])) - set(extracted.get("skipped", []))),
            "other_extra": sorted(set(extracted.get("skipped", [])) - set(recorded.get("skipped", [])))}


def describe(difference: dict, limit: int = 10) -> str:
    parts = []
    for label, items in difference.items():
        names = [i["path"] if isinstance(i, dict) else i for i in items]
        if names:
            shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
            parts.append(f"{len(names)} {label.replace('_', ' ')}: {shown}")
    return "; ".join(parts)


def extract_and_compare(run) -> dict:
    """Extract the set's archive of host paths into a fresh throwaway volume (no network, backups
    read-only; never over the live paths), walk what came out and compare it with the members the
    manifest recorded; refuse, naming the archive and the files, when they differ."""
    chosen, project = run.chosen, run.ctx.config.stack.project
    recorded = chosen.manifest["paths"]
    in_backups = "/".join(p for p in (chosen.folder, recorded["file"]) if p)
    name = throwaway_name(project)
    if not run.keeps_server:
        run.cleanup.callback(remove_throwaway, name)
    runner.run(docker_cmd.volume_create(name, DRILL_LABEL), limit="command")
    image = docker_api.image_references([run.box.name])[0]
    runner.run(docker_cmd.run_isolated_idle(name, image, name, EXTRACTED_AT, run.box.volume_at(run.ctx.config.backup.directory),
                                            DRILL_LABEL), limit="command")
    extractor = BackupBox(name)
    extractor.run(files_cmd.extract_archive(f"{docker_cmd.BACKUPS_MOUNT}/{in_backups}", EXTRACTED_AT), limit="restore")
    extracted = uploads_list.walk(extractor, "tree", EXTRACTED_AT)
    difference = compare(recorded["members"], extracted)
    found = run.record["paths"] = {
        "archive": recorded["file"], "paths": recorded["paths"], "volume": name,
        "recorded": {"files": len(recorded["members"]["files"]), "bytes": recorded.get("bytes"),
                     "directories": len(recorded["members"]["directories"])},
        "extracted": {"files": len(extracted["files"]), "bytes": sum(f["size"] for f in extracted["files"])},
        **difference, "kept": f"docker exec -it {name} ls -lR {EXTRACTED_AT}" if run.keeps_server else None}
    if any(difference.values()):
        raise RestoreError(f"the host paths extracted from {recorded['file']} ({', '.join(recorded['paths'])}) differ "
                           f"from the members its manifest recorded at backup time: {describe(difference)}")
    return found
