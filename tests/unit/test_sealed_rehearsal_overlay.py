"""The rollback check's sealed overlay rendered by the real compose CLI over the example stack with
the live names that once let a rehearsal join the live stack (tests/fixtures/stacks/sealed/): a
fixed-name default network, an external network, a fixed-name volume, a bind mount, a fixed
container name, host name, alias and host entry."""

import json
from pathlib import Path

import pytest

from procedures.commands import compose as compose_cmd
from procedures.load import load_config
from procedures.context import prepared_context
from procedures.release import rollback_check, seal
from procedures.engines.targets import RehearsalDatabase
from procedures.release.rollback_check import Rehearsal

pytestmark = pytest.mark.compose
ROOT = Path(__file__).resolve().parents[2]
LIVE_NAMES = ROOT / "tests" / "fixtures" / "stacks" / "sealed" / "docker-compose.live-names.yml"
PROJECT = "opsuite-restore-shop-rehearsal-0a0b0c"


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    for name in ("TAG", "PGDATA_VOLUME", "UPLOADS_VOLUME", "COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / "shop.env"
    env.write_text((ROOT / "example" / ".env.example").read_text() + "\n".join([
        "", f"HOST_DATA_DIR={tmp_path / 'hostdata'}", "WORKER_CONTAINER=shop-worker", "SHOP_NETWORK=shop_network",
        "SHARED_NETWORK=shop_shared", "CACHE_VOLUME=shop_cache", ""]))
    files = [str(ROOT / "example" / "docker-compose.yml"), str(LIVE_NAMES), str(ROOT / "docker-compose.prod.yml")]
    config = load_config(ROOT / "ops.toml", **{"stack.project": "shop", "stack.env_file": str(env),
                                               "stack.compose_files": files, "volumes.database": "shop_pgdata",
                                               "deploy.rehearsal": {"environment": {"JOBS_ENABLED": "false"}}})
    return prepared_context(config, "1.0.0")


def rendered_rehearsal(ctx, tmp_path) -> tuple[dict, seal.Seal]:
    rehearsal = Rehearsal(PROJECT, f"{PROJECT}-db", f"{PROJECT}-uploads", tmp_path / "rehearsal.yml")
    sealed = rollback_check._sealed(ctx, rehearsal, RehearsalDatabase())
    rehearsal.overlay.write_text(sealed.text)
    config = rollback_check._rehearsal_config(ctx, rehearsal)
    done = prepared_context(config, "1.0.0").compose.run(compose_cmd.config_json_every_profile(config.stack), limit="command")
    return json.loads(done.stdout), sealed


def test_the_rehearsal_has_one_network_of_its_own_internal_and_without_a_host_address(ctx, tmp_path):
    model, sealed = rendered_rehearsal(ctx, tmp_path)
    assert model["networks"] == {"default": {
        "name": f"{PROJECT}_sealed", "driver": "bridge", "internal": True, "ipam": {},
        "driver_opts": {"com.docker.network.bridge.inhibit_ipv4": "true"}, "labels": {"io.opsuite.role": "restore-test"}}}
    for name, service in model["services"].items():
        assert service["networks"] == {"default": None}, name  # no alias, no live network
        for key in ("container_name", "hostname", "network_mode", "ports", "extra_hosts", "links", "external_links"):
            assert not service.get(key), (name, key)


def test_the_rehearsal_mounts_only_its_own_volumes_and_reads_host_paths_only(ctx, tmp_path):
    model, sealed = rendered_rehearsal(ctx, tmp_path)
    assert all(v["external"] and v["name"].startswith(PROJECT) for v in model["volumes"].values()), model["volumes"]
    assert model["volumes"]["pgdata"]["name"] == f"{PROJECT}-db" and model["volumes"]["uploads"]["name"] == f"{PROJECT}-uploads"
    assert model["volumes"]["cache"]["name"] == f"{PROJECT}-vol-cache" == sealed.volumes["cache"]
    for name, service in model["services"].items():
        for mount in service.get("volumes") or []:
            assert mount["type"] in ("volume", "bind", "tmpfs") and mount.get("source") != "", (name, mount)
            if mount["type"] == "bind":
                assert mount["read_only"] and not mount.get("bind", {}).get("create_host_path"), (name, mount)
    assert "api:/srv/hostdata" in sealed.read_only_binds
    anonymous = [m for m in model["services"]["api"]["volumes"] if m["target"] == "/var/lib/shop-anonymous"]
    assert anonymous == [{"type": "tmpfs", "target": "/var/lib/shop-anonymous"}]


def test_the_rehearsal_environment_overrides_the_apps_and_only_names_reach_the_evidence(ctx, tmp_path):
    model, sealed = rendered_rehearsal(ctx, tmp_path)
    for name in ("api", "email-worker"):
        assert model["services"][name]["environment"]["JOBS_ENABLED"] == "false"
    assert "JOBS_ENABLED" not in model["services"]["db"].get("environment", {})
    evidence = rollback_check.sealed_evidence(ctx, sealed)
    assert evidence["environment"] == ["JOBS_ENABLED"] and "false" not in json.dumps(evidence)
    assert "single_instance" not in evidence  # api, the service the rehearsal starts, is not single-instance


def test_a_single_instance_twin_is_said_to_run_sealed_with_the_rehearsal_environment(ctx, tmp_path):
    from dataclasses import replace
    config = replace(ctx.config, services=replace(ctx.config.services, single_instance=("api",)))
    _, sealed = rendered_rehearsal(ctx, tmp_path)
    said = rollback_check.sealed_evidence(prepared_context(config, "1.0.0"), sealed)["single_instance"]
    assert said.startswith("api is single-instance: its rehearsal twin ran only sealed") and "JOBS_ENABLED" in said


LOOSE_FILE = ROOT / "tests" / "fixtures" / "stacks" / "sealed" / "docker-compose.loose.yml"
LOOSENING = ("privileged", "pid", "ipc", "uts", "userns_mode", "cgroup", "cgroup_parent", "devices",
             "device_cgroup_rules", "cap_add")


@pytest.fixture
def loose(ctx):
    from dataclasses import replace
    files = ctx.config.stack.compose_files
    stack = replace(ctx.config.stack, compose_files=(*files[:-1], LOOSE_FILE, files[-1]))
    return prepared_context(replace(ctx.config, stack=stack), "1.0.0")


def test_the_fixture_does_loosen_isolation_without_the_seal(loose):
    live = loose.compose.rendered_every_profile()["services"]
    assert all(live["api"].get(key) for key in LOOSENING), live["api"]
    assert live["email-worker"]["pid"] == "service:db"
    assert any(m.get("source") == "/var/run/docker.sock" for m in live["api"]["volumes"])


def test_the_rehearsal_drops_what_loosens_isolation_and_says_what(loose, tmp_path):
    model, sealed = rendered_rehearsal(loose, tmp_path)
    for name, service in model["services"].items():
        for key in LOOSENING:
            assert not service.get(key), (name, key, service.get(key))
        for mount in service.get("volumes") or []:
            assert "docker.sock" not in mount.get("source", "") and mount.get("source") not in ("/var/run", "/run"), (
                name, mount)
    api, worker = model["services"]["api"], model["services"]["email-worker"]
    assert api["security_opt"] == ["no-new-privileges:true"]  # what tightens stays
    assert api["cap_drop"] == ["MKNOD"]
    assert worker["security_opt"] == ["no-new-privileges=true"]
    assert {m["target"] for m in worker.get("volumes") or []} == set()
    assert {m["target"] for m in api["volumes"]} == {"/app/uploads", "/var/cache/shop", "/srv/hostdata",
                                                      "/var/lib/shop-anonymous"}
    evidence = rollback_check.sealed_evidence(loose, sealed)["dropped"]
    for key in LOOSENING:
        assert any(d.startswith(f"api: {key}: ") for d in evidence), (key, evidence)
    for said in ("api: security_opt: seccomp=unconfined", "api: security_opt: apparmor:unconfined",
                 "api: security_opt: label=disable", "email-worker: pid: \"service:db\"",
                 "api: bind mount of /var/run/docker.sock (reaches the Docker API)",
                 "email-worker: bind mount of /run/docker.sock (reaches the Docker API)",
                 "email-worker: bind mount of /var/run (reaches the Docker API)"):
        assert said in evidence, (said, evidence)


def test_an_image_declared_volume_gets_a_throwaway_of_the_rehearsal(ctx, tmp_path, monkeypatch):
    from procedures.release import image_volumes
    declared = {"opsuite-local/zenops-api:1.0.0": ("/app/uploads", "/var/lib/image-declared"),
                "opsuite-local/postgres-standin:15": ("/var/lib/postgresql/data",)}
    monkeypatch.setattr(image_volumes, "declared", lambda ref: declared.get(ref, ()))
    model, sealed = rendered_rehearsal(ctx, tmp_path)
    key = seal.image_volume_key("api", 0)
    assert {"type": "volume", "source": key, "target": "/var/lib/image-declared"} in [
        {k: m.get(k) for k in ("type", "source", "target")} for m in model["services"]["api"]["volumes"]]
    assert model["volumes"][key] == {"name": f"{PROJECT}-vol-{key}", "external": True}
    assert sealed.volumes[key] == f"{PROJECT}-vol-{key}"
    # A path the file already mounts (uploads, the database's data) gets nothing more.
    assert [m["target"] for m in model["services"]["api"]["volumes"]].count("/app/uploads") == 1
    assert not [k for k in sealed.volumes if k.startswith("opsuite-image-db")]
