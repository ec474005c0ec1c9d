"""The rollback check's pure parts: the rehearsal's overlay and the decision to refuse."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from procedures.config import OpsConfig, ServiceNames, StackConfig
from procedures.errors import DeployError
from procedures.release import rollback_check

pytestmark = pytest.mark.unit


def fake_ctx(model: dict, **config) -> SimpleNamespace:
    ops = OpsConfig(StackConfig("zak", (Path("docker-compose.yml"),)), **config)
    return SimpleNamespace(config=ops, compose=SimpleNamespace(rendered=lambda: {"services": model}))


def test_the_rehearsal_takes_away_published_ports_and_fixed_names():
    ctx = fake_ctx({"backend": {"container_name": "zakops-backend", "ports": [{"target": 8000, "published": "8000"}]},
                    "worker": {"container_name": "zakops-outbox"}, "db": {}})
    assert rollback_check._overlay_text(ctx, None).splitlines() == [
        "services:",
        '  "backend":', "    container_name: !reset null", "    ports: !reset []", '    networks: !override ["default"]',
        '  "db":', '    networks: !override ["default"]',
        '  "worker":', "    container_name: !reset null", '    networks: !override ["default"]']


def test_a_database_outside_the_stack_is_reached_by_the_rehearsals_url():
    names = ServiceNames(database="", app=("backend",), single_instance=(), proxy="", migrate="")
    url = "postgresql://restore:pw@opsuite-rehearsal-db:5432/zakops"
    text = rollback_check._overlay_text(fake_ctx({"backend": {}, "proxy": {"network_mode": "host"}}, services=names), url)
    assert text.splitlines() == ["services:", '  "backend":', '    networks: !override ["default"]', "    environment:",
                                 f'      DATABASE_URL: "{url}"', '  "proxy":']


VERDICT = {"previous_tag": "1.0.0", "tag": "2.0.0", "why": "1.0.0 does not serve", "backup": "zen_prod_x"}


def test_an_unsafe_rollback_stops_the_deploy_naming_the_flag():
    with pytest.raises(DeployError, match="--allow-irreversible") as refused:
        rollback_check.refuse_unsafe({**VERDICT, "rollback": rollback_check.UNSAFE}, allow_irreversible=False)
    assert "zen_prod_x" in str(refused.value) and "Nothing live changed" in str(refused.value)


@pytest.mark.parametrize("rollback, allowed", [(rollback_check.UNSAFE, True), (rollback_check.SAFE, False),
                                               ("not checked ([deploy] rollback_check = false)", False)])
def test_a_safe_or_allowed_deploy_goes_on(rollback, allowed):
    rollback_check.refuse_unsafe({**VERDICT, "rollback": rollback}, allow_irreversible=allowed)
