"""Runbook: set up the offsite remotes the backups go to, and prove them. Run once on the way in
(before adopting or installing), and again after changing the storage or its credentials.

    pytest ops_checks/offsite_setup.py [--ops-config PATH]

[offsite_setup] in the ops config says which storage (Drive, SFTP, S3, any rclone backend), its options,
and which variables of a file only root reads hold its secrets (docs/BACKUPS.md section 3). A remote
rclone.conf already has is kept as it is; every run ends by writing, listing, hash-checking and deleting
a probe object through [offsite] remote.
"""

import pytest

from procedures.backup.offsite_setup import OFFSITE_SETUP, SetupRun
from runbook_plugin.steps import runbook_step

from . import evidence


@pytest.fixture(scope="module")
def run(ops, pytestconfig):
    """One set-up run; the lock and backup container it takes are released on exit."""
    opened = SetupRun(ops, break_stale_lock=pytestconfig.getoption("break_stale_lock"))
    with opened.cleanup:
        yield opened


@runbook_step(OFFSITE_SETUP, "secrets")
def test_the_secrets_file_sets_every_variable(run, step, extras):
    evidence.data(extras, "secrets (names only)", step(run))


@runbook_step(OFFSITE_SETUP, "remotes")
def test_the_remotes_exist(run, step, extras):
    evidence.data(extras, "rclone remotes", step(run))


@runbook_step(OFFSITE_SETUP, "probe")
def test_a_probe_object_is_written_listed_checked_and_deleted(run, step, extras):
    evidence.data(extras, "probe", step(run))
