"""The reported case on a real stack (issue 24 item 5): the database password is a short part of the
project name (as `wger` in `app2wger`). A real backup and a real drill leave a record whose project and
set names are whole, and freshness finds that drill; the password shows nowhere as itself."""

import json
from datetime import datetime, timezone

import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.health import ages
from testkit import disposable
from testkit.ops_run import passed, run_check

pytestmark = pytest.mark.stack


@pytest.mark.fault("a short database password that is part of the project name, on a real stack")
def test_a_drill_of_a_stack_whose_short_password_is_in_its_name_is_found_by_freshness(fresh_stack, tmp_path):
    stack = fresh_stack
    password = stack.project[-6:]  # opstest-<8 hex>: its last 6 characters, inside every name of the stack
    env_file = stack.ctx.config.stack.env_file
    env_file.write_text(env_file.read_text().replace(f"POSTGRES_PASSWORD={stack.password}",
                                                     f"POSTGRES_PASSWORD={password}"))
    assert f"POSTGRES_PASSWORD={password}\n" in env_file.read_text()
    disposable.bring_up(stack)
    disposable.configure_offsite(stack)
    assert httpx.post(f"{stack.ctx.config.http.base_url}/notes", json={"body": "drill me"}).status_code == 201
    taken = backup.backup(stack.ctx)

    done, report = run_check(stack, tmp_path, "restore_drill")
    passed(done)

    record = json.loads(report.with_suffix(".json").read_text())
    assert (record["project"], record["backup_set"]) == (stack.project, taken.set_name)
    assert record["outcome"] == "passed" and record["complete"] is True
    assert record["summary"]["backup_set"]["name"] == taken.set_name
    page = report.read_text()
    assert stack.project in page and taken.set_name in page and "opstest-***" not in page
    assert f"PASSWORD={password}" not in page and f":{password}@" not in page
    newest = ages.last_passed_drill(tmp_path, stack.project, datetime.now(timezone.utc))
    assert newest.name == report.with_suffix(".json").name, newest.ignored
