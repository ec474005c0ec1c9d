"""A stopped and restarted stack keeps the same database volume and its rows."""

import pytest

import httpx

from procedures.release import install
from procedures.stack import volumes

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def test_down_and_reinstall_keep_volume_identity_and_data(fresh_stack):
    ctx = fresh_stack.ctx
    first = install.ensure_database_volume(ctx)
    assert first.created
    install.start_database(ctx)
    assert install.migrate_new_database(ctx, first).ran
    install.start_app(ctx)
    install.check_ready(ctx)
    base = ctx.config.http.base_url
    assert httpx.post(f"{base}/notes", json={"body": "sentinel before restart"}).status_code == 201
    cluster = ctx.engine.data_identity(ctx.database)

    ctx.compose.down()

    again = install.ensure_database_volume(ctx)
    assert not again.created and again.facts.identity == first.facts.identity
    install.start_database(ctx)
    step = install.migrate_new_database(ctx, again)
    assert not step.ran and "deploy" in step.reason
    install.start_app(ctx)
    install.check_ready(ctx)
    bodies = [note["body"] for note in httpx.get(f"{base}/notes").json()]
    assert "sentinel before restart" in bodies
    assert volumes.require_database_volume(ctx.config.volumes.database).identity == first.facts.identity
    assert ctx.engine.data_identity(ctx.database) == cluster
