"""An OpsContext is a plain value; `prepare` alone sets the limits, writes the overlay and registers the
names; the plugin refuses an invalid --tag before it prepares anything."""

from types import SimpleNamespace

import pytest

from procedures import context, redact, runner
from procedures.config import TimeoutsConfig
from procedures.load import load_config
from procedures.context import OpsContext, prepare, prepared_context
from procedures.errors import ConfigError
from runbook_plugin import options

pytestmark = pytest.mark.unit

CONFIG = ('[stack]\nproject = "zen-prepared"\ncompose_files = ["a.yml"]\noverlay = "generated.yml"\n'
          '[timeouts]\ncommand_seconds = 30\n')


@pytest.fixture
def config(tmp_path):
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text(CONFIG)
    return load_config(tmp_path / "ops.toml")


@pytest.fixture
def overlays_written(monkeypatch):
    """The overlays prepare writes, as (project, tag) (the real write renders through compose); the
    limits and the registered names put back after the test."""
    written = []
    monkeypatch.setattr(context, "write_overlay", lambda config, engine, tag: written.append((config.stack.project, tag)))
    with redact._lock:
        saved = set(redact._identifiers)
        redact._identifiers.clear()
    yield written
    runner.use_timeouts(TimeoutsConfig())
    with redact._lock:
        redact._identifiers.clear(), redact._identifiers.update(saved)


def test_making_a_context_changes_nothing(config, overlays_written):
    ctx = OpsContext(config, "1.0.0")
    assert (ctx.config, ctx.tag) == (config, "1.0.0")
    assert overlays_written == [] and not config.stack.overlay.exists()
    assert runner.limit_of("command") == runner.Limit(TimeoutsConfig().command_seconds, "command_seconds")
    assert "zen-prepared" not in redact._identifiers


def test_prepare_sets_the_limits_writes_the_overlay_and_registers_the_names(config, overlays_written):
    ctx = OpsContext(config, "1.0.0")
    assert prepare(ctx) is ctx
    assert overlays_written == [("zen-prepared", "1.0.0")]
    assert runner.limit_of("command") == runner.Limit(30, "command_seconds")
    assert {"zen-prepared", "1.0.0"} <= redact._identifiers


def test_a_context_at_another_tag_is_prepared_for_that_tag(config, overlays_written):
    ctx = prepared_context(config, "1.0.0").with_tag("1.1.0")
    assert ctx.tag == "1.1.0"
    assert overlays_written == [("zen-prepared", "1.0.0"), ("zen-prepared", "1.1.0")]


def _pytest_config(tag):
    return SimpleNamespace(stash=pytest.Stash(), getoption={"tag": tag}.get)


@pytest.mark.parametrize("tag, message", [("latest", "moving tag"), ("1.0/x", "not a valid image tag"),
                                          ("", "no TAG given")])
def test_an_invalid_tag_option_is_refused_before_anything_is_prepared(config, overlays_written, monkeypatch,
                                                                      tag, message):
    monkeypatch.setattr(options, "_load", lambda pytest_config: config)
    monkeypatch.setattr(context, "use_timeouts", lambda timeouts: pytest.fail("limits set for an invalid --tag"))
    pytest_config = _pytest_config(tag)
    for _ in range(2):  # refused each time asked, from the one reading
        with pytest.raises(ConfigError, match=message):
            options.ops_context(pytest_config)
    assert overlays_written == [] and "zen-prepared" not in redact._identifiers


@pytest.mark.parametrize("tag", [None, "1.1.0"])
def test_a_valid_or_missing_tag_option_gives_a_prepared_context(config, overlays_written, monkeypatch, tag):
    monkeypatch.setattr(options, "_load", lambda pytest_config: config)
    ctx = options.ops_context(_pytest_config(tag))
    assert (ctx.config, ctx.tag) == (config, tag)
    assert overlays_written == [("zen-prepared", tag)]
