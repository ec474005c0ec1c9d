"""The volume switch and the disaster restore's live-stack steps, with compose faked: each refuses
without CONFIRM=YES on its own, the config is rewritten only once the database is up on the new
volume, and a failure or an interruption (SIGTERM/SIGHUP arrive as KeyboardInterrupt) puts the
stack, the config and the env file back on the old volume."""

import contextlib
import tomllib
from types import SimpleNamespace

import pytest

from procedures.compose import Compose
from procedures.errors import NotReady, SwitchError, UnsafeOperation
from procedures.restore import disaster, drill, url_switch, volume_switch
from procedures.stack import volumes
from testkit import disposable

pytestmark = pytest.mark.unit


class FakeStack:
    """Compose stop/up recorded, with which volume the db is on and what the config names at each call."""

    def __init__(self, stack, fail_on: tuple[str, type] | None = None):
        self.stack = stack
        self.mounted = stack.ctx.config.volumes.database
        self.calls: list[tuple] = []
        self.fail_on = fail_on  # (service, exception type): the first `up` of that service raises

    def configured(self) -> tuple[str, str]:
        env = dict(line.split("=", 1) for line in self.stack.ctx.config.stack.env_file.read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
        return tomllib.loads(self.stack.config_path.read_text())["volumes"]["database"], env["PGDATA_VOLUME"]

    def install(self, monkeypatch):
        fake = self

        def up(compose, services, **kwargs):
            fake.calls.append(("up", tuple(services), compose.config.volumes.database, fake.configured()))
            if fake.fail_on and fake.fail_on[0] in services:
                failing, fake.fail_on = fake.fail_on, None
                raise failing[1]("injected fault")
            if "db" in services:
                fake.mounted = compose.config.volumes.database

        def stop(compose, services):
            fake.calls.append(("stop", tuple(services)))

        monkeypatch.setattr(Compose, "up", up)
        monkeypatch.setattr(Compose, "stop", stop)
        monkeypatch.setattr(volumes, "mounted_database_volume", lambda ctx: fake.mounted)
        monkeypatch.setattr(volume_switch.services, "wait_healthy", lambda *a, **k: {})
        monkeypatch.setattr(volume_switch, "check_target", lambda ctx, target: None)
        monkeypatch.setattr(volume_switch.ledger, "audit", lambda *a: None)
        return self


@pytest.fixture
def stack(tmp_path):
    made = disposable.create(tmp_path)
    env_file = made.ctx.config.stack.env_file
    env_file.write_text(env_file.read_text() + f"PGDATA_VOLUME={made.ctx.config.volumes.database}\n")
    return made


def test_every_live_stack_step_refuses_without_confirm_yes_and_calls_nothing(stack, monkeypatch):
    monkeypatch.delenv("CONFIRM", raising=False)
    fake = FakeStack(stack).install(monkeypatch)
    before = stack.config_path.read_text()
    with pytest.raises(UnsafeOperation, match="CONFIRM=YES"):
        volume_switch.switch_database_volume(stack.ctx, "other_volume", "test")
    with pytest.raises(UnsafeOperation, match="CONFIRM=YES"):
        disaster.stop_writers(stack.ctx, contextlib.ExitStack())
    with pytest.raises(UnsafeOperation, match="CONFIRM=YES"):
        disaster.restore_target_for_disaster(stack.ctx, None, "set", "db", contextlib.ExitStack())
    with pytest.raises(UnsafeOperation, match="CONFIRM=YES"):
        disaster.retire_restore_target(SimpleNamespace(container="c", volume="v"))
    with pytest.raises(UnsafeOperation, match="switch_database_url.py --database=old_db"):
        url_switch.switch_database_url(stack.ctx, "old_db", "test")
    run = drill.RestoreRun(stack.ctx, drill.RestoreOptions(mode=drill.DISASTER_MODE), contextlib.ExitStack())
    with pytest.raises(UnsafeOperation, match="CONFIRM=YES"):
        drill.stop_writers(run)  # the confirmation step deselected: this step still refuses
    assert fake.calls == [] and stack.config_path.read_text() == before


def test_the_config_is_rewritten_only_once_the_database_is_up_on_the_new_volume(stack, monkeypatch):
    monkeypatch.setenv("CONFIRM", "YES")
    fake = FakeStack(stack).install(monkeypatch)
    old = stack.ctx.config.volumes.database
    volume_switch.switch_database_volume(stack.ctx, "new_volume", "test")
    db_up = next(c for c in fake.calls if c[0] == "up" and "db" in c[1])
    assert db_up[2] == "new_volume" and db_up[3] == (old, old), "config and env still name the old volume"
    app_up = next(c for c in fake.calls if c[0] == "up" and "api" in c[1])
    assert app_up[3] == ("new_volume", "new_volume")
    assert fake.configured() == ("new_volume", "new_volume")


@pytest.mark.parametrize("fault", [NotReady, KeyboardInterrupt], ids=["app-not-ready", "SIGTERM-as-interrupt"])
def test_a_fault_after_the_config_edit_puts_config_env_and_database_back(stack, monkeypatch, fault):
    monkeypatch.setenv("CONFIRM", "YES")
    fake = FakeStack(stack, fail_on=("api", fault)).install(monkeypatch)
    old = stack.ctx.config.volumes.database
    with pytest.raises(SwitchError if fault is NotReady else KeyboardInterrupt):
        volume_switch.switch_database_volume(stack.ctx, "new_volume", "test")
    assert fake.configured() == (old, old)
    assert fake.mounted == old
    last_ups = [c for c in fake.calls if c[0] == "up"][-2:]
    assert [c[1][0] for c in last_ups] == ["db", "api"] and all(c[2] == old for c in last_ups)
    assert not list(stack.config_path.parent.glob("*.before-volume-switch")), "the kept copies went back"


def test_stopped_writers_are_started_again_on_any_exit_until_the_switch_succeeded(stack, monkeypatch):
    monkeypatch.setenv("CONFIRM", "YES")
    fake = FakeStack(stack).install(monkeypatch)
    options = drill.RestoreOptions(mode=drill.DISASTER_MODE)
    with pytest.raises(KeyboardInterrupt):
        with drill.open_run(stack.ctx, options) as run:
            drill.stop_writers(run)
            assert fake.calls == [("stop", ("api", "email-worker"))]
            raise KeyboardInterrupt("signal 15")
    assert fake.calls[-1][:3] == ("up", ("api", "email-worker"), stack.ctx.config.volumes.database)

    fake.calls.clear()
    with drill.open_run(stack.ctx, options) as run:
        drill.stop_writers(run)
        run.writers.pop_all()  # what a successful switch does
    assert fake.calls == [("stop", ("api", "email-worker"))], "after the switch the app is not restarted on the old volume"


@pytest.mark.parametrize("labels, ours", [
    ({volumes.MANAGED_LABEL: "database"}, False),  # made without the project label: may be anyone's
    ({volumes.MANAGED_LABEL: "database", volumes.PROJECT_LABEL: "zen"}, True),  # a disaster restore's
    ({volume_switch.COMPOSE_PROJECT_LABEL: "zen"}, True),  # compose's, before the suite adopted the stack
    ({volumes.MANAGED_LABEL: "database", volumes.PROJECT_LABEL: "other"}, False),
    ({volume_switch.COMPOSE_PROJECT_LABEL: "other"}, False),
    ({volumes.MANAGED_LABEL: "backups", volumes.PROJECT_LABEL: "zen"}, False),
    ({volumes.MANAGED_LABEL: "restore-test"}, False),
    ({volumes.MANAGED_LABEL: "database", volume_switch.COMPOSE_PROJECT_LABEL: "zen"}, True),
    ({volumes.PROJECT_LABEL: "other", volume_switch.COMPOSE_PROJECT_LABEL: "zen"}, False),  # the suite's label wins
    ({}, False),
])
def test_only_this_stacks_database_volumes_are_switch_targets(labels, ours):
    ctx = SimpleNamespace(config=SimpleNamespace(stack=SimpleNamespace(project="zen")))
    facts = volumes.VolumeFacts("v", "", "local", "/x", labels)
    assert volume_switch._is_this_stacks_database_volume(ctx, facts) is ours


def test_argv_of_the_volume_checks():
    from procedures.commands import docker as cmd
    assert cmd.containers_using_volume("v") == ["docker", "ps", "--all", "--filter", "volume=v", "--format", "{{.Names}}"]
    assert cmd.stop_container("c", 60) == ["docker", "stop", "--time", "60", "c"]
    assert cmd.volume_has_file("img:15", "v", "PG_VERSION") == [
        "docker", "run", "--rm", "--network", "none", "--read-only", "--pull", "never", "--user", "0",
        "--mount", "type=volume,src=v,dst=/inspected-volume,readonly", "--entrypoint", "test", "img:15",
        "-f", "/inspected-volume/PG_VERSION"]
