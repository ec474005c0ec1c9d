"""The rollback check's pure parts: the rehearsal's sealed overlay (release/seal.py) and the decision to refuse."""

import json

import pytest

from procedures.errors import DeployError
from procedures.release import rollback_check, seal

pytestmark = pytest.mark.unit
PROJECT = "opsuite-restore-shop-rehearsal-abc123"
LABELS = {"io.opsuite.role": "restore-test"}


def sealed(model: dict, **changes) -> seal.Seal:
    args = {"own_volumes": {"pgdata": f"{PROJECT}-db"}, "environment": {"JOBS_ENABLED": "false"}, "service_env": {},
            "skip_env": {"db"}, "probe_image": "opsuite-local/backup:pg15", "labels": LABELS, **changes}
    return seal.seal(model, PROJECT, **args)


LIVE_SHAPED = {
    "services": {
        "web": {"container_name": "shop-web", "hostname": "shop", "ports": [{"target": 8000, "published": "8000"}],
                "networks": {"default": {"aliases": ["shop-web"]}, "shared": {}}, "extra_hosts": ["db.live:10.0.0.5"],
                "external_links": ["live_db:db"],
                "volumes": [{"type": "volume", "source": "pgdata", "target": "/srv/db"},
                            {"type": "volume", "source": "media", "target": "/srv/media"},
                            {"type": "bind", "source": "/srv/shop/config", "target": "/config"},
                            {"type": "volume", "target": "/scratch"}]},
        "db": {"networks": {"default": {}}},
        "bot": {"network_mode": "host"},
        "sidecar": {"network_mode": "service:web", "volumes_from": ["container:live_web"]},
    },
    "networks": {"default": {"name": "shop_network"}, "shared": {"name": "shared", "external": True}},
    "volumes": {"pgdata": {"name": "shop_pgdata", "external": True}, "media": {"name": "shop_media"}},
}


def test_every_service_is_on_the_rehearsals_own_internal_network_only():
    text = sealed(LIVE_SHAPED).text
    network = {"name": f"{PROJECT}_sealed", "driver": "bridge", "internal": True,
               "driver_opts": {"com.docker.network.bridge.inhibit_ipv4": "true"}, "labels": LABELS}
    assert f"networks: !override {json.dumps({'default': network})}" in text.splitlines()
    assert text.count('networks: !override ["default"]') == 4 and "shop_network" not in text and "shared" not in text


def test_names_addresses_and_namespaces_shared_with_live_containers_are_reset():
    lines = sealed(LIVE_SHAPED).text.splitlines()
    for reset in ("container_name: !reset null", "hostname: !reset null", "ports: !reset []",
                  "extra_hosts: !reset []", "external_links: !reset []", "volumes_from: !reset []"):
        assert f"    {reset}" in lines, reset
    assert lines.count("    network_mode: !reset null") == 2


def test_only_throwaway_volumes_are_mounted_binds_read_only_and_anonymous_ones_in_memory():
    result = sealed(LIVE_SHAPED)
    assert result.volumes == {"media": f"{PROJECT}-vol-media"}, "the restored database is not created again"
    assert f'volumes: !override {json.dumps({"media": {"external": True, "name": f"{PROJECT}-vol-media"}, "pgdata": {"external": True, "name": f"{PROJECT}-db"}})}' in result.text
    assert "shop_pgdata" not in result.text and "shop_media" not in result.text
    assert result.read_only_binds == ("web:/config",)
    mounts = json.loads(next(line for line in result.text.splitlines()
                             if line.startswith("    volumes: !override")).split("!override ", 1)[1])
    assert mounts[2] == {"type": "bind", "source": "/srv/shop/config", "target": "/config", "read_only": True,
                         "bind": {"create_host_path": False}}
    assert mounts[3] == {"type": "tmpfs", "target": "/scratch"}


def test_the_rehearsal_environment_reaches_every_service_but_the_database():
    result = sealed(LIVE_SHAPED, service_env={"web": {"DATABASE_URL": "postgresql://r@opsuite-rehearsal-db/x"}})
    lines = result.text.splitlines()
    assert '    environment: {"JOBS_ENABLED": "false", "DATABASE_URL": "postgresql://r@opsuite-rehearsal-db/x"}' in lines
    assert lines.count('    environment: {"JOBS_ENABLED": "false"}') == 2  # bot, sidecar; not db
    assert result.environment == ("JOBS_ENABLED",)


def test_a_probe_on_the_sealed_network_asks_the_app_from_inside():
    lines = sealed(LIVE_SHAPED).text.splitlines()
    at = lines.index(f'  "{seal.PROBE_SERVICE}":')
    assert lines[at + 1:at + 7] == ['    image: "opsuite-local/backup:pg15"', '    entrypoint: ["sleep", "infinity"]',
                                    "    read_only: true", '    restart: "no"', '    networks: ["default"]',
                                    f"    labels: {json.dumps(LABELS)}"]


def test_a_server_of_the_rehearsals_own_is_sealed_on_the_restored_volume():
    result = sealed({"services": {"backend": {}}}, own_volumes={"opsuite-rehearsal-db": f"{PROJECT}-db"},
                    extra_services={"opsuite-rehearsal-db": {"image": "postgres:15", "volumes": [
                        {"type": "volume", "source": "opsuite-rehearsal-db", "target": "/var/lib/postgresql/data"}]}},
                    skip_env={"opsuite-rehearsal-db"})
    assert result.volumes == {}
    assert '    image: "postgres:15"' in result.text
    assert f'"opsuite-rehearsal-db": {{"external": true, "name": "{PROJECT}-db"}}' in result.text


VERDICT = {"previous_tag": "1.0.0", "tag": "2.0.0", "why": "1.0.0 does not serve", "backup": "zen_prod_x"}


def test_an_unsafe_rollback_stops_the_deploy_naming_the_flag():
    with pytest.raises(DeployError, match="--allow-irreversible") as refused:
        rollback_check.refuse_unsafe({**VERDICT, "rollback": rollback_check.UNSAFE}, allow_irreversible=False)
    assert "zen_prod_x" in str(refused.value) and "Nothing live changed" in str(refused.value)


@pytest.mark.parametrize("rollback, allowed", [(rollback_check.UNSAFE, True), (rollback_check.SAFE, False),
                                               ("not checked ([deploy] rollback_check = false)", False)])
def test_a_safe_or_allowed_deploy_goes_on(rollback, allowed):
    rollback_check.refuse_unsafe({**VERDICT, "rollback": rollback}, allow_irreversible=allowed)
