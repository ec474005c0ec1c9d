"""The lines adopt (and each release change) sets in the app's `.env`, so that plain `docker compose`
in the app's directory renders the suite's files; the real `down -v` is in tests/stack/test_adopt_plain_compose.py."""

import os
from pathlib import Path

import pytest

from procedures import file_edit, plain_compose
from procedures.config import StackConfig
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit


def stack(tmp_path: Path, overlay: bool = True) -> StackConfig:
    app = tmp_path / "docker-compose.yml"
    over = tmp_path / "docker-compose.opsuite.yml"
    return StackConfig("shop", (app, over) if overlay else (app,), overlay=over if overlay else None)


def test_settings_list_every_compose_file_with_composes_separator(tmp_path):
    assert plain_compose.plain_settings(stack(tmp_path), "1.4.2") == {
        "COMPOSE_PROJECT_NAME": "shop",
        "COMPOSE_FILE": f"{tmp_path}/docker-compose.yml:{tmp_path}/docker-compose.opsuite.yml",
        "TAG": "1.4.2"}


def test_a_path_holding_the_separator_is_refused(tmp_path):
    odd = tmp_path / "a:b"
    with pytest.raises(ConfigError, match="COMPOSE_FILE"):
        plain_compose.plain_settings(stack(odd), "1.0.0")


def test_existing_lines_are_replaced_in_place_and_later_duplicates_dropped():
    text = "A=1\nTAG=0.9\n# note\nexport COMPOSE_FILE=x.yml\nB=2\nTAG=0.8\n"
    out = plain_compose.with_settings(text, {"COMPOSE_PROJECT_NAME": "shop", "COMPOSE_FILE": "/a:/b", "TAG": "1.0"})
    assert out == ("A=1\nTAG=1.0\n# note\nCOMPOSE_FILE=/a:/b\nB=2\n\n"
                   f"{plain_compose.HEADER}\nCOMPOSE_PROJECT_NAME=shop\n")


def test_a_second_pin_changes_only_the_tag():
    once = plain_compose.with_settings("A=1\n", {"COMPOSE_FILE": "/a", "TAG": "1.0"})
    twice = plain_compose.with_settings(once, {"COMPOSE_FILE": "/a", "TAG": "1.1"})
    assert twice == once.replace("TAG=1.0", "TAG=1.1") and twice.count(plain_compose.HEADER) == 1


def test_pin_keeps_the_old_file_and_its_mode_and_writes_nothing_when_unchanged(tmp_path):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x\n")
    os.chmod(env, 0o640)
    done = plain_compose.pin(stack(tmp_path), "1.0.0")
    assert done["changed"] and Path(done["kept as"]).read_text() == "POSTGRES_PASSWORD=x\n"
    assert "TAG=1.0.0\n" in env.read_text() and env.stat().st_mode & 0o777 == 0o640
    assert not (tmp_path / ".env.partial").exists()
    assert plain_compose.pin(stack(tmp_path), "1.0.0") == {"env file": str(env), "changed": False}


def test_a_link_planted_at_the_partial_name_is_not_followed(tmp_path):
    (tmp_path / ".env").write_text("A=1\n")
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    (tmp_path / ".env.partial").symlink_to(victim)
    plain_compose.pin(stack(tmp_path), "1.0.0")
    assert victim.read_text() == "untouched\n" and "TAG=1.0.0" in (tmp_path / ".env").read_text()


def test_no_overlay_no_pin(tmp_path):
    assert plain_compose.pin(stack(tmp_path, overlay=False), "1.0.0") is None
    assert not (tmp_path / ".env").exists()


def test_a_link_planted_at_the_kept_copys_name_is_not_followed(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("A=1\n")
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    monkeypatch.setattr(file_edit, "datetime", type("Fixed", (), {
        "now": staticmethod(lambda tz: __import__("datetime").datetime(2026, 1, 1, tzinfo=tz))}))
    planted = tmp_path / ".env.20260101T000000Z.before-opsuite"
    planted.symlink_to(victim)
    done = plain_compose.pin(stack(tmp_path), "1.0.0")
    assert victim.read_text() == "untouched\n" and planted.is_symlink()
    assert done["kept as"] == str(tmp_path / ".env.20260101T000000Z-1.before-opsuite")
    assert Path(done["kept as"]).read_text() == "A=1\n"
