"""Leftovers of an earlier, interrupted test run: found by their test project, and the fixed
container names they hold found for the seed host that needs those names."""

from uuid import uuid4

import docker

from testkit import leftovers
from testkit.disposable import TEST_PREFIX, destroy_project

IMAGE = "opsuite-local/debian:bookworm"


def _left_container(project: str, name: str):
    return docker.from_env().containers.create(IMAGE, ["true"], name=name,
                                               labels={leftovers.PROJECT_LABEL: project})


def test_a_stopped_test_projects_container_is_found_and_its_fixed_name_is_freed():
    project = f"{TEST_PREFIX}left{uuid4().hex[:6]}"
    name = f"{project}-fixed"
    _left_container(project, name)
    try:
        assert project in leftovers.test_projects()
        assert [c.name for c in leftovers.holders_of([name])] == [name]
        destroy_project(project)
        assert leftovers.holders_of([name]) == [] and project not in leftovers.test_projects()
    finally:
        destroy_project(project)


def test_a_container_of_a_project_that_is_not_a_tests_is_never_a_leftover():
    project = f"operator{uuid4().hex[:6]}"
    name = f"{project}-fixed"
    container = _left_container(project, name)
    try:
        assert project not in leftovers.test_projects()
        assert leftovers.holders_of([name]) == []
    finally:
        container.remove(force=True)
