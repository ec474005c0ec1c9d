"""Pure parts of restore and disaster mode: which set, where it lies, naming, confirmation, argv."""

from datetime import datetime, timezone

import pytest

from procedures import restored_names
from procedures.commands import compose, files, rclone
from procedures.config import StackConfig
from procedures.errors import UnsafeOperation
from procedures.restore import choose, disaster
from procedures.sets.chosen import Chosen
from procedures.sets.names import Identity
from testkit import faults

pytestmark = pytest.mark.unit

ID = Identity("zen", "prod", "zenops")
P = "zen.prod_zenops_"
NOW = datetime(2026, 11, 5, tzinfo=timezone.utc)
NAMES = [P + "20261101T023000Z.dump", P + "20261101T023000Z.manifest.json",
         P + "20261102T023000Z.dump", P + "20261102T023000Z.manifest.json",
         P + "20261103T023000Z.dump",  # no manifest: never verified
         P + "20261104T023000Z.dump.partial", "notes.txt",
         # another stack sharing the folder, newer than every set of ours
         "zen-2.prod_zenops_20261104T030000Z.dump", "zen-2.prod_zenops_20261104T030000Z.manifest.json"]


def pick(names, requested=None, now=NOW):
    return choose.pick_set(names, requested, "here", "ls", ID, now)


def test_newest_verified_set_of_this_stack_is_picked_never_an_unverified_partial_or_others():
    assert pick(NAMES) == P + "20261102T023000Z"


def test_requested_set_by_set_name_or_file_name():
    assert pick(NAMES, P + "20261101T023000Z") == P + "20261101T023000Z"
    assert pick(NAMES, "/backups/" + P + "20261101T023000Z.dump") == P + "20261101T023000Z"


def test_a_set_stamped_in_the_future_is_never_picked_by_itself():
    ahead = NAMES + [P + "20261220T023000Z.dump", P + "20261220T023000Z.manifest.json"]
    assert pick(ahead) == P + "20261102T023000Z"
    assert pick(ahead, P + "20261220T023000Z") == P + "20261220T023000Z", "asked for by name, it may be restored"
    with pytest.raises(choose.RestoreError, match="stamped in the future.*20261220T023000Z"):
        pick([P + "20261220T023000Z.dump", P + "20261220T023000Z.manifest.json"])


def test_another_stacks_set_is_refused_naming_both():
    with pytest.raises(choose.RestoreError, match=r"not this stack's: it is project zen-2, .*this stack is project zen,"):
        pick(NAMES, "zen-2.prod_zenops_20261104T030000Z")


def test_a_set_named_before_sets_carried_the_project_is_restored_only_when_asked_and_of_this_database():
    old = ["prod_zenops_20261104T023000Z.dump", "prod_zenops_20261104T023000Z.manifest.json",
           "prod_billing_20261104T023000Z.dump", "prod_billing_20261104T023000Z.manifest.json"]
    with pytest.raises(choose.RestoreError, match="no verified backup of this stack.*2 other set"):
        pick(old)
    assert pick(old, "prod_zenops_20261104T023000Z") == "prod_zenops_20261104T023000Z"
    with pytest.raises(choose.RestoreError, match="database billing"):
        pick(old, "prod_billing_20261104T023000Z")


@pytest.mark.parametrize("requested, message", [
    (P + "20261103T023000Z", "has no manifest"),
    (P + "20200101T000000Z", "not found in gdrive:x; list the sets there: rclone lsl gdrive:x"),
    ("whatever", "not found in gdrive:x; list the sets there: rclone lsl gdrive:x"),
])
def test_bad_requests_say_why(requested, message):
    with pytest.raises(choose.RestoreError, match=message):
        choose.pick_set(NAMES, requested, "gdrive:x", "rclone lsl gdrive:x", ID, NOW)


def test_nothing_verified_names_the_fix():
    with pytest.raises(choose.RestoreError, match="run `pytest ops_checks/backup.py` first"):
        pick([P + "20261103T023000Z.dump"])


def test_dump_path_inside_the_backups_volume():
    manifest = {"dump": {"file": "s.dump"}}
    assert Chosen("s", manifest).dump_in_backups == "s.dump"
    assert Chosen("s", manifest, "from-remote-s").dump_in_backups == "from-remote-s/s.dump"


def test_new_volume_names_replace_an_earlier_restore_stamp():
    now = datetime(2026, 11, 24, 18, 0, 0, tzinfo=timezone.utc)
    assert restored_names.new_name("zenops_pgdata", now) == "zenops_pgdata_restored_20261124T180000Z"
    assert (restored_names.new_name("zenops_pgdata_restored_20261001T010203Z", now)
            == "zenops_pgdata_restored_20261124T180000Z")


@pytest.mark.parametrize("environ", [{}, {"CONFIRM": "yes"}, {"CONFIRM": "1"}, {"CONFIRM": "YES "}])
def test_disaster_mode_needs_exactly_confirm_yes(environ):
    with pytest.raises(UnsafeOperation, match="Nothing was changed. To go ahead, set CONFIRM=YES"):
        disaster.require_confirmation(environ)
    disaster.require_confirmation({"CONFIRM": "YES"})


def test_argv_of_the_new_commands():
    stack = StackConfig("p", ())
    assert compose.up(stack, ["db"], no_deps=True, force_recreate=True) == [
        "docker", "compose", "--project-name", "p", "up", "--detach", "--no-build", "--no-deps", "--force-recreate", "db"]
    assert rclone.copy_set_to_local("gdrive:Z/prod", "prod_zenops_20261101T023000Z", "/backups/x.partial") == [
        "rclone", "copy", "--stats=5s", "--stats-one-line", "--stats-log-level=NOTICE",
        "--include", "/prod_zenops_20261101T023000Z.*", "gdrive:Z/prod", "/backups/x.partial"]
    assert files.make_dir("/backups/x") == ["mkdir", "--parents", "--", "/backups/x"]
    assert files.remove_tree("/backups/x") == ["rm", "-rf", "--", "/backups/x"]
    assert faults.flip_byte("/backups/a.dump", 7)[-2:] == ["/backups/a.dump", "7"]
