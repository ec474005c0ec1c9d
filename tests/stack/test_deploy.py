"""Deploy, rollback and failure paths on a disposable stack, run as an operator runs them."""

import copy
import html
import signal
import subprocess
import time
from datetime import datetime

import httpx
import pytest

from procedures import ledger
from procedures import lock
from procedures.sets import names as backup_names
from procedures.stack import serving as release
from procedures.stack import volumes

from testkit import signals, witness
from testkit.engine_contract import throwaways_left
from testkit.ops_run import ROOT, check_argv, run_check, summary_header
from testkit.samples import summarize
from testkit.paced_users import PacedUsers

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def serving(stack) -> tuple[str, int]:
    base = stack.ctx.config.http.base_url
    return httpx.get(f"{base}/version").json()["version"], httpx.get(f"{base}/readyz").status_code


def last_entry(stack) -> dict:
    cfg = stack.ctx.config
    return ledger.releases(cfg.deploy.state_dir, cfg.stack.project)[-1]


@pytest.fixture(scope="module")
def deployed(backup_stack):
    ctx = backup_stack.ctx
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": "sentinel"}).status_code == 201
    backup_stack.identity = volumes.require_database_volume(ctx.config.volumes.database).identity
    backup_stack.cluster = ctx.engine.data_identity(ctx.database)
    return backup_stack


def assert_data_intact(stack):
    ctx = stack.ctx
    assert volumes.require_database_volume(ctx.config.volumes.database).identity == stack.identity
    assert ctx.engine.data_identity(ctx.database) == stack.cluster
    assert ctx.database.query("SELECT count(*) FROM notes WHERE body = 'sentinel'") == "1"


def without_rollback_check(stack, tmp_path):
    """The stack under a config with [deploy] rollback_check = false: for tests of other paths, which the
    rehearsal would only make slower (its own tests are below)."""
    unrehearsed = copy.copy(stack)  # keeps what the module's fixture noted on it (volume identity)
    unrehearsed.config_path = tmp_path / "no-rollback-check.toml"
    unrehearsed.config_path.write_text(stack.config_path.read_text().replace("rollback_check = true",
                                                                            "rollback_check = false"))
    return unrehearsed


def assert_backup_preceded_migration(entry):
    taken = backup_names.parse_set_name(entry["backup"]).taken_at
    assert taken.isoformat() <= entry["migrate_started_at"], entry


@pytest.mark.fault("migration fails; new release never ready (deploy, then rollback)")
def test_release_sequence_keeps_the_database_and_serves_after_failures(deployed, tmp_path):
    stack = deployed
    done, report = run_check(stack, tmp_path, "deploy", "--tag=1.1.0")
    assert done.returncode == 0, done.stdout[-3000:]
    assert serving(stack) == ("1.1.0", 200)
    entry = last_entry(stack)
    assert entry["outcome"] == "deployed" and entry["revision_after"] == "0002_note_titles"
    assert_backup_preceded_migration(entry)
    assert_data_intact(stack)
    page = report.read_text()
    assert "1.1.0" in page and entry["backup"] in page and "test_readyz_green_and_version_is_tag" in page
    summary, top = summary_header(report)
    assert summary["outcome_text"] == "Deploy of 1.1.0 succeeded" and summary["failure"] is None
    assert summary["tag"] == {"from": "1.0.0", "to": "1.1.0"} and "TAG 1.0.0 -&gt; 1.1.0" in top
    assert summary["revision"] == {"from": entry["revision_before"], "to": "0002_note_titles"}
    assert summary["backup_set"]["name"] == entry["backup"] and summary["backup_set"]["offsite"] is True
    assert summary["backup_set"]["encrypted"] is True and summary["backup_seconds"] > 0

    done, _ = run_check(stack, tmp_path, "rollback")
    assert done.returncode == 0, done.stdout[-3000:]
    assert serving(stack) == ("1.0.0", 200)
    assert last_entry(stack)["action"] == "rollback"
    assert_data_intact(stack)

    done, _ = run_check(stack, tmp_path, "deploy", "--tag=1.2.0-broken-migration")
    assert done.returncode != 0
    assert serving(stack) == ("1.0.0", 200), "the previous release keeps serving"
    entry = last_entry(stack)
    assert entry["outcome"].startswith("failed before the app changed")
    assert "migrations of 1.2.0-broken-migration failed on a copy of backup" in entry["error"]
    # The header's one line carries the migration's own exception, not a traceback's marker line.
    assert entry["error"].splitlines()[0].endswith(
        "RuntimeError: deliberately broken migration (example release 1.2.0-broken-migration)"), entry["error"][:400]
    assert entry["migrate_started_at"] is None, "the rehearsal caught it: the live database was never migrated"
    assert stack.ctx.engine.schema_revision(stack.ctx.database) == "0002_note_titles"
    assert_data_intact(stack)

    # Without the rehearsal, the live migration fails in its transaction and changes nothing either.
    done, report = run_check(without_rollback_check(stack, tmp_path), tmp_path, "deploy", "--tag=1.2.0-broken-migration")
    assert done.returncode != 0
    entry = last_entry(stack)
    assert entry["outcome"].startswith("failed before the app changed") and "migrat" in entry["error"]
    failure, top = summary_header(report)[0]["failure"], summary_header(report)[1]
    # the header's one line is the migration's exception message, never a traceback's marker or frame
    assert failure["label"].endswith("(migrate)") and failure["error"].endswith(
        "RuntimeError: deliberately broken migration (example release 1.2.0-broken-migration)"), failure
    assert html.escape(failure["error"]) in top and "^^^" not in failure["error"]
    assert entry["rollback_check"]["rollback"].startswith("not checked") and entry["revision_after"] == "0002_note_titles"
    assert_backup_preceded_migration(entry)
    assert serving(stack) == ("1.0.0", 200)
    assert_data_intact(stack)

    done, report = run_check(stack, tmp_path, "deploy", "--tag=1.2.1-never-ready")
    assert done.returncode != 0
    assert "database restore needed: no" in done.stdout
    assert serving(stack) == ("1.0.0", 200)
    assert last_entry(stack)["outcome"] == "failed, rolled back to 1.0.0"
    summary, top = summary_header(report)
    assert summary["outcome_text"].startswith("Deploy of 1.2.1-never-ready FAILED at step ")
    assert summary["outcome_text"].endswith('; the release ledger records "failed, rolled back to 1.0.0"')
    assert summary["tag"] == {"from": "1.0.0", "to": "1.2.1-never-ready"}
    failure = summary["failure"]
    assert failure["label"] == "step 7 (up)" and html.escape(failure["error"]) in top  # start-first: never took over
    assert failure["advice"] == ["database restore needed: no: the database schema did not change"]
    assert summary["actions_required"][0].startswith("Fix the failure, then run the check again: " + failure["step"])
    assert_data_intact(stack)


@pytest.mark.fault("an app one-off task fails mid-deploy")
def test_a_failing_one_off_task_stops_the_deploy_before_the_switch(deployed, tmp_path):
    stack = without_rollback_check(deployed, tmp_path)
    failing = tmp_path / "uploads-perms-fails.yml"
    failing.write_text('services:\n  uploads-perms:\n    command: ["sh", "-c", "echo no permission >&2; exit 3"]\n')
    files = [f"--compose-file={path}" for path in (*stack.ctx.config.stack.compose_files, failing)]
    before = serving(stack)
    done, report = run_check(stack, tmp_path, "deploy", "--tag=1.1.0", *files)
    assert done.returncode != 0
    assert serving(stack) == before, "the previous release keeps serving"
    entry = last_entry(stack)
    assert entry["outcome"].startswith("failed before the app changed")
    assert "one-off task uploads-perms failed (exit 3)" in entry["error"] and "no permission" in entry["error"]
    assert "test_app_one_off_tasks_completed" in report.read_text()
    assert_data_intact(stack)

    done, report = run_check(stack, tmp_path, "deploy", "--tag=1.1.0")
    assert done.returncode == 0, done.stdout[-3000:]
    assert last_entry(stack)["one_offs"] == ["uploads-perms"] and "uploads-perms" in report.read_text()
    done, _ = run_check(stack, tmp_path, "rollback", f"--tag={before[0]}")
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize("tag_args", [
    pytest.param([], marks=pytest.mark.fault("TAG missing"), id="missing"),
    pytest.param(["--tag=latest"], marks=pytest.mark.fault("TAG latest"), id="latest"),
    pytest.param(["--tag=9.9.9"], marks=pytest.mark.fault("TAG with no image (bad TAG)"), id="nonexistent"),
])
def test_invalid_tag_is_refused_before_anything_changes(deployed, tmp_path, tag_args):
    before = (serving(deployed), deployed.ctx.engine.schema_revision(deployed.ctx.database), release.running_tag(deployed.ctx))
    done, _ = run_check(deployed, tmp_path, "deploy", *tag_args)
    assert done.returncode != 0
    if tag_args != ["--tag=9.9.9"]:  # refused before the first step: pytest's usage error, the reason first on stderr
        assert done.returncode == pytest.ExitCode.USAGE_ERROR and done.stderr.startswith("opsuite: "), done.stderr
    assert "TAG" in done.stdout + done.stderr or "not available" in done.stdout
    assert (serving(deployed), deployed.ctx.engine.schema_revision(deployed.ctx.database), release.running_tag(deployed.ctx)) == before


@pytest.mark.fault("backup fails mid-deploy")
def test_a_failing_backup_stops_the_deploy_before_any_migration(deployed, tmp_path):
    stack = deployed
    before = witness.take(stack)
    revision = stack.ctx.engine.schema_revision(stack.ctx.database)
    full = tmp_path / "backup-disk-full.toml"
    full.write_text(stack.config_path.read_text().replace("[backup]\n", "[backup]\nmin_free_bytes = 1000000000000000\n", 1))
    done, _ = run_check(type(stack)(stack.ctx, full, stack.password), tmp_path, "deploy", "--tag=1.1.0")
    assert done.returncode != 0 and "free space or lower local_keep_days" in done.stdout, done.stdout[-3000:]
    assert stack.ctx.engine.schema_revision(stack.ctx.database) == revision, "nothing migrated"
    assert last_entry(stack)["outcome"].startswith("failed before the app changed")
    witness.assert_intact(stack, before)
    assert_data_intact(stack)


@pytest.mark.fault("concurrent deploy and backup")
def test_second_deploy_is_refused_while_the_lock_is_held(deployed, tmp_path):
    cfg = deployed.ctx.config
    with lock.hold(cfg.stack.lock_dir, cfg.stack.project, "backup"):
        done, _ = run_check(deployed, tmp_path, "deploy", "--tag=1.1.0")
    assert done.returncode != 0 and "is locked by backup by" in done.stdout


@pytest.mark.parametrize("signum", [
    pytest.param(signal.SIGTERM, marks=pytest.mark.fault("SIGTERM mid-deploy"), id="SIGTERM"),
    pytest.param(signal.SIGINT, marks=pytest.mark.fault("SIGINT mid-deploy"), id="SIGINT"),
    pytest.param(signal.SIGHUP, marks=pytest.mark.fault("SIGHUP mid-deploy (an SSH session drops)"), id="SIGHUP"),
])
def test_interrupted_deploy_leaves_previous_release_and_no_lock(deployed, tmp_path, signum):
    deployed = without_rollback_check(deployed, tmp_path)
    cfg = deployed.ctx.config
    before = serving(deployed)
    proc = signals.popen(check_argv(deployed, "deploy", "--tag=1.1.0", report=tmp_path / "i.html"),
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    prefix = f"{cfg.stack.project}-backup-"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        names = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
        if prefix in names:
            break
        time.sleep(0.1)
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, output[-2000:]
    assert not lock.lock_path(cfg.stack.lock_dir, cfg.stack.project).exists(), "the lock must be released"
    assert serving(deployed) == before
    done, _ = run_check(deployed, tmp_path, "deploy", "--tag=1.1.0")
    assert done.returncode == 0, done.stdout[-3000:]
    assert serving(deployed) == ("1.1.0", 200)
    done, _ = run_check(deployed, tmp_path, "rollback", f"--tag={before[0]}")
    assert done.returncode == 0


def api_containers(stack) -> list[str]:
    return release.running_containers(stack.ctx, "api")


def switch_of(entry: dict, service: str) -> dict:
    return next(s for s in entry["switch"]["services"] if s["service"] == service)


def assert_no_request_failed_by_the_switch(load: PacedUsers, entry: dict) -> None:
    """No request failed while the release was switched (its window from the ledger, padded), and
    none anywhere in the deploy failed to reach an app container (a proxy error or no answer). A
    loaded CI machine can fail an app request elsewhere (too many database connections while a
    backup runs): bench.zero_downtime measures the whole deploy on a quiet one."""
    pad = 1.0  # the ledger's times are whole seconds
    window = [datetime.fromisoformat(entry["switch"][k]).timestamp() for k in ("started_at", "finished_at")]
    during = summarize(load.between(window[0] - pad, window[1] + pad), window[1] - window[0] + 2 * pad)
    assert during["requests"] > 0 and during["failed"] == 0, (during, load.summary())
    unreachable = [s for s in load.samples if s.status is None or s.status in (502, 503, 504)]
    assert not unreachable, (unreachable[:5], load.summary())


@pytest.mark.fault("start-first switch under load: deploy, rollback, a release that never becomes ready")
def test_start_first_switch_fails_no_request(deployed, tmp_path):
    stack = deployed
    url = stack.ctx.config.http.base_url + "/notes"
    before = serving(stack)
    with PacedUsers(url, users=4, rate=20, max_seconds=600) as load:
        done, report = run_check(stack, tmp_path, "deploy", "--tag=1.1.0")
    assert done.returncode == 0, done.stdout[-3000:]
    entry = last_entry(stack)
    assert_no_request_failed_by_the_switch(load, entry)
    assert switch_of(entry, "api")["how"] == "start-first" and switch_of(entry, "api")["result"] == "switched"
    assert switch_of(entry, "api")["drain"].startswith("new connections to port 8000 refused"), switch_of(entry, "api")
    assert switch_of(entry, "email-worker")["how"] == "stop-first"
    assert len(api_containers(stack)) == 1 and "start-first" in report.read_text()
    assert entry["rollback_check"]["rollback"] == "safe", entry["rollback_check"]
    assert set(entry["rollback_check"]["seconds"]) == {"restore", "migrate", "previous release"}

    with PacedUsers(url, users=4, rate=20, max_seconds=600) as load:
        done, _ = run_check(stack, tmp_path, "rollback", f"--tag={before[0]}")
    assert done.returncode == 0, done.stdout[-3000:]
    assert_no_request_failed_by_the_switch(load, last_entry(stack))
    assert serving(stack) == before

    old = api_containers(stack)
    with PacedUsers(url, users=4, rate=20, max_seconds=600) as load:
        done, _ = run_check(stack, tmp_path, "deploy", "--tag=1.2.1-never-ready")
    assert done.returncode != 0
    assert_no_request_failed_by_the_switch(load, last_entry(stack))
    assert "did not become ready beside the old container" in done.stdout
    assert "logs of the new container" in done.stdout
    assert api_containers(stack) == old, "the old container serves on; the new one was removed"
    assert serving(stack) == before
    assert_data_intact(stack)


@pytest.mark.fault("SIGINT while the new container starts beside the old one")
def test_an_interrupt_mid_switch_leaves_the_old_container_serving(deployed, tmp_path):
    stack = deployed
    before, old = serving(stack), api_containers(stack)
    proc = signals.popen(check_argv(stack, "deploy", "--tag=1.2.1-never-ready", report=tmp_path / "i.html"),
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and len(api_containers(stack)) < 2:
        time.sleep(0.2)
    assert len(api_containers(stack)) == 2, "the new container started beside the old one"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, output[-2000:]
    assert api_containers(stack) == old and serving(stack) == before
    assert not lock.lock_path(stack.ctx.config.stack.lock_dir, stack.ctx.config.stack.project).exists()


def rehearsal_leftovers(stack) -> list[str]:
    return throwaways_left(f"{stack.project}-rehearsal")


# Last in the module: the forced deploy leaves the stack on a schema earlier releases cannot read.
@pytest.mark.fault("a release whose migrations break the serving release (rollback check)")
def test_a_deploy_after_which_the_app_could_not_roll_back_stops_before_the_live_migration(deployed, tmp_path):
    stack = deployed
    before, revision = serving(stack), stack.ctx.engine.schema_revision(stack.ctx.database)
    done, report = run_check(stack, tmp_path, "deploy", "--tag=1.3.0-contract")
    assert done.returncode != 0
    assert "refused before the live migration" in done.stdout and "--allow-irreversible" in done.stdout
    assert serving(stack) == before and stack.ctx.engine.schema_revision(stack.ctx.database) == revision
    entry = last_entry(stack)
    assert entry["outcome"].startswith("failed before the app changed")
    assert entry["rollback_check"]["rollback"] == "NOT safe" and not entry["rollback_check"]["allow_irreversible"]
    page = report.read_text()
    assert "logs on the migrated copy" in page, "the refusal shows why the previous release did not serve"
    assert not rehearsal_leftovers(stack)
    assert_data_intact(stack)

    done, report = run_check(stack, tmp_path, "deploy", "--tag=1.3.0-contract", "--allow-irreversible")
    assert done.returncode == 0, done.stdout[-3000:]
    summary, top = summary_header(report)
    assert summary["outcome_text"] == "Deploy of 1.3.0-contract succeeded"
    assert summary["warnings"][0].startswith("IRREVERSIBLE deploy (--allow-irreversible)"), summary["warnings"]
    assert "data-warnings='0'" not in top and "WARNING" in top.split("</h2>")[0], "never the plain green header"
    entry = last_entry(stack)
    assert entry["outcome"] == "deployed" and entry["revision_after"] == "0004_note_body_renamed"
    assert entry["rollback_check"]["rollback"] == "NOT safe" and entry["rollback_check"]["allow_irreversible"]
    assert serving(stack) == ("1.3.0-contract", 200) and not rehearsal_leftovers(stack)
