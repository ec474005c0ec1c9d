"""Discovery refuses what it cannot read, saying why and what to set; real compose renders the files."""

import pytest

from procedures.adopt import discover
from procedures.errors import ConfigError

pytestmark = pytest.mark.compose


def compose_file(tmp_path, body: str):
    path = tmp_path / "docker-compose.yml"
    path.write_text(body)
    return str(path)


def test_a_file_that_does_not_render_gives_compose_own_error(tmp_path):
    path = compose_file(tmp_path, "services:\n  api:\n    image: x\n    depends_on: [nowhere]\n")
    with pytest.raises(ConfigError, match=r"(?s)do not render; compose says:.*nowhere.*Fix the file"):
        discover.discover([path])


def test_missing_files_and_no_files_name_the_option(tmp_path):
    with pytest.raises(ConfigError, match="--compose-file="):
        discover.discover([])
    with pytest.raises(ConfigError, match="not found: .*absent.yml"):
        discover.discover([str(tmp_path / "absent.yml")])


def test_no_database_says_what_was_looked_for_and_the_key(tmp_path):
    path = compose_file(tmp_path, "services:\n  api:\n    image: ghcr.io/x/api:1.0\n")
    with pytest.raises(ConfigError, match=r"no database service found: looked for .*\[services\] database"):
        discover.discover([path])


def test_two_database_candidates_are_listed_with_the_key(tmp_path):
    db = "    image: postgres:15\n    volumes:\n      - {0}:/var/lib/postgresql/data\n"
    path = compose_file(tmp_path, "services:\n  db:\n" + db.format("data_a") + "  replica:\n" + db.format("data_b")
                        + "  api:\n    image: ghcr.io/x/api:1.0\nvolumes:\n  data_a: {}\n  data_b: {}\n")
    with pytest.raises(ConfigError, match=r"several services could be the database: db, replica; .*\[services\] database"):
        discover.discover([path])
