"""The overlay generated from an ops config ([stack] overlay), rendered by the real compose CLI over
the app's own files: the Zen Ops-shaped fixture as discovery proposes it, and the example stack."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from procedures.adopt import discover
from procedures.commands import compose as compose_cmd
from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import CommandFailed, ConfigError
from procedures.overlay import overlay_model, render_app_model
from procedures.engines import engine_for

pytestmark = pytest.mark.compose
ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "tests" / "fixtures" / "stacks"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("TAG", "API_IMAGE", "PROXY_PORT", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE",
                 "PGDATA_VOLUME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def zenops(tmp_path):
    """The Zen Ops fixture on an operator's host (a copy), with the config discovery proposes for it."""
    app = tmp_path / "zenops"
    shutil.copytree(STACKS / "zenops", app, ignore=shutil.ignore_patterns("app", "images"))
    discover.discover([str(app / "docker-compose.yml"), str(app / "docker-compose.loopback.yml")],
                      project="opstest-zenops", proposal_path=tmp_path / "ops.toml")
    return load_config(tmp_path / "ops.toml")


def every_profile(ctx: OpsContext) -> dict:
    return json.loads(ctx.compose.run(compose_cmd.config_json_every_profile(ctx.config.stack), limit="command").stdout)


def test_zen_ops_overlay_pins_the_tag_keeps_the_volume_and_adds_a_backup_service(zenops):
    ctx = prepared_context(zenops, "1.0.0")
    overlay = zenops.stack.overlay
    assert overlay.is_file() and "fixture-password" not in overlay.read_text(), "no credentials in the file"
    model = every_profile(ctx)
    services = model["services"]
    for name in ("api", "email-worker", "migrate"):
        assert services[name]["image"] == "ghcr.io/zen-ops/api:1.0.0"
    assert model["volumes"]["postgres_data"] == {"name": "opstest-zenops_postgres_data", "external": True}
    assert model["volumes"]["uploads"] == {"name": "opstest-zenops_uploads", "external": True}
    assert model["volumes"]["opsuite_backups"] == {"name": "opstest-zenops_opsuite_backups", "external": True}
    backup = services["opsuite-backup"]
    assert backup["image"] == zenops.backup.image and backup["profiles"] == ["ops"]
    assert {(m["source"], m["target"], m.get("read_only", False)) for m in backup["volumes"]} == {
        ("opsuite_backups", "/backups", False), ("opsuite_rclone_config", "/config/rclone", False),
        ("uploads", "/uploads", True)}
    assert services["backup"]["image"].startswith("ghcr.io/zen-ops/backup:"), "the app's own backup is untouched"
    assert services["backup"]["environment"]["APP_NAME"] == "zenops"
    assert services["reverse-proxy"]["restart"] == "unless-stopped", "a restart policy where the app set none"
    assert services["api"]["logging"]["options"]["max-size"] == "10m"
    assert services["db"]["healthcheck"]["interval"] == "10s", "the app's own healthcheck stays"
    assert services["migrate"].get("restart") in (None, "no"), "a one-off is never restarted"


def test_zak_ops_overlay_reaches_the_database_where_the_app_does_and_adds_no_database(tmp_path):
    """A database outside the stack: no database service or volume in the overlay, the images pinned,
    and the backup service on the networks of the service holding DATABASE_URL (its route to the server)."""
    app = tmp_path / "zakops"
    shutil.copytree(STACKS / "zakops", app, ignore=shutil.ignore_patterns("app", "managed-db"))
    discover.discover([str(app / "docker-compose.yml"), str(app / "docker-compose.managed-db.yml")],
                      project="opstest-zakops", proposal_path=tmp_path / "ops.toml")
    config = load_config(tmp_path / "ops.toml")
    model = every_profile(prepared_context(config, "1.1.0"))
    services = model["services"]
    assert services["backend"]["image"] == services["outbox-processor"]["image"] == "zakops-backend:1.1.0"
    assert set(services["opsuite-backup"]["networks"]) == {"default", "managed_db"}
    assert set(services["opsuite-backup"]["networks"]) == set(services["backend"]["networks"])
    assert set(model["volumes"]) == {"opsuite_backups", "opsuite_rclone_config"}
    assert all(v["external"] for v in model["volumes"].values())
    assert "fixture-password" not in config.stack.overlay.read_text(), "the URL's password is in no file of ours"


def test_lazyflow_overlay_keeps_the_apps_data_volume_and_mounts_it_where_the_app_does(tmp_path):
    """A SQLite file on the app's volume: that volume external under its real name, and mounted in the
    backup service where the app mounts it, so [database] file is the same path in both."""
    app = tmp_path / "lazyflow"
    shutil.copytree(STACKS / "lazyflow", app, ignore=shutil.ignore_patterns("app", "images"))
    discover.discover([str(app / "docker-compose.yml")], project="opstest-lazyflow", proposal_path=tmp_path / "ops.toml")
    config = load_config(tmp_path / "ops.toml")
    model = every_profile(prepared_context(config, "1.0.0"))
    assert model["volumes"]["lazyflow_data"] == {"name": "opstest-lazyflow_lazyflow_data", "external": True}
    assert model["services"]["app"]["image"] == "lazyflow-app:1.0.0"
    mounts = {(m["source"], m["target"], m.get("read_only", False)) for m in model["services"]["opsuite-backup"]["volumes"]}
    assert ("lazyflow_data", "/app/data", False) in mounts and ("lazyflow_uploads", "/uploads", True) in mounts
    assert set(model["services"]["opsuite-backup"]["networks"]) == {"internal", "default"}, \
        "the app's network, and the default one for the route out to the remote"


def test_lazyflow_overlay_after_a_switch_puts_the_apps_data_key_on_the_restored_volume(tmp_path):
    """After a disaster restore [volumes] database names a volume the app's own files never mention:
    the file's volume is found by where the app mounts it, and that key is put on the new volume."""
    app = tmp_path / "lazyflow"
    shutil.copytree(STACKS / "lazyflow", app, ignore=shutil.ignore_patterns("app", "images"))
    discover.discover([str(app / "docker-compose.yml")], project="opstest-lazyflow", proposal_path=tmp_path / "ops.toml")
    config = load_config(tmp_path / "ops.toml")
    restored = "opstest-lazyflow_lazyflow_data_restored_20261128T043942Z"
    switched = replace(config, volumes=replace(config.volumes, database=restored))
    model = every_profile(prepared_context(switched, "1.0.0"))
    assert model["volumes"]["lazyflow_data"] == {"name": restored, "external": True}
    mounts = {(m["source"], m["target"]) for m in model["services"]["opsuite-backup"]["volumes"]}
    assert ("lazyflow_data", "/app/data") in mounts


def test_zen_ops_overlay_refuses_to_render_without_a_tag(zenops):
    ctx = prepared_context(zenops)
    with pytest.raises(CommandFailed) as failed:
        ctx.compose.rendered()
    assert "TAG is required" in failed.value.stderr_tail


def test_overlay_is_rewritten_only_when_what_it_says_changes(zenops, tmp_path):
    prepared_context(zenops, "1.0.0")
    overlay = zenops.stack.overlay
    stamp = overlay.stat().st_mtime_ns
    prepared_context(zenops, "1.1.0")
    assert overlay.stat().st_mtime_ns == stamp, "the same text: the file (and the cached model) stays"
    switched = replace(zenops, volumes=replace(zenops.volumes, database="opstest-zenops_restored"))
    prepared_context(switched, "1.0.0")
    assert "opstest-zenops_restored" in overlay.read_text()
    assert not list(overlay.parent.glob("*.partial")), "no partial file keeps a final name or lingers"


def test_the_example_overlay_generated_from_its_config_matches_the_shipped_one(tmp_path, monkeypatch):
    """Nothing in the generator knows the example: from ops.toml alone it yields what the shipped
    docker-compose.prod.yml says for images, the database volume and the backup service's mounts."""
    monkeypatch.setenv("POSTGRES_PASSWORD", "unit-test")
    shipped = load_config(ROOT / "ops.toml", **{"stack.env_file": str(ROOT / "example" / ".env.example")})
    generated_path = tmp_path / "generated.yml"
    generated = replace(shipped, stack=replace(shipped.stack, overlay=generated_path,
                        compose_files=(ROOT / "example" / "docker-compose.yml", generated_path)))
    a, b = every_profile(prepared_context(shipped, "1.0.0")), every_profile(prepared_context(generated, "1.0.0"))
    for name in shipped.services.app:
        assert a["services"][name]["image"] == b["services"][name]["image"]
    for key in ("pgdata", "backups", "rclone_config", "uploads"):
        assert a["volumes"][key] == b["volumes"][key]
        assert b["volumes"][key]["external"] is True, "no `down -v` can remove a volume that holds data"
    mounts = [{(m["source"], m["target"]) for m in model["services"]["opsuite-backup"]["volumes"]} for model in (a, b)]
    assert mounts[0] == mounts[1]


def test_bad_configs_name_the_setting_to_fix(zenops):
    model = render_app_model(zenops.stack, "1.0.0")
    engine = engine_for(zenops)
    cases = {
        "[services] app: web": replace(zenops, services=replace(zenops.services, app=("web",))),
        "[volumes] backups = 'uploads' is a volume of the app's": replace(zenops, volumes=replace(zenops.volumes,
                                                                                                 backups="uploads")),
        "[volumes] uploads = 'media' is not a volume": replace(zenops, volumes=replace(zenops.volumes, uploads="media")),
    }
    for expected, config in cases.items():
        with pytest.raises(ConfigError) as refused:
            overlay_model(config, model, engine)
        assert expected in str(refused.value)


def test_a_database_without_a_named_data_volume_is_refused(zenops):
    model = json.loads(json.dumps(render_app_model(zenops.stack, "1.0.0")))
    model["services"]["db"]["volumes"] = [{"type": "bind", "source": "/srv/pg", "target": "/var/lib/postgresql/data"}]
    with pytest.raises(ConfigError, match="no single named volume"):
        overlay_model(zenops, model, engine_for(zenops))


def test_overlay_with_the_same_name_as_an_app_file_is_refused(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text('[stack]\nproject = "x"\ncompose_files = ["docker-compose.yml"]\n'
                                       'overlay = "docker-compose.yml"\n')
    with pytest.raises(ConfigError, match="also one of compose_files"):
        load_config(tmp_path / "ops.toml")


def test_app_files_that_do_not_render_give_composes_words_and_the_fix(zenops):
    Path(zenops.stack.app_files[0]).write_text("services:\n  api:\n    image: [\n")
    with pytest.raises(ConfigError) as refused:
        prepared_context(zenops, "1.0.0")
    assert "the app's compose files do not render; compose says:" in str(refused.value)
    assert "yaml" in str(refused.value).lower()


def test_a_service_outside_the_release_keeps_one_config_across_releases(zenops):
    """full-stack-fastapi-template's db reads the app's .env whole (`env_file: .env`), where the suite
    writes TAG: without a pin every release changed the db's config and compose recreated the database."""
    model = json.loads(json.dumps(render_app_model(zenops.stack, "1.0.0")))
    model["services"]["db"].setdefault("environment", {})["TAG"] = "1.0.0"
    model["services"]["api"].setdefault("environment", {})["TAG"] = "1.0.0"
    services = overlay_model(zenops, model, engine_for(zenops))["services"]
    assert services["db"]["environment"] == {"TAG": ""}
    assert "TAG" not in (services["api"].get("environment") or {}), "the release's own services keep their TAG"
