"""Runbook: deploy a release by TAG: pull (or build, [build]) -> backup -> migrate -> one-offs -> up -> health -> readyz -> smoke -> record.

    pytest ops_checks/deploy.py --tag=1.1.0

A failed step blocks the ones after it; the last step always runs: it records the release in the
ledger and, when the app was already touched, rolls it back to the release that served before.
"""

import pytest

from procedures.release import deploy
from procedures.release.deploy import DEPLOY
from runbook_plugin.steps import runbook_step

from . import evidence, summary

TAG_REQUIRED = True  # no --tag: refused before the first step (runbook_plugin/options.py)


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    """The deploy under the operations lock; an interrupt still records, rolls back and unlocks."""
    with deploy.open_run(ops, pytestconfig.getoption("tag"),
                         break_stale_lock=pytestconfig.getoption("break_stale_lock"),
                         allow_irreversible=pytestconfig.getoption("allow_irreversible")) as opened:
        runbook_summary.read(summary.deploy, opened)
        yield opened


@runbook_step(DEPLOY, "preflight")
def test_preflight(run, step, extras):
    """Preflight: docker and compose v2, free disk, the external database volume, TAG's images, the lock,
    and how each service will switch (start-first only where the proxy re-resolves and retries)."""
    found = step(run)
    evidence.table(extras, "how each service switches", found["switch"])
    evidence.data(extras, "preflight", found)


@runbook_step(DEPLOY, "pull")
def test_pull_images_for_tag(run, step, extras):
    """Pull the TAG's images (only those not here yet); with [build], build them first from the ref's commit,
    exported clean from the app's checkout (commit, build time, image ids); an unknown ref or a failed build
    stops here, before the backup."""
    evidence.data(extras, "image", step(run))


@runbook_step(DEPLOY, "backup")
def test_verified_backup_before_migrations(run, step, extras):
    """Back up through the backup runbook: dump, verify, manifest, offsite, retention."""
    taken = step(run)
    evidence.data(extras, "backup used by this deploy", {"set": taken.set_name, "bytes": taken.dump_size,
                                                        "sha256": taken.sha256, "uploaded": taken.uploaded})


@runbook_step(DEPLOY, "rollback_check")
def test_rollback_stays_possible(run, step, extras):
    """Rehearse the migration on a throwaway copy of that backup and start the serving release on it: an
    app-only rollback is safe, or the deploy stops here (nothing live changed) unless --allow-irreversible."""
    try:
        step(run)
    finally:  # a refusal shows its verdict and the previous release's logs too
        verdict = run.rollback_check or {}
        evidence.data(extras, "rollback after this deploy", {k: v for k, v in verdict.items() if k != "logs"})
        if verdict.get("logs"):
            evidence.data(extras, "the previous release's logs on the migrated copy", verdict["logs"])


@runbook_step(DEPLOY, "migrate")
def test_migrate_as_one_off_task(run, step, extras):
    """Migrate as a one-off task of the new TAG: the app's migrate service, or [deploy] migrate_command
    in a one-off api container (the api never migrates on start)."""
    before, after = step(run)
    evidence.data(extras, "schema revision", {"before": before, "after": after})


@runbook_step(DEPLOY, "one_offs")
def test_app_one_off_tasks_completed(run, step, extras):
    """The app's own one-off tasks (migrate aside: permission fixers and the like), in dependency order, exit 0."""
    evidence.table(extras, "one-off tasks", step(run) or [{"one-off tasks": "none in the compose model"}])


@runbook_step(DEPLOY, "up")
def test_up_on_new_tag(run, step, extras):
    """Up: api, worker and proxy on the new TAG; stateless services behind the proxy start beside the
    old container and take over once ready, single-instance workers stop first."""
    switched = step(run)
    evidence.table(extras, "switch", switched["services"])


@runbook_step(DEPLOY, "health")
def test_containers_healthy(run, step, extras):
    """Wait for container health."""
    evidence.table(extras, "services", [vars(s) for s in step(run).values()])


@runbook_step(DEPLOY, "ready")
def test_readyz_green_and_version_is_tag(run, step, extras):
    """/readyz green through the reverse proxy and /version reports TAG."""
    evidence.data(extras, "readiness", step(run))


@runbook_step(DEPLOY, "smoke")
def test_smoke_checks(run, step, extras):
    """Smoke checks: the configured HTTP expectations."""
    evidence.table(extras, "smoke checks", step(run))


@runbook_step(DEPLOY, "record")
def test_release_recorded_or_rolled_back(run, step, failed_step, extras):
    """Record the release in the ledger and audit log; after a failure, roll the app back."""
    try:
        step(run, failed_step)
    finally:
        evidence.data(extras, "release ledger entry", run.entry)
