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
             *sorted((ROOT / "ops_checks").rglob("*.py"))]
    return [f for f in files if f.name != "guards.py"]  # guards.py names them in order to refuse them


def test_sources_were_found():
    assert len(product_sources()) > 10


@pytest.mark.parametrize("path", product_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_volume_removal(path):
    text = path.read_text()
    for pattern in FORBIDDEN:
        assert not pattern.search(text), f"{path}: matches {pattern.pattern}"
