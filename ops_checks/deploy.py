"""Runbook: deploy a release by TAG: pull -> backup -> migrate -> up -> health -> readyz -> smoke -> record.

    pytest ops_checks/deploy.py --tag=1.1.0

A failed step blocks the ones after it; the last step always runs: it records the release in the
ledger and, when the app was already touched, rolls it back to the release that served before.
"""

import contextlib

import pytest

from procedures import deploy, lock

from . import evidence


@pytest.fixture(scope="module")
def run(ops, pytestconfig):
    """The deploy under the operations lock; an interrupt still records, rolls back and unlocks."""
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(lock.hold_stack(ops.config, "deploy",
                                              break_stale=pytestconfig.getoption("break_stale_lock")))
        current = deploy.start(ops, pytestconfig.getoption("tag"))
        cleanup.callback(lambda: deploy.finish(current, current.error or "interrupted"))
        yield current


@pytest.mark.order(1)
def test_preflight(run, extras):
    """Preflight: docker and compose v2, free disk, the external database volume, TAG's images, the lock."""
    evidence.data(extras, "preflight", deploy.attempt(run, deploy.preflight))


@pytest.mark.order(2)
def test_pull_images_for_tag(run, extras):
    """Pull the TAG's images (only those not here yet)."""
    deploy.attempt(run, deploy.pull)
    evidence.data(extras, "image", {"tag": run.tag, "id": run.image_id})


@pytest.mark.order(3)
def test_verified_backup_before_migrations(run, extras):
    """Back up through the backup runbook: dump, verify, manifest, offsite, retention."""
    taken = deploy.attempt(run, deploy.take_backup)
    evidence.data(extras, "backup used by this deploy", {"set": taken.set_name, "bytes": taken.dump_size,
                                                        "sha256": taken.sha256, "uploaded": taken.uploaded})


@pytest.mark.order(4)
def test_migrate_as_one_off_task(run, extras):
    """Migrate: `docker compose run --rm migrate` of the new TAG (the api never migrates on start)."""
    before, after = deploy.attempt(run, deploy.migrate)
    evidence.data(extras, "alembic revision", {"before": before, "after": after})


@pytest.mark.order(5)
def test_up_on_new_tag(run):
    """Up: api, worker and proxy on the new TAG."""
    deploy.attempt(run, deploy.up)


@pytest.mark.order(6)
def test_containers_healthy(run, extras):
    """Wait for container health."""
    states = deploy.attempt(run, deploy.wait_healthy)
    evidence.table(extras, "services", [vars(s) for s in states.values()])


@pytest.mark.order(7)
def test_readyz_green_and_version_is_tag(run, extras):
    """/readyz green through the reverse proxy and /version reports TAG."""
    evidence.data(extras, "readiness", deploy.attempt(run, deploy.check_ready, run.ctx))


@pytest.mark.order(8)
def test_smoke_checks(run, extras):
    """Smoke checks: the configured HTTP expectations."""
    evidence.table(extras, "smoke checks", deploy.attempt(run, deploy.smoke, run.ctx))


@pytest.mark.order(9)
@pytest.mark.always_run
def test_release_recorded_or_rolled_back(run, failed_step, extras):
    """Record the release in the ledger and audit log; after a failure, roll the app back."""
    entry = deploy.finish(run, run.error or (f"{failed_step} failed" if failed_step else None))
    evidence.data(extras, "release ledger entry", entry)
    if failed_step:
        assert run.rollback is None or "error" not in run.rollback, f"rollback failed: {run.rollback}"
        pytest.fail(f"deploy of {run.tag} failed at {failed_step}: {entry['outcome']}; "
                    f"database restore needed: {deploy.database_restore_advice(run)}")
