"""Pure parts of restore and disaster mode: which set, where it lies, naming, confirmation, argv."""

from datetime import datetime, timezone

import pytest

from procedures.restore import choose, disaster
from procedures.commands import compose, files, rclone
from procedures.config import StackConfig
from procedures.errors import UnsafeOperation
from testkit import faults

pytestmark = pytest.mark.unit

NAMES = ["prod_zenops_20261101T023000Z.dump", "prod_zenops_20261101T023000Z.manifest.json",
         "prod_zenops_20261102T023000Z.dump", "prod_zenops_20261102T023000Z.manifest.json",
         "prod_zenops_20261103T023000Z.dump",  # no manifest: never verified
         "prod_zenops_20261104T023000Z.dump.partial", "notes.txt"]


def test_newest_verified_set_is_picked_never_an_unverified_or_partial_one():
    assert choose.pick_set(NAMES, None, "here", "ls") == "prod_zenops_20261102T023000Z"


def test_requested_set_by_set_name_or_file_name():
    assert choose.pick_set(NAMES, "prod_zenops_20261101T023000Z", "here", "ls") == "prod_zenops_20261101T023000Z"
    assert choose.pick_set(NAMES, "/backups/prod_zenops_20261101T023000Z.dump", "here", "ls") == "prod_zenops_20261101T023000Z"


@pytest.mark.parametrize("requested, message", [
    ("prod_zenops_20261103T023000Z", "has no manifest"),
    ("prod_zenops_20200101T000000Z", "not found in gdrive:x; list the sets there: rclone lsl gdrive:x"),
    ("whatever", "not found in gdrive:x; list the sets there: rclone lsl gdrive:x"),
])
def test_bad_requests_say_why(requested, message):
    with pytest.raises(choose.RestoreError, match=message):
        choose.pick_set(NAMES, requested, "gdrive:x", "rclone lsl gdrive:x")


def test_nothing_verified_names_the_fix():
    with pytest.raises(choose.RestoreError, match="run `pytest ops_checks/backup.py` first"):
        choose.pick_set(["prod_zenops_20261103T023000Z.dump"], None, "the backups volume", "ls")


def test_dump_path_inside_the_backups_volume():
    manifest = {"dump": {"file": "s.dump"}}
    assert choose.Chosen("s", manifest).dump_in_backups == "s.dump"
    assert choose.Chosen("s", manifest, "from-remote-s").dump_in_backups == "from-remote-s/s.dump"


def test_new_volume_names_replace_an_earlier_restore_stamp():
    now = datetime(2026, 11, 24, 18, 0, 0, tzinfo=timezone.utc)
    assert disaster.new_volume_name("zenops_pgdata", now) == "zenops_pgdata_restored_20261124T180000Z"
    assert (disaster.new_volume_name("zenops_pgdata_restored_20261001T010203Z", now)
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
        "rclone", "copy", "--include", "/prod_zenops_20261101T023000Z.*", "gdrive:Z/prod", "/backups/x.partial"]
    assert files.make_dir("/backups/x") == ["mkdir", "--parents", "--", "/backups/x"]
    assert files.remove_tree("/backups/x") == ["rm", "-rf", "--", "/backups/x"]
    assert faults.flip_byte("/backups/a.dump", 7)[-2:] == ["/backups/a.dump", "7"]
