"""Discovery proposes a backup image whose pg_dump is not older than the database's Postgres: the
default dumps 15, and healthchecks runs postgres:16, so every adoption failed at its first backup."""

from types import SimpleNamespace

import pytest

from procedures.adopt.proposal import _backup_lines

pytestmark = pytest.mark.unit


def _roles(image_service="db"):
    return SimpleNamespace(app=["web"], database=image_service, engine="postgres")


def _model(image: str) -> dict:
    return {"services": {"db": {"image": image}, "web": {"build": {"context": ".."}}}}


def test_a_newer_postgres_major_gets_a_backup_image_of_its_major():
    lines = _backup_lines(_model("postgres:16"), _roles())
    image = next(line for line in lines if line.startswith("image = "))
    assert image.startswith('image = "opsuite-backup:pg16"   # GUESS:')
    assert "--build-arg POSTGRES_IMAGE=postgres:16" in image and "backup-image/" in image
    assert lines[:2] == ["", "[backup]"]


@pytest.mark.parametrize("image", ["postgres:15", "postgres:15.6-alpine", "postgres", "mariadb:11"])
def test_the_default_major_or_an_unknown_one_proposes_nothing(image):
    assert not any(line.startswith("image = ") for line in _backup_lines(_model(image), _roles()))


def test_alpine_and_minor_versions_read_their_major():
    lines = _backup_lines(_model("docker.io/library/postgres:17.2-alpine"), _roles())
    assert any(line.startswith('image = "opsuite-backup:pg17"') for line in lines)


def test_mariadb_gets_a_backup_image_of_its_own_server_image():
    roles = SimpleNamespace(app=["web"], database="db", engine="mariadb")
    image = next(line for line in _backup_lines(_model("mariadb:10.11"), roles) if line.startswith("image = "))
    assert image.startswith('image = "opsuite-backup:mariadb10.11"   # GUESS:')
    assert "docker build --build-arg SERVER_IMAGE=mariadb:10.11 -t opsuite-backup:mariadb10.11 backup-image/" in image


def test_mysql_gets_a_backup_image_of_mariadbs_tools():
    """mysql images have no apt to add the backup's tools to; MariaDB's client reads MySQL."""
    roles = SimpleNamespace(app=["web"], database="db", engine="mariadb")
    image = next(line for line in _backup_lines(_model("mysql:8.4"), roles) if line.startswith("image = "))
    assert image.startswith('image = "opsuite-backup:mariadb"   # GUESS:')
    assert "(mysql:8.4, MySQL: built on MariaDB's image" in image and "SERVER_IMAGE=mariadb:lts" in image
