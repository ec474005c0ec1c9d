"""Re-check a finished backup set on disk against its manifest before anything relies on it."""

from ..box import BackupBox
from ..commands import files as cmd
from ..errors import BackupError
from . import files, manifest


def verify_set(engine, box: BackupBox, directory: str, set_name: str) -> dict:
    """Readable dump and checksums equal to the set's manifest; returns the manifest."""
    recorded = manifest.read(box, f"{directory}/{files.file_name(set_name, 'manifest')}")
    made_by = recorded.get("engine")
    if made_by != engine.name:
        raise BackupError(f"{set_name} was made by the {made_by!r} engine, and this stack's [database] engine is "
                          f"{engine.name!r}: its dump cannot be read or restored here. Use a set of this stack's "
                          "engine, or a config whose [database] engine is the set's")
    dump_path = f"{directory}/{recorded['dump']['file']}"
    engine.verify_dump(box, dump_path, manifest.restorable_by(recorded))
    actual = files.sha256(box, dump_path)
    if actual != recorded["dump"]["sha256"]:
        raise BackupError(f"{dump_path}: checksum {actual} differs from the manifest's {recorded['dump']['sha256']}: "
                          "the dump is corrupted; do not restore it")
    if recorded.get("uploads"):
        if "file" in recorded["uploads"]:  # a tar.gz in the set; a set in the store has only its list
            uploads_path = f"{directory}/{recorded['uploads']['file']}"
            if files.sha256(box, uploads_path) != recorded["uploads"]["sha256"]:
                raise BackupError(f"{uploads_path}: checksum differs from the manifest: the archive is corrupted")
        listed = recorded["uploads"].get("list")  # sets written before the list was recorded have none
        if listed and files.sha256(box, f"{directory}/{listed['file']}") != listed["sha256"]:
            raise BackupError(f"{directory}/{listed['file']}: checksum differs from the manifest: the list is corrupted")
    if recorded.get("paths"):
        verify_paths(box, directory, recorded["paths"])
    return recorded


def count_entries(box: BackupBox, archive: str) -> dict:
    """Entries the archive holds (directories and files), read from end to end."""
    listed = box.run(cmd.list_archive(archive), limit="check").stdout.splitlines()
    return {"entries": len(listed), "files": sum(1 for name in listed if not name.endswith("/"))}


def verify_paths(box: BackupBox, directory: str, recorded: dict) -> dict:
    """The set's archive of [backup] paths has its manifest's checksum and holds as many entries."""
    path = f"{directory}/{recorded['file']}"
    if files.sha256(box, path) != recorded["sha256"]:
        raise BackupError(f"{path}: checksum differs from the manifest: the archive of {recorded['paths']} is corrupted")
    found = count_entries(box, path)
    if found["entries"] != recorded["entries"]:
        raise BackupError(f"{path} lists {found['entries']} entries, the manifest {recorded['entries']}: the archive of "
                          f"{recorded['paths']} is incomplete")
    return found


def verify_written(box: BackupBox, directory: str, set_name: str, expected: dict) -> dict:
    """The set this run just wrote: its manifest reads back equal and every file has its recorded
    size. The bytes were hashed and verified as they were written, so they are not read again."""
    recorded = manifest.read(box, f"{directory}/{files.file_name(set_name, 'manifest')}")
    if recorded != expected:
        raise BackupError(f"the manifest of {set_name} on disk differs from the one written: the disk is failing?")
    uploads = recorded.get("uploads") or {}
    expected = {f"{directory}/{entry['file']}": entry["size"]
                for entry in (recorded["dump"], uploads, uploads.get("list"), recorded.get("paths"))
                if entry and "file" in entry}
    for path, size in files.sizes(box, list(expected)).items():
        if size != expected[path]:
            raise BackupError(f"{path} has changed size since it was checksummed: do not trust this set")
    return recorded
