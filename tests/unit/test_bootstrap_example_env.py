"""bootstrap.sh stays re-runnable: settings new to .env.example reach an existing example/.env."""

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
BOOTSTRAP = Path(__file__).resolve().parents[2] / "scripts" / "bootstrap.sh"


def test_new_settings_are_added_and_the_script_goes_on(tmp_path):
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / ".env.example").write_text("# images\nAPI_IMAGE=x\nNEW_SETTING=y\nPOSTGRES_PASSWORD=change-me\n")
    (tmp_path / "example" / ".env").write_text("API_IMAGE=x\nPOSTGRES_PASSWORD=kept-secret\n")
    script = ("set -euo pipefail\nlog() { echo \"$*\"; }\n"
              + _function("ensure_example_env") + "\nensure_example_env\necho reached-the-end\n")
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "reached-the-end" in done.stdout, done.stderr
    assert (tmp_path / "example" / ".env").read_text() == "API_IMAGE=x\nPOSTGRES_PASSWORD=kept-secret\nNEW_SETTING=y\n"


def _function(name: str) -> str:
    lines = BOOTSTRAP.read_text().splitlines()
    start = lines.index(f"{name}() {{")
    end = lines.index("}", start)
    return "\n".join(lines[start:end + 1])
