"""Disaster restore end to end on a disposable stack: refused without CONFIRM=YES (also with the
confirmation step deselected), then a restore into new database and uploads volumes, the switch to
both, and the switch back; the old volumes are never written or removed. A switch refuses a volume
in use, not this stack's, or without a cluster; SIGTERM, SIGINT or SIGHUP mid-restore leaves the
stack serving on the old volumes."""

import html
import json
import os
import re
import signal
import subprocess
import threading
import time
import tomllib

import docker
import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.release import install
from procedures.stack import volumes
from procedures.errors import UnsafeOperation

from procedures.restore import volume_switch
from testkit import signals
from testkit.ops_run import ROOT, check_argv, run_check, summary_header

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def containers(stack) -> dict[str, tuple[str, str]]:
    """Service -> (container id, started at) of the stack's long-running containers."""
    found = docker.from_env().containers.list(filters={"label": f"com.docker.compose.project={stack.project}"})
    return {c.labels["com.docker.compose.service"]: (c.id, c.attrs["State"]["StartedAt"]) for c in found
            if c.labels.get("com.docker.compose.oneoff") == "False"}


def volume_names(stack) -> set[str]:
    return {v.name for v in docker.from_env().volumes.list() if stack.project in v.name}


def notes(stack) -> list[str]:
    answer = httpx.get(f"{stack.ctx.config.http.base_url}/notes")
    assert answer.status_code == 200, answer.text
    return [n["body"] for n in answer.json()]


def add_note(stack, body: str) -> None:
    assert httpx.post(f"{stack.ctx.config.http.base_url}/notes", json={"body": body}).status_code == 201


def configured_volume(stack) -> str:
    return tomllib.loads(stack.config_path.read_text())["volumes"]["database"]


def configured_uploads(stack) -> str | None:
    return tomllib.loads(stack.config_path.read_text())["volumes"].get("uploads_volume") or None


def env_volume(stack, variable: str = "PGDATA_VOLUME") -> str:
    lines = stack.ctx.config.stack.env_file.read_text().splitlines()
    return next(line.split("=", 1)[1] for line in lines if line.startswith(f"{variable}="))


def uploads_mounted(stack) -> set[str]:
    """The volumes the app's services mount where the uploads go (one name when all agree)."""
    ctx = stack.ctx
    return {volumes.mounted_volume(ctx, service, at) for service, at in volumes.uploads_mounts(ctx).items()}


def upload(stack, name: str, content: bytes | None = None) -> bytes | int:
    """PUT content (status code back), or GET it (its bytes, or the status code when not 200)."""
    url = f"{stack.ctx.config.http.base_url}/uploads/{name}"
    if content is not None:
        return httpx.put(url, content=content).status_code
    answer = httpx.get(url)
    return answer.content if answer.status_code == 200 else answer.status_code


@pytest.fixture(scope="module", autouse=True)
def env_file_names_the_volumes(backup_stack):
    """As on a host where manual compose commands read PGDATA_VOLUME and UPLOADS_VOLUME from the env
    file: a switch rewrites them too."""
    env_file = backup_stack.ctx.config.stack.env_file
    uploads = volumes.uploads_volume_in_use(backup_stack.ctx)
    env_file.write_text(env_file.read_text() + f"PGDATA_VOLUME={backup_stack.ctx.config.volumes.database}\n"
                        f"UPLOADS_VOLUME={uploads}\n")


def restore_containers(stack) -> str:
    found = docker.from_env().containers.list(all=True, filters={"label": [
        "io.opsuite.role=disaster-restore", f"io.opsuite.project={stack.project}"]})
    return " ".join(c.name for c in found)


def db_image(stack) -> str:
    return stack.ctx.compose.rendered()["services"][stack.ctx.config.services.database]["image"]


def spare_volume(stack, suffix: str, labels: dict, cluster: bool) -> str:
    """A volume of this test project (removed with it), with a PG_VERSION file when cluster."""
    name = f"{stack.ctx.config.volumes.database}_{suffix}"
    docker.from_env().volumes.create(name, labels={volumes.PROJECT_LABEL: stack.project, **labels})
    if cluster:
        docker.from_env().containers.run(db_image(stack), ["-c", "echo 15 > /v/PG_VERSION"], entrypoint="sh",
                                         volumes={name: {"bind": "/v", "mode": "rw"}}, network_mode="none",
                                         remove=True)
    return name


def serving_untouched(stack, before) -> None:
    __tracebackhide__ = True
    assert (containers(stack), volume_names(stack), stack.config_path.read_text()) == before
    assert httpx.get(f"{stack.ctx.config.http.base_url}/readyz").status_code == 200
    assert "sentinel" in notes(stack)


@pytest.mark.fault("disaster restore without CONFIRM")
def test_disaster_mode_without_confirm_changes_nothing(backup_stack, tmp_path):
    backup.backup(backup_stack.ctx)
    before = (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text())
    done, report = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster")
    assert done.returncode != 0
    assert "To go ahead, set CONFIRM=YES" in done.stdout, done.stdout[-3000:]
    assert (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text()) == before
    assert httpx.get(f"{backup_stack.ctx.config.http.base_url}/readyz").status_code == 200
    record = json.loads(report.with_suffix(".json").read_text())
    assert record["outcome"] == "failed" and "CONFIRM=YES" in record["issues_found"][0]


def test_disaster_restore_switches_database_and_uploads_to_new_volumes_and_back(backup_stack, tmp_path):
    ctx = backup_stack.ctx
    old = ctx.config.volumes.database
    old_uploads = volumes.uploads_volume_in_use(ctx)
    assert uploads_mounted(backup_stack) == {old_uploads}
    old_identity = volumes.require_database_volume(old).identity
    add_note(backup_stack, "in the backup")
    assert upload(backup_stack, "contract.pdf", b"signed in the backup") == 201
    taken = backup.backup(ctx)
    add_note(backup_stack, "written after the backup")
    assert upload(backup_stack, "contract.pdf", b"rewritten after the backup") == 201
    assert upload(backup_stack, "later.txt", b"uploaded after the backup") == 201

    done, report = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster",
                             f"--backup={taken.set_name}", env={"CONFIRM": "YES"})
    assert done.returncode == 0, done.stdout[-4000:]
    record = json.loads(report.with_suffix(".json").read_text())
    new = record["new_volume"]
    assert new.startswith(f"{old}_restored_") and record["old_volume"] == old
    new_uploads = record["new_uploads_volume"]
    assert new_uploads.startswith(f"{old_uploads}_restored_") and record["old_uploads_volume"] == old_uploads
    assert len(record["steps"]) == 13 and all(r["match"] for r in record["row_counts"])
    assert record["uploads"]["volume"] == new_uploads and record["uploads"]["missing"] == []
    assert record["switch_back"] == volume_switch.switch_command(old, old_uploads)
    page = report.read_text()
    assert "row counts: manifest vs restored" in page and "Ops evidence: restore_drill (disaster mode)" in page
    assert "uploads: recorded list vs restored (new volume)" in page
    summary, top = summary_header(report)
    assert summary["outcome_text"] == "Disaster restore succeeded" and summary["backup_set"]["name"] == taken.set_name
    assert summary["changed"] == [f"database volume {old} -> {new}", f"uploads volume {old_uploads} -> {new_uploads}",
                                  f"switch back: {record['switch_back']}"]
    assert summary["drill"]["row_counts"] == "match" and summary["drill"]["rto_seconds"] == record["rto_seconds"]
    assert html.escape(f"database volume {old} -> {new}") in top

    assert configured_uploads(backup_stack) == new_uploads and env_volume(backup_stack, "UPLOADS_VOLUME") == new_uploads
    assert uploads_mounted(backup_stack) == {new_uploads}, "database and uploads moved together"
    assert upload(backup_stack, "contract.pdf") == b"signed in the backup", "the uploads of the backup serve"
    assert upload(backup_stack, "later.txt") == 404
    assert upload(backup_stack, "after-restore.txt", b"new") == 201, "the app's own user can write the restored tree"

    assert configured_volume(backup_stack) == new, "the stack's config names the volume it now uses"
    assert volumes.mounted_database_volume(ctx) == new
    assert httpx.get(f"{ctx.config.http.base_url}/readyz").status_code == 200
    served = notes(backup_stack)
    assert "in the backup" in served and "written after the backup" not in served, "the restored data serves"
    assert volumes.require_database_volume(old).identity == old_identity, "the old volume is kept"
    with pytest.raises(UnsafeOperation, match="recreating the database would switch"):
        install.start_database(ctx)  # ctx still names the old volume: starting it now would swap silently

    back, report = run_check(backup_stack, tmp_path, "switch_database_volume", f"--volume={old}",
                             f"--uploads-volume={old_uploads}", env={"CONFIRM": "YES"})
    assert back.returncode == 0, back.stdout[-4000:]
    summary, _ = summary_header(report)
    assert summary["outcome_text"] == f"Switch of the database to volume {old} succeeded"
    assert summary["changed"][:2] == [f"database volume {new} -> {old}", f"uploads volume {new_uploads} -> {old_uploads}"]
    assert configured_volume(backup_stack) == old and volumes.mounted_database_volume(ctx) == old
    assert configured_uploads(backup_stack) == old_uploads and uploads_mounted(backup_stack) == {old_uploads}
    served = notes(backup_stack)
    assert "written after the backup" in served, "the old volume was never written by the restore"
    assert upload(backup_stack, "contract.pdf") == b"rewritten after the backup"
    assert upload(backup_stack, "later.txt") == b"uploaded after the backup", "nor the old uploads volume"
    assert volumes.require_database_volume(old).identity == old_identity
    assert volumes.inspect_volume(new) is not None and volumes.inspect_volume(new_uploads) is not None, \
        "the restored volumes are kept too"


def test_disaster_restore_of_a_missing_backup_stops_before_touching_the_app(backup_stack, tmp_path):
    before = (containers(backup_stack), volume_names(backup_stack))
    done, _ = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster",
                        "--backup=demo_zenops_20200101T000000Z", env={"CONFIRM": "YES"})
    assert done.returncode != 0 and "not found in the backups volume" in done.stdout, done.stdout[-3000:]
    assert (containers(backup_stack), volume_names(backup_stack)) == before
    assert httpx.get(f"{backup_stack.ctx.config.http.base_url}/readyz").status_code == 200


# The run names the step left out: as the blocker of the steps after it, or, when every step was blocked,
# in the completeness line of the end-of-run summary ("not run: step 1 (confirm), ...").
NOT_CONFIRMED = re.compile(r"step 1 \(confirm\), not run in this session|not run: step 1 \(confirm\)")


@pytest.mark.fault("disaster restore with its confirmation step deselected")
def test_deselecting_the_confirmation_step_still_changes_nothing(backup_stack, tmp_path):
    ctx = backup_stack.ctx
    add_note(backup_stack, "sentinel")
    taken = backup.backup(ctx)
    spare = spare_volume(backup_stack, "spare", {volumes.MANAGED_LABEL: "database"}, cluster=True)
    before = (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text())

    done, _ = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster", f"--backup={taken.set_name}",
                        "--deselect", "ops_checks/restore_drill.py::test_confirmed_with_confirm_yes")
    # Every step after the one left out is blocked by it (EVIDENCE.md section 1a), so no step gets as
    # far as asking for CONFIRM=YES again: the run fails naming the step that did not run.
    assert done.returncode != 0 and NOT_CONFIRMED.search(done.stdout), done.stdout[-3000:]
    serving_untouched(backup_stack, before)
    assert volumes.mounted_database_volume(ctx) == ctx.config.volumes.database

    done, _ = run_check(backup_stack, tmp_path, "switch_database_volume", f"--volume={spare}",
                        "--deselect", "ops_checks/switch_database_volume.py::test_confirmed_with_confirm_yes")
    assert done.returncode != 0 and NOT_CONFIRMED.search(done.stdout), done.stdout[-3000:]
    serving_untouched(backup_stack, before)
    assert volumes.mounted_database_volume(ctx) == ctx.config.volumes.database


@pytest.mark.fault("switch to a volume in use, another stack's, or without a cluster")
def test_switch_refuses_a_volume_in_use_not_this_stacks_or_without_a_cluster(backup_stack, tmp_path):
    ctx = backup_stack.ctx.with_tag("1.0.0")
    client = docker.from_env()
    in_use = spare_volume(backup_stack, "in_use", {volumes.MANAGED_LABEL: "database"}, cluster=True)
    foreign = spare_volume(backup_stack, "foreign", {}, cluster=True)
    empty = spare_volume(backup_stack, "empty", {volumes.MANAGED_LABEL: "database"}, cluster=False)
    labels = {"com.docker.compose.project": backup_stack.project}  # removed with the test project
    holder = client.containers.create(db_image(backup_stack), ["sleep", "600"], entrypoint="", labels=labels,
                                      volumes={in_use: {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
                                      network_mode="none")
    try:
        with pytest.raises(UnsafeOperation, match=f"mounted by container.*{holder.name}"):
            volume_switch.check_target(ctx, in_use)  # stopped, as a restore server not yet removed
        holder.start()
        with pytest.raises(UnsafeOperation, match="mounted by container"):
            volume_switch.check_target(ctx, in_use)  # running, as another stack's live database
        before = (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text())
        done, _ = run_check(backup_stack, tmp_path, "switch_database_volume", f"--volume={in_use}",
                            env={"CONFIRM": "YES"})
        assert done.returncode != 0 and "mounted by container" in done.stdout, done.stdout[-3000:]
        assert (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text()) == before
    finally:
        holder.remove(force=True)
    with pytest.raises(UnsafeOperation, match="not a database volume of this stack"):
        volume_switch.check_target(ctx, foreign)
    with pytest.raises(UnsafeOperation, match="holds no database cluster"):
        volume_switch.check_target(ctx, empty)
    volume_switch.check_target(ctx, in_use)  # once nothing mounts it, it is a valid target

    # The uploads target: this stack's, not a database volume, not the one in use, mounted by nothing.
    neighbours = spare_volume(backup_stack, "neighbours_uploads", {volumes.PROJECT_LABEL: "another-stack"},
                              cluster=False)
    with pytest.raises(UnsafeOperation, match="not an uploads volume of this stack"):
        volume_switch.check_uploads_target(ctx, neighbours)
    with pytest.raises(UnsafeOperation, match="not an uploads volume of this stack"):
        volume_switch.check_uploads_target(ctx, empty)  # a database volume of this stack
    with pytest.raises(UnsafeOperation, match="already use"):
        volume_switch.check_uploads_target(ctx, volumes.uploads_volume_in_use(ctx))
    spare_uploads = spare_volume(backup_stack, "spare_uploads", {volumes.MANAGED_LABEL: "uploads"}, cluster=False)
    holder = client.containers.create(db_image(backup_stack), ["sleep", "600"], entrypoint="", labels=labels,
                                      volumes={spare_uploads: {"bind": "/u", "mode": "rw"}}, network_mode="none")
    try:
        volume_switch.check_uploads_target(ctx, spare_uploads)  # stopped, as the stack's own chown one-off
        holder.start()
        with pytest.raises(UnsafeOperation, match=f"mounted by container.*{holder.name} \\(running\\)"):
            volume_switch.check_uploads_target(ctx, spare_uploads)
    finally:
        holder.remove(force=True)


def _interrupted_disaster_restore(stack, tmp_path, signum: int, when) -> str:
    """Run the disaster restore (CONFIRM=YES) and send signum once when(printed so far) is true
    (-v prints a step's result when the next step starts); returns everything it printed."""
    add_note(stack, "in the set the interrupted restore uses")  # the sample queries need rows, whatever ran before
    taken = backup.backup(stack.ctx)
    argv = check_argv(stack, "restore_drill", "--mode=disaster", f"--backup={taken.set_name}", "-v",
                      report=tmp_path / f"interrupted-{signum}.html")
    env = {**os.environ, "CONFIRM": "YES", "PYTHONUNBUFFERED": "1"}
    proc = signals.popen(argv, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    try:
        while not when("".join(seen)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the run ended before the signal:\n" + "".join(seen)[-3000:])
            time.sleep(0.05)
        proc.send_signal(signum)
        proc.wait(timeout=300)
    finally:
        proc.kill()
    reader.join(timeout=10)
    output = "".join(seen)
    assert proc.returncode != 0 and "KeyboardInterrupt" in output, output[-3000:]
    return output


@pytest.mark.parametrize("signum, after_line", [
    # while the new volume and its server are made
    pytest.param(signal.SIGTERM, "test_writers_stopped PASSED", id="SIGTERM-writers-stopped",
                 marks=pytest.mark.fault("SIGTERM mid-disaster-restore")),
    pytest.param(signal.SIGINT, "test_writers_stopped PASSED", id="SIGINT-writers-stopped",
                 marks=pytest.mark.fault("SIGINT (Ctrl-C) mid-disaster-restore")),
    # while pg_restore runs
    pytest.param(signal.SIGHUP, "test_new_volume_created_and_server_started PASSED", id="SIGHUP-restore-running",
                 marks=pytest.mark.fault("SIGHUP mid-disaster-restore")),
    # while the uploads are rebuilt into their new volume
    pytest.param(signal.SIGTERM, "test_sample_queries_return_rows PASSED", id="SIGTERM-uploads-restoring",
                 marks=pytest.mark.fault("SIGTERM mid-disaster-restore, while the uploads are restored")),
])
def test_an_interrupted_disaster_restore_leaves_the_stack_serving_the_old_volume(backup_stack, tmp_path,
                                                                                signum, after_line):
    ctx = backup_stack.ctx
    old, old_uploads = volumes.mounted_database_volume(ctx), uploads_mounted(backup_stack)
    assert configured_volume(backup_stack) == old == env_volume(backup_stack)
    output = _interrupted_disaster_restore(backup_stack, tmp_path, signum, lambda printed: after_line in printed)
    if signum != signal.SIGINT:  # Ctrl-C is Python's own KeyboardInterrupt; the others name their signal
        assert f"signal {int(signum)}" in output, output[-3000:]
    assert volumes.mounted_database_volume(ctx) == old
    assert configured_volume(backup_stack) == old and env_volume(backup_stack) == old, output[-3000:]
    assert uploads_mounted(backup_stack) == old_uploads == {env_volume(backup_stack, "UPLOADS_VOLUME")}
    assert {"api", "email-worker", "db"} <= set(containers(backup_stack)), output[-3000:]
    assert httpx.get(f"{ctx.config.http.base_url}/readyz").status_code == 200
    assert restore_containers(backup_stack) == "", "the restore server is removed"


@pytest.mark.fault("SIGTERM mid-disaster-restore, after the config edit")
def test_a_disaster_restore_interrupted_after_the_config_edit_puts_config_env_and_database_back(backup_stack,
                                                                                                 tmp_path):
    ctx = backup_stack.ctx
    old, old_uploads = volumes.mounted_database_volume(ctx), uploads_mounted(backup_stack)
    configured_uploads_before = configured_uploads(backup_stack)
    assert configured_volume(backup_stack) == old == env_volume(backup_stack)
    add_note(backup_stack, "before the interrupted switch")
    kept_before = set(backup_stack.config_path.parent.glob("*.before-volume-switch"))
    output = _interrupted_disaster_restore(  # the db is up on the new volume, the app not yet started
        backup_stack, tmp_path, signal.SIGTERM, lambda printed: configured_volume(backup_stack) != old)
    assert volumes.mounted_database_volume(ctx) == old, output[-3000:]
    assert configured_volume(backup_stack) == old and env_volume(backup_stack) == old
    assert configured_uploads(backup_stack) == configured_uploads_before
    assert uploads_mounted(backup_stack) == old_uploads == {env_volume(backup_stack, "UPLOADS_VOLUME")}
    assert set(backup_stack.config_path.parent.glob("*.before-volume-switch")) == kept_before, "copies put back"
    assert httpx.get(f"{ctx.config.http.base_url}/readyz").status_code == 200
    assert "before the interrupted switch" in notes(backup_stack) and restore_containers(backup_stack) == ""
