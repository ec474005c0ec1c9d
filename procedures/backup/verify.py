"""Re-check a finished backup set on disk against its manifest before anything relies on it."""

from ..errors import BackupError
from . import files, host_paths, manifest
from .box import BackupBox


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
        host_paths.verify(box, directory, recorded["paths"])
    return recorded


def verify_written(box: BackupBox, directory: str, set_name: str, expected: dict) -> dict:
    """The set this run just wrote: its manifest reads back equal and every file has its recorded
    size. The bytes were hashed and verified as they were written, so they are not read again."""
    recorded = manifest.read(box, f"{directory}/{files.file_name(set_name, 'manifest')}")
    if recorded != expected:
        raise BackupError(f"the manifest of {set_name} on disk differs from the one written: the disk is failing?")
    uploads = recorded.get("uploads") or {}
    for entry in (recorded["dump"], uploads, uploads.get("list"), recorded.get("paths")):
        if entry and "file" in entry:
            path = f"{directory}/{entry['file']}"
            if files.size(box, path) != entry["size"]:
                raise BackupError(f"{path} has changed size since it was checksummed: do not trust this set")
    return recorded
