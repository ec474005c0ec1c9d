"""The compose model is rendered once per run for the same inputs (argv, environment, files' state), and
afresh when any of them changes (an edited compose or env file, another TAG)."""

import json
import os

import pytest

from procedures import compose, runner

pytestmark = pytest.mark.unit
ARGV = ["docker", "compose", "--file", "docker-compose.yml", "config", "--format", "json"]


@pytest.fixture
def renders(monkeypatch):
    """Every `compose config` the runner is asked for; the model names the TAG it was rendered with."""
    asked = []

    def run(argv, *, env=None, limit, **kwargs):
        asked.append(argv)
        tag = (env or {}).get("TAG")
        return runner.Completed(argv, 0, json.dumps({"services": {"api": {"image": f"api:{tag}"}}}), "", 0.0)
    monkeypatch.setattr(runner, "run", run)
    compose.forget_rendered_models()
    yield asked
    compose.forget_rendered_models()


def test_the_same_inputs_render_once(renders, tmp_path):
    files = [tmp_path / "docker-compose.yml", tmp_path / ".env"]
    for f in files:
        f.write_text("x")
    first = compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files)
    assert compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files) is first
    assert len(renders) == 1


def test_a_changed_input_renders_again(renders, tmp_path, monkeypatch):
    compose_file, env_file = tmp_path / "docker-compose.yml", tmp_path / ".env"
    compose_file.write_text("services: {}\n")
    env_file.write_text("A=1\n")
    files = [compose_file, env_file]
    compose.rendered_model(ARGV, {"TAG": "1.0.0"}, files)
    assert compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files)["services"]["api"]["image"] == "api:1.1.0"
    assert len(renders) == 2, "another TAG"
    compose.rendered_model([*ARGV[:-2], "--profile", "*", *ARGV[-2:]], {"TAG": "1.1.0"}, files)
    assert len(renders) == 3, "another argv"
    env_file.write_text("A=22\n")  # a volume switch rewrites the env file
    compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files)
    assert len(renders) == 4, "an edited env file"
    stat = compose_file.stat()
    compose_file.write_text("services: {a: {}}\n")
    os.utime(compose_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime, another size
    compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files)
    assert len(renders) == 5, "an edited compose file"
    monkeypatch.setenv("PGDATA_VOLUME", "other")  # compose interpolates the process environment too
    compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files)
    assert len(renders) == 6, "another process environment"
    compose.rendered_model(ARGV, {"TAG": "1.1.0"}, files)
    assert len(renders) == 6
