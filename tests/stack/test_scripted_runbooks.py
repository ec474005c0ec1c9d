"""The procedures run whole, as a script or the bench does: the same steps the ops checks assert,
with the compose model rendered once per TAG and the backups directory listed once per backup."""

import logging

import httpx
import pytest

from procedures.compose import forget_rendered_models
from procedures.release import deploy, rollback
from procedures.restore import drill
from procedures.stack import checkup
from procedures.stack import serving

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def commands_run(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ops.runner" and r.getMessage().startswith("run: ")]


def test_scripted_deploy_renders_once_per_tag_then_rollback_and_drill(backup_stack, caplog):
    ctx = backup_stack.ctx
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": "scripted"}).status_code == 201
    forget_rendered_models()
    caplog.set_level(logging.INFO, logger="ops.runner")

    run = deploy.deploy(ctx, "1.1.0")

    assert run.entry["outcome"] == "deployed" and serving.running_tag(ctx) == "1.1.0"
    commands = commands_run(caplog)
    renders = [c for c in commands if c.endswith("config --format json")]
    # The rollback check's rehearsal is a compose project of its own (its bare model, then with its
    # sealed overlay): its renders are its own.
    live = [c for c in renders if f"--project-name {ctx.config.stack.project} " in c]
    every_profile = [c for c in live if "--profile * config" in c]
    assert len(live) - len(every_profile) == 2, "one render for the serving TAG (backup) and one for the new TAG"
    assert len(every_profile) == 1, "the data volumes are read once, from the model with every profile"
    listings = [c for c in commands if f"find {ctx.config.backup.directory} -maxdepth 1" in c]
    assert len(listings) == 2, ("the backups directory is listed at preflight and once more as proof after pruning; "
                                "the upload's and remote pruning's size checks use the sizes the run carries")
    hashed = [c for c in commands if "sha256sum" in c and run.backup.dump_path.rsplit(".", 1)[0] in c]
    assert len(hashed) == 2, ("the dump and the uploads file list are each hashed once, as written (the uploads "
                              "store hashes each object while it copies it, in the same pass)")

    back = rollback.rollback(ctx)
    assert back.entry["outcome"] == "deployed" and serving.running_tag(ctx) == "1.0.0"
    assert checkup.checkup(ctx.with_tag("1.0.0")).ctx.tag == "1.0.0"

    restored = drill.restore(ctx)
    assert restored.record["backup_set"] == run.backup.set_name
    assert all(row["match"] for row in restored.record["row_counts"])
    assert restored.record["rto_seconds"] > 0
