"""Every module of the project imports: entry points such as `python -m example.offsite_standin` (the
demo) or `python -m bench` are not all run by the test suite, and a moved module must not break them."""

import importlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("procedures", "runbook_plugin", "ops_checks", "opsuite", "testkit", "bench", "example")


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[:2] == ("example", "api"):  # the example api image code runs in its own container
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_modules_were_found():
    assert len(modules()) > 60


@pytest.mark.parametrize("name", modules())
def test_module_imports(name):
    importlib.import_module(name)
