"""Restore and health read backup sets through the set vocabulary (procedures/sets/, procedures/remote/,
procedures/box.py), never through the backup pipeline's package; and the vocabulary never climbs to
the pipeline, restore or health. Imports are read from the source with ast, relative ones resolved."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "procedures.backup"
READERS = ("procedures/restore", "procedures/health")
VOCABULARY = ("procedures/sets", "procedures/remote", "procedures/box.py")
ABOVE_VOCABULARY = (PIPELINE, "procedures.restore", "procedures.health", "procedures.release", "procedures.adopt")


def _files(*places: str) -> list[Path]:
    found = []
    for place in places:
        path = ROOT / place
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def imported(path: Path, root: Path = ROOT) -> set[str]:
    """Every module path imports, relative imports resolved against its package; `from a import b`
    yields both a and a.b (b may be a module)."""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_scan_sees_relative_and_absolute_imports(tmp_path):
    place = tmp_path / "procedures" / "restore"
    place.mkdir(parents=True)
    probe = place / "probe.py"
    probe.write_text("from ..backup import names\nfrom . import choose\nimport procedures.backup.pipeline\n"
                     "from ..sets.names import Identity\n")
    found = imported(probe, tmp_path)
    assert {"procedures.backup.names", "procedures.restore.choose", "procedures.backup.pipeline",
            "procedures.sets.names.Identity"} <= found
    assert sorted(m for m in found if _inside(m, (PIPELINE,))) == [
        "procedures.backup", "procedures.backup.names", "procedures.backup.pipeline"]


@pytest.mark.parametrize("path", _files(*READERS), ids=lambda p: str(p.relative_to(ROOT)))
def test_restore_and_health_never_import_the_backup_pipeline(path):
    climbs = sorted(m for m in imported(path) if _inside(m, (PIPELINE,)))
    assert not climbs, f"{path.relative_to(ROOT)} imports {climbs}: read sets through procedures.sets or procedures.remote"


@pytest.mark.parametrize("path", _files(*VOCABULARY), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_set_vocabulary_never_imports_what_uses_it(path):
    climbs = sorted(m for m in imported(path) if _inside(m, ABOVE_VOCABULARY))
    assert not climbs, f"{path.relative_to(ROOT)} imports {climbs}: the set vocabulary sits below its users"
