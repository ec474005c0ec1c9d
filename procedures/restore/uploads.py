"""The restore's uploads step: rebuild the set's uploads from its list and the store (or unpack its
tar.gz) into a volume of their own and compare every file with the list recorded at backup time
(path, size, sha256, mode, owner).

The drill's volume carries the reserved throwaway prefix and the drill's label, so the one removal
path (throwaway.remove_throwaway) may remove it. Disaster mode restores into a NEW uploads volume
that the switch then moves the app onto with the database; it is never removed. The live uploads
volume is never mounted by either.
"""

import json
import secrets
from datetime import datetime, timezone

from .. import docker_api, restored_names, runner
from ..box import BackupBox
from ..commands import docker as docker_cmd
from ..commands import files as files_cmd
from ..errors import RestoreError
from ..guards import THROWAWAY_VOLUME_PREFIX
from ..sets import uploads_list
from ..stack import volumes
from . import disaster
from .throwaway import DRILL_LABEL, remove_throwaway

RESTORED_AT = "/restored-uploads"


def not_applicable(run) -> str | None:
    """Why the chosen set has no uploads to compare (None: it has them, or nothing is chosen yet)."""
    if run.chosen is None:
        return None
    recorded = run.chosen.manifest.get("uploads")
    if not recorded:
        return ("the set has no uploads: the app keeps no files ([volumes] uploads = \"\"), or [backup] "
                "uploads_archive was false when it was taken")
    if not recorded.get("list"):
        return ("the set was taken before uploads file lists were recorded: its archive's checksum was "
                "checked when it was chosen, its files cannot be compared")
    return None


def not_applicable_to_disaster(run) -> str | None:
    """Why a disaster restore moves only the database: the stack keeps no uploads, or the set has none."""
    if not run.ctx.config.volumes.uploads:
        return "the stack keeps no uploads ([volumes] uploads is empty): only the database is restored"
    reason = not_applicable(run)
    return f"{reason}: the stack keeps its uploads volume" if reason else None


def throwaway_name(project: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"{THROWAWAY_VOLUME_PREFIX}{project}-uploads-{stamp}-{secrets.token_hex(3)}"


def how_to_inspect(name: str) -> str:
    return (f"docker exec -it {name} ls -lR {RESTORED_AT}\n"
            f"clean up: docker rm -f {name}, then remove the volume of the same name "
            "(docs/RESTORE_RUNBOOK.md section 2)")


def restore_and_compare(run) -> dict:
    """Rebuild the uploads from the list and the store, checking each object's hash as it is copied
    (or unpack the set's tar.gz), into a fresh throwaway volume (no network, backups read-only),
    list it and compare with the recorded list; refuse, naming the files, when they differ.
    The volume is removed at the end of the run unless --keep."""
    name = throwaway_name(run.ctx.config.stack.project)
    if not run.keeps_server:
        run.cleanup.callback(remove_throwaway, name)
    runner.run(docker_cmd.volume_create(name, DRILL_LABEL), limit="command")
    return rebuild_and_compare(run, name, name, DRILL_LABEL, {"kept": how_to_inspect(name) if run.keeps_server else None})


def restore_into_new_volume(run) -> dict:
    """Disaster mode: create a NEW uploads volume (<uploads volume>_restored_<stamp>, this stack's
    labels), rebuild the set's uploads into it with their owners and compare them with the list, as the
    drill does; then remove the container that wrote it, so the switch finds the volume unmounted.
    The volume is kept whatever happens next. Refused without CONFIRM=YES."""
    disaster.require_confirmation()
    project, now = run.ctx.config.stack.project, datetime.now(timezone.utc)
    current = volumes.uploads_volume_in_use(run.ctx)
    name = restored_names.new_name(current, now)
    volumes.create_volume(name, "uploads", project, {disaster.RESTORED_LABEL: run.chosen.set_name,
                                            disaster.PROJECT_LABEL: project})
    run.uploads_volume = name
    container = f"opsuite-disaster-uploads-{project}-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    run.cleanup.callback(disaster.remove_restore_container, container)
    found = rebuild_and_compare(run, name, container, disaster.container_labels(run.ctx), {"old volume": current})
    disaster.remove_restore_container(container)
    run.record["new_uploads_volume"] = name
    return found


def rebuild_and_compare(run, volume: str, container: str, labels: dict[str, str], noted: dict) -> dict:
    """Rebuild or unpack the chosen set's uploads into volume through an isolated container (no network,
    backups read-only) and compare them with the recorded list; refuse, naming the files, when they
    differ. What was found (and noted) goes into the run's record either way."""
    chosen, directory = run.chosen, run.ctx.config.backup.directory
    recorded = chosen.manifest["uploads"]
    source = recorded.get("file") or recorded["store"]
    in_backups = "/".join(p for p in (chosen.folder, source) if p)
    list_path = "/".join(p for p in (directory, chosen.folder, recorded["list"]["file"]) if p)
    expected = uploads_list.read(run.box, list_path, recorded["list"]["sha256"])

    image = docker_api.image_references([run.box.name])[0]
    backups_volume = run.box.volume_at(directory)
    runner.run(docker_cmd.run_isolated_idle(container, image, volume, RESTORED_AT, backups_volume, labels), limit="command")
    checker = BackupBox(container)
    if "file" in recorded:
        checker.run(files_cmd.extract_archive(f"{docker_cmd.BACKUPS_MOUNT}/{in_backups}", RESTORED_AT), limit="restore")
        rebuilt = None
    else:
        in_mount = "/".join((docker_cmd.BACKUPS_MOUNT, *(p for p in (chosen.folder, recorded["list"]["file"]) if p)))
        rebuilt = json.loads(checker.run(files_cmd.rebuild_uploads(in_mount, f"{docker_cmd.BACKUPS_MOUNT}/{in_backups}",
                                                                   RESTORED_AT),
                                         input_text=uploads_list.WALK_SOURCE, limit="restore").stdout)
    restored = uploads_list.walk(checker, "tree", RESTORED_AT)
    difference = uploads_list.compare(expected["files"], restored["files"])
    found = run.record["uploads"] = {
        **noted, "volume": volume, "archive": source, "store_objects_absent": (rebuilt or {}).get("absent", []),
        "store_objects_corrupt": (rebuilt or {}).get("corrupt", []), "recorded": uploads_list.summary(expected),
        "restored": uploads_list.summary(restored), "missing": difference.missing, "extra": difference.extra,
        "differing": difference.differing}
    if not difference.same:
        raise RestoreError(f"the uploads restored from {source} differ from the list recorded at "
                           f"backup time: {difference.describe()}")
    return found
