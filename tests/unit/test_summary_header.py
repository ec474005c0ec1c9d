"""The summary header: first in the report's <body>, carrying the run's facts, escaped and redacted; the
record's summary (record_version 2) it is drawn from; and what each runbook's run contributes to it."""

import json
import stat
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from ops_checks import summary as facts
from procedures.release.deploy import DeployRun
from procedures.restore.offsite_copy import OffsiteCopies
from runbook_plugin import header

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """pytester's runs import the plugin of this checkout, not whichever copy the venv installed."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

CHECK = '''
import pytest
from procedures.redact import register_secret
from procedures.runbook import Runbook, Step
from runbook_plugin.steps import runbook_step

register_secret("registered-secret-4471")
FAKE = Runbook("fake", (Step("restore", lambda run: "restored"), Step("row_counts", lambda run: run.compare()),
                        Step("samples", lambda run: "sampled"), Step("record", lambda run, failed: failed, always_run=True)))


class Run:
    def __init__(self, fail):
        self.fail = fail

    def compare(self):
        if self.fail:
            raise RuntimeError("row counts differ <script>alert(1)</script> password=hunter2-planted "
                               "registered-secret-4471\\nsecond line of the error")
        return "match"


def reader(run):
    return {"what": "Restore drill <b>", "tag": {"from": "1.0.0", "to": "1.1.0"},
            "revision": {"from": "0001_init", "to": "0002_note_titles"},
            "backup_set": {"name": "demo_zenops_20261201T020000Z", "size_bytes": 3 * 1024 * 1024,
                           "dump_bytes": 2048, "sha256": "ab" * 32, "offsite": True, "encrypted": True,
                           "offsite_bytes": 3 * 1024 * 1024},
            "backup_seconds": 4.25, "drill": {"rto_seconds": 3.5, "rpo_seconds": 7200.0, "row_counts": "match"},
            "advice": ["restore with CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster "
                       "--backup=postgresql://zen:url-pw-planted@db/zen"] if run.fail else []}


@pytest.fixture(scope="module")
def run(runbook_summary, pytestconfig, runbook_record):
    opened = Run(fail=__FAIL__)
    runbook_record.update({"backup_file": "demo_zenops_20261201T020000Z.dump",
                           "backup_taken_at": "2026-12-01T02:00:00+00:00"})
    runbook_summary.read(reader, opened)
    yield opened


@runbook_step(FAKE, "restore")
def test_restore(run, step):
    step(run)


@runbook_step(FAKE, "row_counts")
def test_row_counts(run, step):
    step(run)


@runbook_step(FAKE, "samples")
def test_samples(run, step):
    step(run)


@runbook_step(FAKE, "record")
def test_record(run, step, failed_step):
    step(run, failed_step)
'''
PLANTED = ("hunter2-planted", "registered-secret-4471", "url-pw-planted")


class BodyOrder(HTMLParser):
    """The tags directly inside <body>, in order, with their attributes."""

    def __init__(self):
        super().__init__()
        self.depth, self.children = None, []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.depth = 0
            return
        if self.depth == 0:
            self.children.append((tag, dict(attrs)))
        if self.depth is not None and tag not in ("br", "meta", "input", "link"):
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth is not None and tag != "body" and tag not in ("br",):
            self.depth -= 1


def first_in_body(page: str) -> tuple[str, dict]:
    parser = BodyOrder()
    parser.feed(page)
    return parser.children[0]


def header_of(page: str) -> str:
    start = page.index("<section id='ops-summary'")
    return page[start:page.index("</section>", start) + len("</section>")]


def run_fake(pytester, fail: bool, *args) -> tuple[Path, dict, object]:
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "restore_drill.py").write_text(CHECK.replace("__FAIL__", repr(fail)))
    result = pytester.runpytest_subprocess("ops_checks/restore_drill.py", "-p", "no:cacheprovider", *args)
    [report] = (pytester.path / "reports" / "restore_drill").glob("*.html")
    return report, json.loads(report.with_suffix(".json").read_text()), result


def test_a_passing_run_opens_with_its_facts_and_sign_off(pytester):
    report, record, result = run_fake(pytester, False, "--signed-off-by=Ann <ops@example>")
    result.assert_outcomes(passed=4)
    page = report.read_text()
    tag, attrs = first_in_body(page)
    assert (tag, attrs.get("id")) == ("section", "ops-summary"), "the header comes before pytest-html's title"
    assert page.index("ops-summary") < page.index('id="environment"') < page.index('class="summary"')
    top = header_of(page)
    assert "Restore drill &lt;b&gt; succeeded" in top and "<b>" not in top.split("<h2", 1)[1].split("</h2>")[0]
    for shown in ("TAG 1.0.0 -&gt; 1.1.0", "schema revision 0001_init -&gt; 0002_note_titles",
                  "demo_zenops_20261201T020000Z: 3.0 MiB (3145728 bytes), dump 2.0 KiB (2048 bytes)",
                  "sha256 " + "ab" * 32, "offsite: yes", "encrypted (crypt remote): yes", "backup took 4.25 s",
                  "RTO 3.5 s; RPO 7200.0 s (2.0 h); row counts: match",
                  "Backup file", "demo_zenops_20261201T020000Z.dump", "2026-12-01T02:00:00+00:00",
                  "Restore completed successfully: done", "Table count verified: done",
                  "Sample queries executed: done", "Schema version matches: not run", "No major errors: done",
                  "Ann &lt;ops@example&gt;", "Tested by (operator@host)", record["host"]):
        assert shown in top, shown
    assert "<tr data-fact='actions'>" in top and "<td style='padding:2px 0'>None</td></tr>" \
        in top.split("data-fact='actions'")[1][:200]
    assert "data-fact='failure'" not in top
    assert "<script" not in top and "<link" not in top, "the header loads nothing"
    assert record["record_version"] == 2 and record["project"] is None and Path(record["report"]) == report.resolve()
    assert record["summary"] == {
        "outcome_text": "Restore drill <b> succeeded", "tag": {"from": "1.0.0", "to": "1.1.0"},
        "revision": {"from": "0001_init", "to": "0002_note_titles"},
        "backup_set": {"name": "demo_zenops_20261201T020000Z", "size_bytes": 3145728, "dump_bytes": 2048,
                       "sha256": "ab" * 32, "offsite": True, "encrypted": True, "offsite_bytes": 3145728},
        "backup_seconds": 4.25, "drill": {"rto_seconds": 3.5, "rpo_seconds": 7200.0, "row_counts": "match"},
        "changed": [], "failure": None, "actions_required": [], "signed_off_by": "Ann <ops@example>",
        "signed_off_at": record["summary"]["signed_off_at"], "failed_requests": None, "restored_from": None,
        "warnings": []}
    assert record["finished_at"] <= record["summary"]["signed_off_at"] < "2100"
    assert f"Ann &lt;ops@example&gt; at {record['summary']['signed_off_at']}" in top
    assert [s["name"] for s in record["steps"]] == ["restore", "row_counts", "samples", "record"]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600 and not list(report.parent.glob("*.partial"))


def test_a_failed_run_names_the_step_its_error_and_the_advice_escaped_and_redacted(pytester):
    report, record, result = run_fake(pytester, True)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    page = report.read_text()
    assert first_in_body(page)[1].get("id") == "ops-summary"
    top = header_of(page)
    assert [p for p in PLANTED if p in page or p in json.dumps(record)] == []
    assert "<script>alert" not in top and "&lt;script&gt;alert(1)&lt;/script&gt;" in top
    failure = record["summary"]["failure"]
    assert failure["step"].startswith("step 2: ") and failure["label"] == "step 2 (row_counts)"
    assert failure["error"].startswith("RuntimeError: row counts differ") and "second line" not in failure["error"]
    assert failure["advice"] == ["restore with CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster "
                                 "--backup=postgresql://zen:***@db/zen"]
    # its samples step was blocked by the failure: it never ran, so the run is incomplete too
    assert record["summary"]["outcome_text"] == \
        "Restore drill <b> FAILED at step 2 (row_counts); INCOMPLETE: 3 of 4 steps ran"
    assert "FAILED at step 2 (row_counts)" in top and "INCOMPLETE: 3 of 4 steps ran" in top
    assert "password=***" in top and "zen:***@db" in top
    assert "Table count verified: FAILED" in top and "Sample queries executed: not run" in top \
        and "No major errors: FAILED" in top
    actions = record["summary"]["actions_required"]
    assert actions[0].startswith("Fix the failure, then run the check again: step 2: ")
    assert actions[1].startswith("Follow the procedure's advice: restore with CONFIRM=YES")
    assert "data-fact='failure'" in top and "(not signed off: opsuite sign REPORT --by NAME" in top


def test_a_reader_that_breaks_never_loses_the_record(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "quiet.py").write_text(
        "def test_step(runbook_summary):\n    runbook_summary.read(lambda run: run['missing'], {})\n")
    pytester.runpytest_subprocess("ops_checks/quiet.py", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    [report] = (pytester.path / "reports" / "quiet").glob("*.html")
    record = json.loads(report.with_suffix(".json").read_text())
    assert record["summary"]["outcome_text"] == "quiet check succeeded"
    assert record["summary"]["actions_required"][0].startswith("summary facts of <lambda> not read: KeyError")
    assert first_in_body(report.read_text())[1].get("id") == "ops-summary"


def test_the_header_replaces_an_earlier_one_and_refuses_a_page_without_body():
    page = "<html><body class='x'><h1>t</h1></body></html>"
    once = header.insert_first_in_body(page, "<section id='ops-summary'>one</section>")
    twice = header.insert_first_in_body(once, "<section id='ops-summary'>two</section>")
    assert twice == "<html><body class='x'><section id='ops-summary'>two</section><h1>t</h1></body></html>"
    with pytest.raises(ValueError, match="no <body> tag"):
        header.insert_first_in_body("<html></html>", "<section id='ops-summary'></section>")


def deploy_run(**fields) -> DeployRun:
    run = DeployRun(SimpleNamespace(tag="1.2.1"), "1.0.0")
    for key, value in fields.items():
        setattr(run, key, value)
    return run


def test_a_failed_deploy_gives_the_ledger_outcome_and_the_procedures_restore_and_rollback_advice():
    moved = deploy_run(revision_before="0001", revision_after="0002", outcome="failed, ROLLBACK FAILED",
                       rollback={"to": "1.0.0", "error": "boom"},
                       backup=None)
    found = facts.deploy(moved)
    assert found["tag"] == {"from": "1.0.0", "to": "1.2.1"} and found["revision"] == {"from": "0001", "to": "0002"}
    assert found["outcome_detail"] == 'the release ledger records "failed, ROLLBACK FAILED"'
    assert found["advice"][0].startswith("the automatic rollback to 1.0.0 failed: roll back by hand with "
                                         "pytest ops_checks/rollback.py --tag=1.0.0")
    assert "CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster --backup=SET" in found["advice"][1]
    unchanged = facts.deploy(deploy_run(outcome="failed before the app changed; previous release still serving"))
    assert unchanged["advice"] == ["database restore needed: no: the database schema did not change"]
    assert unchanged["revision"] is None and "advice" not in facts.deploy(deploy_run(outcome="deployed"))


def test_a_backup_set_counts_its_own_files_and_is_encrypted_only_offsite():
    uploads = {"file": "s.uploads.tar.gz", "size": 100, "list": {"size": 10}}
    dump = SimpleNamespace(path="/backups/s.dump", size=1000, sha256="cd" * 32)
    run = SimpleNamespace(set_name="s", dump=dump, uploads=uploads, remote_files=["s.dump"],
                          remote=SimpleNamespace(crypt=True), timings={"dump": 1.5, "offsite": 2.0})
    assert facts.backup(run) == {"what": "Backup", "backup_seconds": 3.5, "backup_set": {
        "name": "s", "size_bytes": 1110, "dump_bytes": 1000, "sha256": "cd" * 32, "offsite": True,
        "encrypted": True, "offsite_bytes": 1110}}
    local_only = facts.backup(SimpleNamespace(**{**vars(run), "remote_files": [], "uploads": {"store": "x", "list": {"size": 7}}}))
    assert local_only["backup_set"]["size_bytes"] == 1007
    assert (local_only["backup_set"]["offsite"], local_only["backup_set"]["encrypted"],
            local_only["backup_set"]["offsite_bytes"]) == (False, False, None)


def _copies(newest_at: datetime, has_set: bool = True, encrypted: bool = True) -> OffsiteCopies:
    return OffsiteCopies(True, "gdrive-crypt:zen/prod", encrypted, has_set, "zen.prod_zen_20261206T020000Z", newest_at)


def _restore_run(from_remote: bool, copies: OffsiteCopies | None, mode: str = "disaster", **record):
    manifest = {"dump": {"size": 500, "sha256": "ef" * 32}, "uploads": None}
    chosen = SimpleNamespace(set_name="s", manifest=manifest, decrypted_through="gdrive-crypt:" if from_remote else "")
    config = SimpleNamespace(freshness=SimpleNamespace(offsite_max_age_hours=26))
    return SimpleNamespace(record={"rto_seconds": 12.5, "restore_seconds": 4.0, "set_age_seconds": 9.6, **record},
                           mode=mode, chosen=chosen, options=SimpleNamespace(from_remote=from_remote),
                           keeps_server=False, server=None, offsite=copies, ctx=SimpleNamespace(config=config))


def test_a_restore_gives_the_set_it_restored_its_recovery_times_and_how_to_switch_back():
    run = _restore_run(True, _copies(datetime.now(timezone.utc) - timedelta(hours=3)),
                       row_counts=[{"match": True}, {"match": False}], old_volume="zen_db",
                       new_volume="zen_db_restored_x", switch_back="pytest ... --volume=zen_db")
    found = facts.restore(run)
    assert found["what"] == "Disaster restore"
    assert found["backup_set"] == {"name": "s", "size_bytes": 500, "dump_bytes": 500, "sha256": "ef" * 32,
                                   "offsite": True, "encrypted": True, "offsite_bytes": 500}
    assert found["restored_from"] == {"where": "offsite", "remote": "gdrive-crypt:zen/prod",
                                      "decrypted_through": "gdrive-crypt:"}
    drill = found["drill"]
    assert drill["rto_seconds"] == 12.5 and drill["row_counts"] == "differ" and drill["rto_to"] == "serving"
    # RPO: the newest verified offsite set's age when the run ended, not the restored set's 9.6 s
    assert 3 * 3600 <= drill["rpo_seconds"] < 3 * 3600 + 60 and drill["set_age_seconds"] == 9.6
    assert drill["rpo_set"] == "zen.prod_zen_20261206T020000Z" and drill["rpo_limit_seconds"] == 26 * 3600
    assert drill["rpo_within"] is True
    assert found["changed"] == ["database volume zen_db -> zen_db_restored_x", "switch back: pytest ... --volume=zen_db"]
    assert found["advice"] == ["switch back: pytest ... --volume=zen_db"]
    unchosen = facts.restore(SimpleNamespace(record={}, mode="test", chosen=None, keeps_server=False, server=None))
    assert unchosen == {"what": "Restore drill", "advice": []}


def test_a_local_drill_of_a_set_with_an_encrypted_offsite_copy_says_both_apart():
    found = facts.restore(_restore_run(False, _copies(datetime.now(timezone.utc) - timedelta(hours=30)), mode="test"))
    assert found["restored_from"] == {"where": "local", "remote": None, "decrypted_through": None}
    assert found["backup_set"]["offsite"] is True and found["backup_set"]["encrypted"] is True
    assert found["drill"]["rpo_within"] is False and found["drill"]["rto_to"] == "verified"
    top = header.render({**_drill_record(found), "report": "/srv/opsuite/reports/restore_drill/20261206T101010Z.html"})
    assert "Restored from" in top and "local backup directory" in top
    assert "offsite: yes" in top and "encrypted (crypt remote): yes" in top
    assert "OVER THE LIMIT" in top and "choosing and downloading the set included" in top
    assert "<a href='../index.html'>" in top


def test_a_set_with_no_offsite_copy_or_an_unlisted_remote_says_so():
    local_only = facts.restore(_restore_run(False, OffsiteCopies(True, "r:", True, False, None, None), mode="test"))
    assert local_only["backup_set"]["offsite"] is False and local_only["backup_set"]["encrypted"] is False
    assert local_only["drill"]["rpo_seconds"] is None and "no verified set on the remote" in local_only["warnings"][0]
    unknown = facts.restore(_restore_run(False, OffsiteCopies(True, "r:", error="cannot list r:"), mode="test"))
    assert unknown["backup_set"]["offsite"] is None and unknown["backup_set"]["encrypted"] is None
    assert "could not be listed" in unknown["warnings"][0]
    disabled = facts.restore(_restore_run(False, OffsiteCopies(False), mode="test"))
    assert disabled["backup_set"]["offsite"] is False and disabled["drill"]["rpo_limit_seconds"] is None


def _drill_record(found: dict) -> dict:
    summary = {"outcome_text": "Restore drill succeeded", "tag": None, "revision": None, "backup_seconds": None,
               "changed": [], "failure": None, "actions_required": [], "signed_off_by": None,
               "failed_requests": None, **{k: found.get(k) for k in ("backup_set", "drill", "restored_from")},
               "warnings": found.get("warnings", [])}
    return {"check": "restore_drill", "outcome": "passed", "operator": "ann", "host": "vps", "project": "zen",
            "started_at": "2026-12-06T10:10:10+00:00", "finished_at": "2026-12-06T10:11:10+00:00",
            "duration_seconds": 60, "issues_found": [], "summary": summary,
            "steps": [{"step": "step 2: Choose the newest verified backup", "name": "choose", "outcome": "passed",
                       "seconds": 1.5, "error": None, "blocked_by": None}]}


def test_rollback_install_and_adopt_say_what_changed():
    ctx = SimpleNamespace(tag="1.0.0", config=SimpleNamespace(stack=SimpleNamespace(project="zen")))
    assert facts.rollback(SimpleNamespace(ctx=ctx, from_tag="1.1.0", revision="0002")) == {
        "what": "Rollback to 1.0.0", "tag": {"from": "1.1.0", "to": "1.0.0"}, "revision": {"from": "0002", "to": "0002"}}
    new = SimpleNamespace(ctx=ctx, serving=None, migrated=SimpleNamespace(ran=True), entry={"revision_after": "0001"})
    assert facts.install(new)["tag"] == {"from": None, "to": "1.0.0"}
    assert facts.install(new)["revision"] == {"from": None, "to": "0001"}
    adopted = facts.adopt(SimpleNamespace(ctx=ctx, entry={"revision_after": "0001"}, backup=None))
    assert adopted == {"what": "Adoption of zen at 1.0.0", "tag": {"from": "1.0.0", "to": "1.0.0"},
                       "revision": {"from": "0001", "to": "0001"}}
    assert header.what_changed({"tag": adopted["tag"], "revision": None}) == "TAG 1.0.0 (unchanged)"


def test_a_switch_says_which_volume_or_database_it_moved_to_and_how_to_switch_back():
    moved = SimpleNamespace(from_volume="a", to_volume="b", from_uploads_volume=None, to_uploads_volume=None,
                            how_to_switch_back=lambda: "CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume=a")
    assert facts.volume_switch(SimpleNamespace(target="b", result=moved))["changed"] == [
        "database volume a -> b", "switch back: CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume=a"]
    assert facts.url_switch(SimpleNamespace(target="new", result=None)) == {"what": "Switch of the app to database new"}


def test_an_irreversible_deploy_and_a_recreated_app_service_are_warnings_and_never_the_plain_green_header():
    ctx = SimpleNamespace(tag="1.3.0", config=SimpleNamespace(services=SimpleNamespace(app=("api", "worker"))))
    run = DeployRun(ctx, "1.2.0", allow_irreversible=True, revision_before="0002", revision_after="0003",
                    rollback_check={"rollback": "NOT safe", "previous_tag": "1.2.0", "tag": "1.3.0",
                                    "why": "1.2.0 does not serve on the migrated copy", "backup": "zen.prod_x"},
                    switch={"services": [{"service": "api", "how": "start-first", "why": "behind caddy"},
                                         {"service": "worker", "how": "recreate", "why": "container_name is set"},
                                         {"service": "proxy", "how": "recreate", "why": "holds the ports"}]})
    warnings = facts.deploy(run)["warnings"]
    assert warnings[0].startswith("IRREVERSIBLE deploy (--allow-irreversible): the rollback check found 1.2.0 cannot")
    assert "restored from backup zen.prod_x" in warnings[0]
    assert len(warnings) == 2 and warnings[1].startswith("worker was recreated, not switched start-first (container_")
    safe = DeployRun(ctx, "1.2.0", allow_irreversible=True, revision_after="0003", rollback_check={"rollback": "safe"})
    assert "warnings" not in facts.deploy(safe)
    refused = DeployRun(ctx, "1.2.0", allow_irreversible=True, rollback_check=run.rollback_check)  # never migrated
    assert "warnings" not in facts.deploy(refused)

    record = _drill_record({})
    record["summary"].update(outcome_text="Deploy of 1.3.0 succeeded", warnings=warnings)
    top = header.render({**record, "check": "deploy"})
    assert "data-warnings='2'" in top and "with 2 WARNINGS" in top and "IRREVERSIBLE deploy" in top
    assert header._STYLE["passed"] not in top and header._STYLE["warned"] in top


def test_the_header_has_a_static_step_table_with_whole_labels_and_no_history_link_outside_reports():
    record = _drill_record({})
    long_label = "step 2: Choose the newest verified backup (or --backup; --from-remote downloads it) and re-check"
    record["steps"] = [{"step": long_label, "outcome": "passed", "seconds": 1.5},
                       {"step": "step 3: Start a throwaway server", "outcome": "failed", "seconds": 0.2,
                        "error": "RestoreError: no <space> left"},
                       {"step": "step 4: restore", "outcome": "skipped", "blocked_by": "blocked by step 3 (x)"}]
    top = header.render({**record, "report": "/tmp/elsewhere/report.html"})
    table = top[top.index("data-fact='steps_table'"):]
    assert long_label in table and "RestoreError: no &lt;space&gt; left" in table and "blocked by step 3 (x)" in table
    assert table.count("<tr data-step-outcome=") == 3 and "<script" not in top
    assert "index.html" not in top


def test_the_offsite_listing_finds_the_set_and_the_newest_verified_one():
    from procedures.restore.offsite_copy import from_listing
    from procedures.sets.names import Identity
    names = ["zen.prod_zen_20261205T020000Z.dump", "zen.prod_zen_20261205T020000Z.manifest.json",
             "zen.prod_zen_20261206T020000Z.dump"]  # the newest has no manifest: not verified
    now = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)
    found = from_listing(names, Identity("zen", "prod", "zen"), "zen.prod_zen_20261205T020000Z", "r:", True, now)
    assert found.has_set and found.newest == "zen.prod_zen_20261205T020000Z" and found.encrypted
    assert found.rpo_seconds(now) == 34 * 3600.0
    assert not from_listing(names, Identity("zen", "prod", "zen"), "zen.prod_zen_20261206T020000Z", "r:", True,
                            now).has_set
