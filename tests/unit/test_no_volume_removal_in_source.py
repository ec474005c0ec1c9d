"""Static proof, beside the runtime guard: product code has no path that removes a volume."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = [
    re.compile(r"volumes?\.(remove|prune)\("),      # docker SDK
    re.compile(r"\.remove\(\s*v\s*=\s*True"),        # container.remove(v=True)
    re.compile(r"[\"']--volumes[\"']"),
    re.compile(r"[\"']down[\"']\s*,\s*[\"']-v[\"']"),
    re.compile(r"[\"']volume[\"']\s*,\s*[\"'](rm|remove|prune)[\"']"),
]


def product_sources():
    files = [ROOT / "conftest.py", *sorted((ROOT / "procedures").rglob("*.py")),
             *sorted((ROOT / "runbook_plugin").rglob("*.py")), *sorted((ROOT / "ops_checks").rglob("*.py"))]
    return [f for f in files if f.name != "guards.py"]  # guards.py names them in order to refuse them


def test_sources_were_found():
    assert len(product_sources()) > 10


# The one exemption: the restore drill's throwaway volumes, whose removal the runner's guard allows
# only for the reserved prefix (tests/unit/test_guards.py proves the refusal of every other name).
EXEMPT = re.compile(r"def remove_throwaway_volume\(.*?(?=\n\n\ndef |\Z)", re.S)


def test_the_only_volume_removal_is_the_guarded_throwaway_one():
    text = (ROOT / "procedures" / "commands" / "docker.py").read_text()
    assert len(EXEMPT.findall(text)) == 1
    assert "THROWAWAY_VOLUME_PREFIX" in (ROOT / "procedures" / "restore" / "throwaway.py").read_text()


@pytest.mark.parametrize("path", product_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_volume_removal(path):
    text = EXEMPT.sub("", path.read_text())
    for pattern in FORBIDDEN:
        assert not pattern.search(text), f"{path}: matches {pattern.pattern}"
