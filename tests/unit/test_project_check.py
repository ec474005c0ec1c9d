"""Which compose project the app's containers and database volume are under, read from compose's own
labels (rows as `docker ps` / `docker volume ls --format '{{json .}}'` print them)."""

import pytest

from procedures.adopt import project_check

pytestmark = pytest.mark.unit


def container(name: str, project: str, state: str = "running") -> dict:
    return {"Names": name, "State": state,
            "Labels": f"com.docker.compose.project={project},com.docker.compose.service=db,"
                      "com.docker.compose.project.working_dir=/srv/zen-ops"}


def volume(name: str, project: str, key: str) -> dict:
    return {"Name": name, "Labels": f"com.docker.compose.project={project},com.docker.compose.version=2.40.3,"
                                    f"com.docker.compose.volume={key}"}


def test_running_containers_under_another_project_are_named_when_none_of_the_stack_s_run():
    rows = [container("zenops-db-1", "zenops"), container("zenops-api-1", "zenops"),
            container("old-db-1", "old", state="exited"), container("zen-ops-db-1", "zen-ops", state="exited")]
    assert project_check.other_projects(rows, "zen-ops") == {"zenops": ["zenops-api-1", "zenops-db-1"]}, \
        "a stopped container of the configured name does not make it the running stack; a stopped leftover is no other"


def test_a_checkout_serving_two_projects_is_no_conflict_when_the_stack_s_own_run():
    rows = [container("zenops-db-1", "zenops"), container("staging-db-1", "staging")]
    assert project_check.other_projects(rows, "zenops") == {}


def test_volumes_of_the_database_key_under_the_stack_s_names_only():
    rows = [volume("zenops_pgdata", "zenops", "pgdata"), volume("blog_pgdata", "blog", "pgdata"),
            volume("zenops_uploads", "zenops", "uploads")]
    assert project_check.volumes_of_key(rows, "pgdata", {"zen-ops", "zenops"}) == ["zenops_pgdata (project zenops)"]
    assert project_check.volumes_of_key(rows, "pgdata", {"zen-ops"}) == [], "another app's volume is not this one's"
