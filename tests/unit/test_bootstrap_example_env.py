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


def test_a_new_password_setting_gets_a_fresh_value_never_the_placeholder(tmp_path):
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / ".env.example").write_text("API_IMAGE=x\nOFFSITE_CRYPT_PASSWORD=change-me\n")
    (tmp_path / "example" / ".env").write_text("API_IMAGE=x\n")
    script = "set -euo pipefail\nlog() { echo \"$*\"; }\n" + _function("ensure_example_env") + "\nensure_example_env\n"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    added = (tmp_path / "example" / ".env").read_text().splitlines()[-1]
    assert added.startswith("OFFSITE_CRYPT_PASSWORD=") and "change-me" not in added and len(added) > 40


def test_a_new_env_file_has_fresh_passwords_and_is_private(tmp_path):
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / ".env.example").write_text("# c\nAPI_IMAGE=x\nPOSTGRES_PASSWORD=change-me\n")
    script = "set -euo pipefail\nlog() { echo \"$*\"; }\n" + _function("ensure_example_env") + "\nensure_example_env\n"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    env = tmp_path / "example" / ".env"
    assert env.read_text().startswith("API_IMAGE=x\nPOSTGRES_PASSWORD=") and "change-me" not in env.read_text()
    assert env.stat().st_mode & 0o777 == 0o600
