"""Answers read from a rendered compose model: the database volume whatever its compose key."""

from types import SimpleNamespace

import pytest

from procedures.compose_model import (database_mount, one_off_dependencies, require_active,
                                      require_external_database_volume)
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit
CONFIG = SimpleNamespace(volumes=SimpleNamespace(database="zenops_postgres_data"),
                         services=SimpleNamespace(database="postgres"))


def model(volume: dict) -> dict:
    return {"volumes": {"postgres_data": volume, "uploads": {"name": "zenops_uploads"}},
            "services": {"postgres": {"volumes": [{"source": "postgres_data", "target": "/var/lib/postgresql/data"}]}}}


def test_the_database_volume_is_found_by_its_name_under_any_compose_key():
    rendered = model({"name": "zenops_postgres_data", "external": True})
    assert require_external_database_volume(rendered, CONFIG)[0] == "postgres_data"
    assert database_mount(rendered, CONFIG) == ("postgres_data", "/var/lib/postgresql/data")


def test_a_compose_owned_database_volume_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match="not external: compose could create an empty one or remove it"):
        require_external_database_volume(model({"name": "zenops_postgres_data"}), CONFIG)


def test_a_model_without_the_named_volume_lists_what_it_has():
    with pytest.raises(ConfigError, match="no volume .* named 'zenops_postgres_data'.*'uploads': 'zenops_uploads'"):
        require_external_database_volume(model({"name": "other"}), CONFIG)


def test_one_off_dependencies_run_in_dependency_order_without_migrate():
    rendered = {"services": {
        "api": {"depends_on": {"migrate": {"condition": "service_completed_successfully"},
                               "uploads-perms": {"condition": "service_completed_successfully"},
                               "db": {"condition": "service_healthy"}}},
        "email-worker": {"depends_on": {"migrate": {"condition": "service_completed_successfully"}}},
        "migrate": {"depends_on": {"db": {"condition": "service_healthy"}}},
        "uploads-perms": {"depends_on": {"dirs": {"condition": "service_completed_successfully"}}},
        "dirs": {}, "db": {},
    }}
    assert one_off_dependencies(rendered, ["api", "email-worker"], exclude=("migrate",)) == ["dirs", "uploads-perms"]
    assert one_off_dependencies(rendered, ["email-worker"]) == ["migrate"]
    assert one_off_dependencies(rendered, ["db"]) == []


def test_one_offs_in_a_circle_are_refused():
    completed = {"condition": "service_completed_successfully"}
    rendered = {"services": {"api": {"depends_on": {"a": completed}}, "a": {"depends_on": {"b": completed}},
                             "b": {"depends_on": {"a": completed}}}}
    with pytest.raises(ConfigError, match="circle: api -> a -> b -> a"):
        one_off_dependencies(rendered, ["api"])


def test_a_serving_service_only_in_a_profile_that_is_off_is_refused_naming_it():
    """`up watchdog` would start it, though a plain `docker compose up` never does."""
    every = {"services": {"api": {}, "watchdog": {"profiles": ["observability"]}}}
    require_active({"services": {"api": {}, "watchdog": {}}}, every, ["api", "watchdog"])
    with pytest.raises(ConfigError, match=r"watchdog \(profiles observability\).*COMPOSE_PROFILES"):
        require_active({"services": {"api": {}}}, every, ["api", "watchdog"])
