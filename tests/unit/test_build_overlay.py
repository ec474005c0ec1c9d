"""A stack built on the server (the real Zen Ops' shape) is proposed with [build] and its overlay pins
every built service to `<project>-<service>:${TAG}`, rendered by compose itself."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from procedures.adopt import discover
from procedures.commands import compose as compose_cmd
from procedures.load import load_config
from procedures.context import prepared_context
from procedures.errors import CommandFailed
from procedures.release.build import to_build

pytestmark = pytest.mark.compose

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stacks" / "zenops-built"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("TAG", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE", "PGDATA_VOLUME"):
        monkeypatch.delenv(name, raising=False)


def checkout_of_the_fixture(tmp_path: Path) -> Path:
    app = tmp_path / "zenops"
    shutil.copytree(FIXTURE, app)
    subprocess.run(["git", "init", "-q", str(app)], check=True)
    return app


def test_the_proposal_names_the_checkout_and_the_overlay_pins_every_built_service(tmp_path):
    app = checkout_of_the_fixture(tmp_path)
    discover.discover([str(app / "docker-compose.yml")], project="opstest-zenbuilt", proposal_path=tmp_path / "ops.toml")
    proposal = (tmp_path / "ops.toml").read_text()
    assert f'repository = "{app}"' in proposal and "keep_releases = 3" in proposal
    config = load_config(tmp_path / "ops.toml")
    ctx = prepared_context(config, "v2")
    model = json.loads(ctx.compose.run(compose_cmd.config_json_every_profile(config.stack), limit="command").stdout)
    services = model["services"]
    for name in ("api", "migrate", "email-worker", "frontend"):
        assert services[name]["image"] == f"opstest-zenbuilt-{name}:v2", name
    assert services["watchdog"]["image"] == "alpine:3.20", "a service naming its image is pulled as it is"
    # What a release builds: the active services with `build:`, never the profile-only one.
    active = set(ctx.compose.rendered()["services"])
    assert sorted(to_build(config, "v2", active)) == ["api", "email-worker", "frontend", "migrate"]


def test_without_a_tag_the_built_services_do_not_render(tmp_path):
    app = checkout_of_the_fixture(tmp_path)
    discover.discover([str(app / "docker-compose.yml")], project="opstest-zenbuilt", proposal_path=tmp_path / "ops.toml")
    config = load_config(tmp_path / "ops.toml")
    prepared_context(config, "v1")  # writes the overlay
    with pytest.raises(CommandFailed, match="TAG is required"):
        prepared_context(config).compose.run(compose_cmd.config_json(config.stack), limit="command")


def test_no_git_checkout_proposes_build_as_a_comment(tmp_path):
    app = tmp_path / "zenops"
    shutil.copytree(FIXTURE, app)
    discover.discover([str(app / "docker-compose.yml")], project="opstest-zenbuilt", proposal_path=tmp_path / "ops.toml")
    proposal = (tmp_path / "ops.toml").read_text()
    assert "# [build]" in proposal and "no git checkout" in proposal
    assert load_config(tmp_path / "ops.toml").build is None
