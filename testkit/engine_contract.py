"""What every engine must do, written once: the same drill, rehearsal and disaster restore, asserted
the same way on every engine's stack (Postgres in the stack, Postgres by URL, SQLite in a volume,
MariaDB).

A stack module subclasses `EngineContract` as `TestEngineContract`, after its adoption, backup and
deploy (the class's tests run where it stands in the module), and gives the app's own way to write
and read a row: `write(host, text)` and `written(host)`. Its module fixtures `stack`, `host` and
`reports` are the ones every cycle module already has: the contract costs no stack of its own.
"""

import json
import re

import docker

from procedures import ledger
from procedures.guards import THROWAWAY_VOLUME_PREFIX
from procedures.sets import names as set_names
from procedures.stack.serving import with_serving_tag
from testkit.backup_helpers import local_files, manifest_of
from testkit.ops_run import passed, run_check

AFTER_THE_BACKUP = "written after the contract's backup"
# The disaster report's way back, whichever switch the engine's data place takes.
SWITCH_BACK = re.compile(r"CONFIRM=YES pytest ops_checks/(switch_database_volume|switch_database_url)\.py"
                         r"((?: --[\w-]+=[\w.-]+)+)")


def throwaways_left(project: str) -> list[str]:
    """Containers, volumes and networks of the project's drills and rehearsals (their reserved prefix) still there."""
    prefix = f"{THROWAWAY_VOLUME_PREFIX}{project}"
    client = docker.from_env()
    return sorted([c.name for c in client.containers.list(all=True, filters={"name": prefix})]
                  + [v.name for v in client.volumes.list(filters={"name": prefix})]
                  + [n.name for n in client.networks.list(filters={"name": prefix})])


def record_of(report) -> dict:
    """The JSON record the ops check wrote beside its HTML report."""
    return json.loads(report.with_suffix(".json").read_text())


class EngineContract:
    """The engine contract's tests; a subclass supplies the app's row writer and reader."""

    def write(self, host, text: str) -> None:
        raise NotImplementedError("the stack module says how its app writes a row")

    def written(self, host) -> list[str]:
        raise NotImplementedError("the stack module says how its app lists its rows")

    def after_disaster(self, stack, host, report) -> None:
        """What the stack's shape adds once the app serves the restored copy (where the switch wrote)."""

    def after_switch_back(self, stack, host, report) -> None:
        """What the stack's shape adds once it serves the kept data again."""

    def test_contract_drill_restores_the_offsite_set_in_isolation(self, stack, reports):
        """The drill restores the newest set from the offsite copy into a throwaway: every table's rows
        and the schema revision equal the manifest's, and nothing of the throwaway is left."""
        done, report = run_check(stack, reports, "restore_drill", "--from-remote")
        passed(done)
        record = record_of(report)
        assert record["row_counts"] and all(row["match"] for row in record["row_counts"]), record["row_counts"]
        assert record["revision"]["restored"] == record["revision"]["manifest"], record["revision"]
        assert record["backup_source"] == "remote"
        assert throwaways_left(stack.project) == [], "the drill's throwaway server and volume are gone"

    def test_contract_the_deploys_rehearsal_ran_on_a_copy(self, stack):
        """The last deploy rehearsed its migrations and the previous release on a sealed copy of its own
        backup, found the rollback safe, and left nothing behind."""
        deployed = [e for e in ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)
                    if e.get("outcome") == "deployed" and e.get("rollback_check")]
        assert deployed, "the module deploys a release before the contract runs"
        rehearsal = deployed[-1]["rollback_check"]
        assert rehearsal["rollback"] == "safe", rehearsal
        assert set(rehearsal["seconds"]) >= {"restore", "migrate", "previous release"}, rehearsal["seconds"]
        assert "internal" in rehearsal["sealed"]["network"], rehearsal["sealed"]
        assert throwaways_left(stack.project) == [], "the rehearsal's project, volumes and containers are gone"

    def test_contract_disaster_restore_serves_the_set_and_switches_back(self, stack, host, reports):
        """A disaster restore puts the app on a copy of the newest set (a new volume, or a new database on
        the server) beside the live data, which is kept: the row written after the backup is gone from
        the copy, backups go on, and the report's one command switches back to the kept data."""
        passed(run_check(stack, reports, "backup")[0])
        before = self.written(host)
        self.write(host, AFTER_THE_BACKUP)
        done, report = run_check(stack, reports, "restore_drill", "--mode=disaster", env={"CONFIRM": "YES"})
        passed(done)
        record = record_of(report)
        assert all(row["match"] for row in record["row_counts"]), record["row_counts"]
        assert AFTER_THE_BACKUP not in self.written(host), "the copy is the set's point in time"
        assert set(before) <= set(self.written(host)), "every row of the set is served"
        self.after_disaster(stack, host, report)
        passed(run_check(stack, reports, "backup")[0])
        ctx = with_serving_tag(stack.ctx)
        assert manifest_of(ctx, max(set_names.group_files(local_files(ctx))))["row_counts"], "backups go on"
        back = SWITCH_BACK.search(report.read_text())
        assert back, "the report names the way back to the kept data"
        passed(run_check(stack, reports, back.group(1), *back.group(2).split(), env={"CONFIRM": "YES"})[0])
        assert AFTER_THE_BACKUP in self.written(host), "the data the restore replaced was kept as it was"
        self.after_switch_back(stack, host, report)
