"""Runbook: discover a stack the suite did not create (its "Current State"), read-only.

    pytest ops_checks/discover.py --compose-file=/srv/app [--project=NAME]
    pytest ops_checks/discover.py --compose-file=docker-compose.yml [--compose-file=...] [--project=NAME]

Renders the app's own compose files (one directory: the files plain `docker compose` reads there),
under the project name compose itself gives them (procedures/adopt/compose_rules.py), names who does what (database and its volume, app services,
single-instance workers, proxy, one-offs, backup machinery), lists the running containers and
volumes, the risks with their fixes, and writes a proposed ops config beside this report
(reports/discover/<stamp>.ops.toml) with every guess marked. It starts, changes and removes nothing.
"""

from pathlib import Path

import pytest

from procedures.adopt import discover
from procedures.adopt.discover import DISCOVER
from runbook_plugin.steps import runbook_step

from . import evidence


@pytest.fixture(scope="module")
def run(pytestconfig):
    here = Path(pytestconfig.invocation_params.dir)
    files = [str(here / f) for f in pytestconfig.getoption("ops_compose_files") or []]
    htmlpath = pytestconfig.getoption("htmlpath", None)
    return discover.open_run(files, pytestconfig.getoption("ops_project"),
                             Path(htmlpath).with_suffix(".ops.toml") if htmlpath else None)


@runbook_step(DISCOVER, "render")
def test_compose_files_render(run, step, extras):
    """The app's compose files render (compose's own error, verbatim, if not)."""
    evidence.data(extras, "compose model", step(run))


@runbook_step(DISCOVER, "roles")
def test_roles_are_identified(run, step, extras):
    """Database and its volume, app services, single-instance workers, proxy, one-offs, backup machinery."""
    evidence.table(extras, "Current State: services", step(run))
    roles = run.roles
    evidence.data(extras, "Current State: roles", {
        "database": roles.database, "engine": roles.engine,
        "database volume": vars(roles.database_volume) if roles.database_volume else None,
        "database data": (roles.database_bind or roles.database_data) if roles.database and not roles.database_volume
        else None,
        "database URL host (outside the stack)": roles.database_url_host, "SQLite file": roles.sqlite_path,
        "app": roles.app, "single instance": roles.single_instance, "proxy": roles.proxy,
        "one-offs": roles.one_offs, "migrate": roles.migrate, "backup machinery": roles.backup_machinery,
        "not started (profile not active)": roles.profile_only,
        "guesses": roles.guesses})


@runbook_step(DISCOVER, "running")
def test_running_containers_and_volumes_are_listed(run, step, extras):
    """The project's containers and volumes as they are now (none when the stack does not run)."""
    evidence.data(extras, "running", step(run))


@runbook_step(DISCOVER, "risks")
def test_risks_are_listed_with_their_fixes(run, step, extras):
    """Risks: published internal ports, restart, log rotation, moving tags, the database volume, backups."""
    evidence.table(extras, "risks", [{"risk": r.what, "fix": r.fix} for r in step(run)]
                   or [{"risk": "none found", "fix": ""}])


@runbook_step(DISCOVER, "proposal")
def test_proposed_ops_config_is_written(run, step, extras):
    """A proposed ops config beside this report; lines marked GUESS need a look."""
    text = step(run)
    evidence.data(extras, f"proposed ops config ({run.proposal_path or 'not written: no report path'})", text)
    if run.front is not None:
        evidence.data(extras, f"proposed proxy in front ({discover.front_path(run) or 'not written: no report path'})",
                      run.front.compose_text)
