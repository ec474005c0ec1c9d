"""Stack health on a real host: a database published on every interface turns it red, naming the service."""

import dataclasses

import pytest

from procedures.context import prepared_context
from procedures.errors import OpsError
from procedures.release import install
from procedures.stack.checkup import CheckupRun, internal_services_not_public
from testkit.disposable import free_port

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def test_database_published_beyond_loopback_is_red(fresh_stack, tmp_path):
    port = free_port()
    override = tmp_path / "publish-db.yml"
    override.write_text(f'services:\n  db:\n    ports: ["0.0.0.0:{port}:5432"]\n')
    config = fresh_stack.ctx.config
    stack = dataclasses.replace(config.stack, compose_files=(*config.stack.compose_files, override))
    ctx = prepared_context(dataclasses.replace(config, stack=stack), fresh_stack.ctx.tag)
    install.ensure_database_volume(ctx)
    install.start_database(ctx)

    with pytest.raises(OpsError, match=rf"internal service\(s\) db published beyond loopback.*{port}"):
        internal_services_not_public(CheckupRun(ctx))

    loopback_only = tmp_path / "publish-db-loopback.yml"
    loopback_only.write_text(f'services:\n  db:\n    ports: !override ["127.0.0.1:{port}:5432"]\n')
    stack = dataclasses.replace(stack, compose_files=(*stack.compose_files, loopback_only))
    ctx = prepared_context(dataclasses.replace(config, stack=stack), fresh_stack.ctx.tag)
    ctx.compose.up([config.services.database], no_deps=True)
    found = internal_services_not_public(CheckupRun(ctx))
    assert found["listening on those ports"] == [f"tcp://127.0.0.1:{port}"]
