"""Leftovers of an earlier engine's test runs: found by their test project and their age against the
engine's start, and the fixed container names they hold found for the seed host that needs them."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import docker

from testkit import leftovers
from testkit.disposable import TEST_PREFIX, destroy_project

IMAGE = "opsuite-local/debian:bookworm"


def _left_container(project: str, name: str):
    return docker.from_env().containers.create(IMAGE, ["true"], name=name,
                                               labels={leftovers.PROJECT_LABEL: project})


def test_the_engine_start_is_read_and_this_engines_own_projects_are_not_leftovers():
    started = leftovers.engine_started_at()
    assert started < datetime.now(timezone.utc)
    project = f"{TEST_PREFIX}left{uuid4().hex[:6]}"
    _left_container(project, f"{project}-fixed")
    try:
        assert project in leftovers.test_projects()
        assert project not in leftovers.test_projects(before=started), "made by this engine: never removed"
        # As if the engine had started after it was made: a leftover, whatever else it owns.
        assert project in leftovers.test_projects(before=datetime.now(timezone.utc) + timedelta(seconds=2))
    finally:
        destroy_project(project)


def test_a_test_projects_container_holding_a_fixed_name_is_found_and_freed():
    project = f"{TEST_PREFIX}left{uuid4().hex[:6]}"
    name = f"{project}-fixed"
    _left_container(project, name)
    try:
        assert [h["name"] for h in leftovers.holders_of([name])] == [name]
        destroy_project(project)
        assert leftovers.holders_of([name]) == [] and project not in leftovers.test_projects()
    finally:
        destroy_project(project)


def test_a_container_of_a_project_that_is_not_a_tests_is_never_a_leftover():
    project = f"operator{uuid4().hex[:6]}"
    name = f"{project}-fixed"
    container = _left_container(project, name)
    try:
        assert project not in leftovers.test_projects(before=datetime.now(timezone.utc) + timedelta(seconds=2))
        assert leftovers.holders_of([name]) == []
    finally:
        container.remove(force=True)
