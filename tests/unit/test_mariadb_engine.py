"""The mariadb engine's pure parts: the dump stream's tuple counting, the argv it builds (never a
password among them), the account read from the db service's environment, and its config checks."""

import gzip
import json
import os
from dataclasses import replace
from types import SimpleNamespace

import pytest

from procedures.commands import docker as cmd
from procedures.config import ALEMBIC_REVISION_QUERY, DatabaseConfig, OpsConfig, StackConfig
from procedures.engines import mariadb, mariadb_dump
from procedures.engines.targets import DISASTER, DRILL, TargetPlan
from procedures.errors import BackupError, CommandFailed, ConfigError, RestoreError
from procedures.runner import Completed
from procedures.load import load_config

pytestmark = pytest.mark.unit
STACK = StackConfig("shop", ())


@pytest.mark.parametrize("values, rows", [
    ("(1,'a'),(2,'b');", 2),
    ("(1,'a),(b',NULL),(2,'x');", 2),  # the tuple separator inside a string
    (r"(1,'it\'s'),(2,'\\'),(3,'\\\'),(');", 3),  # escaped quotes and backslashes
    (r"(1,'ends in a backslash \\'),(2,'(');", 2),
    ("(1,NULL,NULL),(2,0x00FF28,0x),(3,0x2729,'');", 3),  # NULLs and hex blobs (--hex-blob)
    ("(1,'new\\nline\ttab;'),(2,'\"double\" ; VALUES (1),(2);');", 2),
    ("(1,1.5e10,-3,'ünïcödé ✓');", 1),
    ("", 0),
])
def test_tuples_are_counted_outside_quoted_strings(values, rows):
    assert mariadb_dump.count_tuples(values) == rows


def feed(lines: list[str]) -> mariadb_dump.StreamCounts:
    counts = mariadb_dump.StreamCounts()
    for line in lines:
        counts.feed(line + "\n")
    return counts


DUMP_10_11_OLD = [  # one extended INSERT per line, as mariadb-dump wrote it before 10.11's later releases
    "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)",
    "CREATE TABLE `orders` (", "  `id` int(11) NOT NULL,", "  PRIMARY KEY (`id`)", ") ENGINE=InnoDB;",
    "INSERT INTO `orders` VALUES (1,'a),(b'),(2,'it\\'s');",
    "INSERT INTO `orders` VALUES (3,'x');",
    "CREATE TABLE `empty_table` (", "  `id` int(11) NOT NULL", ");",
    "CREATE TABLE `we``ird` (", ");",
    "INSERT INTO `we``ird` VALUES (1),(2),(3);",
    "/*!50001 CREATE TABLE `a_view` (", "  `id` tinyint NOT NULL", ") */;",
    "-- Dump completed on 2026-12-06 12:40:00",
]
DUMP_10_11_NEW = [  # one tuple per line, as Debian's 10.11.18 writes it
    "CREATE TABLE `orders` (", ");",
    "INSERT INTO `orders` VALUES", "(1,'a),(b'),", "(2,'it\\'s ;'),", "(3,'x');",
    "INSERT INTO `orders` VALUES", "(4,';');",
    "-- Dump completed on 2026-12-06 12:40:00",
]


def test_rows_are_counted_per_table_in_single_line_inserts():
    counts = feed(DUMP_10_11_OLD)
    assert counts.rows == {"orders": 3, "empty_table": 0, "we`ird": 3} and counts.completed


def test_rows_are_counted_in_inserts_written_one_tuple_per_line():
    counts = feed(DUMP_10_11_NEW)
    assert counts.rows == {"orders": 4} and counts.completed


def test_a_dump_without_its_completion_line_is_not_complete():
    assert not feed(DUMP_10_11_NEW[:-1]).completed


def test_verify_wants_the_whole_file_and_its_completion_line(tmp_path):
    whole = tmp_path / "whole.dump"
    whole.write_bytes(gzip.compress("\n".join(DUMP_10_11_OLD + [""]).encode()))
    assert mariadb_dump.verify(str(whole)) == {"tables": 3}
    cut = tmp_path / "cut.dump"
    cut.write_bytes(whole.read_bytes()[:-20])
    with pytest.raises(mariadb_dump.DumpFailed, match="does not decompress whole"):
        mariadb_dump.verify(str(cut))
    unfinished = tmp_path / "unfinished.dump"
    unfinished.write_bytes(gzip.compress("\n".join(DUMP_10_11_OLD[:-1]).encode()))
    with pytest.raises(mariadb_dump.DumpFailed, match="-- Dump completed"):
        mariadb_dump.verify(str(unfinished))


@pytest.mark.parametrize("text, number", [
    ("10.11.18-MariaDB-0+deb12u1", 101118),
    ("mariadb-dump  Ver 10.19 Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)", 101118),
    ("mariadb-dump from 11.4.2-MariaDB, client 10.19 for Linux (x86_64)", 110402),
    ("mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", 80036),
])
def test_versions_are_read_as_mariadbs_own_numbers(text, number):
    read = mariadb_dump.version_num if "dump" not in text else mariadb_dump.tool_version_num
    assert read(text) == number


CLIENT_ENV = {mariadb_dump.HOST_VARIABLE: "db", mariadb_dump.USER_VARIABLE: "shop",
              mariadb_dump.DATABASE_VARIABLE: "shop", "MYSQL_PWD": "s3cret-pw"}


def test_the_dump_argv_is_a_consistent_dump_of_the_one_database_without_create_database():
    assert mariadb_dump.Client(CLIENT_ENV).dump_argv() == [
        "mariadb-dump", "--host", "db", "--user", "shop", "--single-transaction", "--routines", "--triggers",
        "--events", "--hex-blob", "--no-tablespaces", "shop"]


def test_the_engine_argv_builders():
    assert mariadb.client("127.0.0.1", "root", "shop", "SELECT 1") == [
        "mariadb", "--host", "127.0.0.1", "--user", "root", "--database", "shop", "--batch", "--skip-column-names",
        "--execute", "SELECT 1"]
    assert mariadb.restore_from_gzip("/backups/a.dump", "127.0.0.1", "root", "shop") == [
        "bash", "-o", "pipefail", "-c", 'gzip -dc -- "$1" | "${@:2}"', "restore", "/backups/a.dump",
        "mariadb", "--host", "127.0.0.1", "--user", "root", "--database", "shop", "--batch"]
    assert mariadb.row_counts_sql(["a", "we`ird", "it's"]) == (
        "SELECT 'a', COUNT(*) FROM `a` UNION ALL SELECT 'we`ird', COUNT(*) FROM `we``ird` "
        "UNION ALL SELECT 'it\\'s', COUNT(*) FROM `it's`")


def test_the_password_is_in_no_argv():
    client = mariadb_dump.Client(CLIENT_ENV)
    argvs = [client.dump_argv(), client.query_argv("SELECT 1"), mariadb.client("db", "shop", "shop", "SELECT 1"),
             mariadb.restore_from_gzip("/backups/x", "127.0.0.1", "root", "shop")]
    assert not [argv for argv in argvs if any("s3cret-pw" in arg for arg in argv)]


SERVICE_ENV = {"MARIADB_ROOT_PASSWORD": "root-pw", "MARIADB_DATABASE": "shop", "MARIADB_USER": "shop",
               "MARIADB_PASSWORD": "shop-pw"}


def test_the_account_comes_from_the_official_images_variables_when_the_config_keeps_postgres_defaults():
    found = mariadb.account(OpsConfig(STACK), SERVICE_ENV)
    assert (found.user, found.password, found.database, found.root_password) == ("shop", "shop-pw", "shop", "root-pw")
    mysql = {"MYSQL_ROOT_PASSWORD": "r", "MYSQL_DATABASE": "app", "MYSQL_USER": "u", "MYSQL_PASSWORD": "p"}
    assert mariadb.account(OpsConfig(STACK), mysql) == mariadb.Account("u", "p", "app", "r")
    assert mariadb.account(OpsConfig(STACK), {"MARIADB_ROOT_PASSWORD": "r", "MARIADB_DATABASE": "app"}) == \
        mariadb.Account("root", "r", "app", "r")
    assert "shop-pw" not in repr(found) and "root-pw" not in repr(found)


def test_configured_variable_names_win():
    config = replace(OpsConfig(STACK), database=DatabaseConfig(engine="mariadb", user_variable="DB_USER",
                                                          password_variable="DB_PASS", name_variable="DB_NAME"))
    found = mariadb.account(config, {"DB_USER": "a", "DB_PASS": "b", "DB_NAME": "c", **SERVICE_ENV})
    assert (found.user, found.password, found.database) == ("a", "b", "c")


def test_an_environment_without_a_database_is_refused_naming_the_variables():
    with pytest.raises(ConfigError, match="MARIADB_DATABASE or MYSQL_DATABASE"):
        mariadb.account(OpsConfig(STACK), {"MARIADB_ROOT_PASSWORD": "r"})


def test_the_default_revision_query_becomes_alembics_on_mariadb_and_a_configured_one_is_kept():
    assert mariadb.revision_queries(DatabaseConfig(revision_query=ALEMBIC_REVISION_QUERY)) == (
        mariadb.ALEMBIC_TABLE_EXISTS_SQL, mariadb.ALEMBIC_REVISION_SQL)
    assert mariadb.revision_queries(DatabaseConfig(revision_query="SELECT max(v) FROM m;")) == (
        "", "SELECT COALESCE((SELECT max(v) FROM m), '')")
    assert mariadb.revision_queries(DatabaseConfig(revision_query="")) == ("", "")


class Answers:
    """A Queryable that answers from a table of SQL -> text."""

    def __init__(self, answers: dict[str, str]):
        self.answers, self.asked = answers, []

    def query(self, sql: str) -> str:
        self.asked.append(sql)
        return self.answers[sql]


def test_the_revision_is_empty_before_the_alembic_table_exists():
    engine = mariadb.MariadbInStack(OpsConfig(STACK))
    assert engine.schema_revision(Answers({mariadb.ALEMBIC_TABLE_EXISTS_SQL: "0\n"})) == ""
    assert engine.schema_revision(Answers({mariadb.ALEMBIC_TABLE_EXISTS_SQL: "1\n",
                                           mariadb.ALEMBIC_REVISION_SQL: "0001_init\n"})) == "0001_init"


def test_row_counts_are_exact_counts_of_every_base_table():
    engine = mariadb.MariadbInStack(OpsConfig(STACK))
    db = Answers({mariadb.BASE_TABLES_SQL: "a\nb\n", mariadb.row_counts_sql(["a", "b"]): "a\t3\nb\t0\n"})
    assert engine.row_counts(db) == {"a": 3, "b": 0}
    assert engine.row_counts(Answers({mariadb.BASE_TABLES_SQL: ""})) == {}


def write(tmp_path, body: str):
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text('[stack]\nproject = "shop"\ncompose_files = ["a.yml"]\n' + body)
    return path


@pytest.mark.parametrize("body, message", [
    ('[services]\ndatabase = ""\n[database]\nengine = "mariadb"\n', r"set \[services\] database to that service"),
    ('[volumes]\ndatabase = ""\n[database]\nengine = "mariadb"\n', r"\[volumes\] database must name"),
])
def test_a_mariadb_database_names_its_service_and_volume(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))


def test_a_mariadb_config_with_its_service_and_volume_loads(tmp_path):
    config = load_config(write(tmp_path, '[services]\ndatabase = "db"\n[volumes]\ndatabase = "shop_dbdata"\n'
                                         '[database]\nengine = "mariadb"\n'))
    assert config.database.engine == "mariadb"


def test_the_dump_script_answers_json_and_says_when_its_account_is_missing(capsys, monkeypatch):
    for name in (mariadb_dump.HOST_VARIABLE, mariadb_dump.USER_VARIABLE, mariadb_dump.DATABASE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    assert mariadb_dump.main(["server"]) == 1
    assert "OPSUITE_MARIADB_HOST is not set" in capsys.readouterr().err


class ScriptBox:
    """A backup container whose dump script answers `answer` (JSON facts) or fails with `error`."""

    def __init__(self, answer: dict | None = None, error: str = ""):
        self.answer, self.error, self.ran = answer, error, []

    def run(self, argv, **kwargs):
        self.ran.append((argv, kwargs))
        if self.error:
            raise CommandFailed(argv, 1, self.error)
        return Completed(argv, 0, json.dumps(self.answer), "", 0.1)


def server_facts(server: int, tool: int) -> dict:
    return {"server_version": "x", "server_version_num": server, "tool_version": "y", "tool_version_num": tool}


def test_the_preflight_refuses_a_dump_tool_of_an_older_series_naming_the_image_to_build():
    engine = mariadb.MariadbInStack(OpsConfig(STACK))
    with pytest.raises(BackupError, match=r"mariadb-dump 10.6 is older than the server \(10.11\).*mariadb:10.11"):
        engine.check_dump_client(ScriptBox(server_facts(101118, 100621)))
    facts = engine.check_dump_client(ScriptBox(server_facts(101118, 110402)))
    assert (facts.server_version_num, facts.client_major) == (101118, 11)


def test_the_preflight_says_the_server_is_unreachable_with_the_clients_own_line():
    box = ScriptBox(error="'SELECT VERSION()' failed: ERROR 2005 (HY000): Unknown server host 'db' (-2)")
    with pytest.raises(BackupError, match="database not reachable, nothing was written: .*Unknown server host"):
        mariadb.MariadbInStack(OpsConfig(STACK)).check_dump_client(box)
    argv, kwargs = box.ran[0]
    assert argv == ["python3", "-", "server"] and kwargs["input_text"] == mariadb.SCRIPT


def test_the_dump_hands_the_script_its_path_and_the_revision_queries_and_returns_its_facts():
    box = ScriptBox({"server_version_num": 101118, "revision": "0001", "row_counts": {"a": 2, "b": 0}})
    facts = mariadb.MariadbInStack(OpsConfig(STACK)).dump(box, "/backups/s.dump.partial")
    assert box.ran[0][0] == ["python3", "-", "dump", "/backups/s.dump.partial", mariadb.ALEMBIC_TABLE_EXISTS_SQL,
                             mariadb.ALEMBIC_REVISION_SQL]
    assert (facts.server_version_num, facts.schema_revision, facts.row_counts, facts.tables_dumped) == (
        101118, "0001", {"a": 2, "b": 0}, 2)
    with pytest.raises(BackupError, match="no backup was written under a final name: .*migration ran"):
        mariadb.MariadbInStack(OpsConfig(STACK)).dump(ScriptBox(error="the schema revision changed during the dump "
                                                                     "('1' -> '2'): a migration ran meanwhile"), "/x")


class FakeCompose:
    def rendered(self):
        return {"services": {"db": {"image": "mariadb:10.11", "environment": SERVICE_ENV,
                                    "volumes": [{"type": "volume", "source": "dbdata", "target": "/var/lib/mysql"}]}},
                "volumes": {"dbdata": {"name": "shop_dbdata", "external": True}}}


DB_CONFIG = replace(OpsConfig(STACK), services=replace(OpsConfig(STACK).services, database="db"),
                    volumes=replace(OpsConfig(STACK).volumes, database="shop_dbdata"))


class FakeBox:
    def volume_at(self, destination):
        return "shop_backups"


def test_a_restore_server_older_than_the_set_is_refused_and_removed(monkeypatch):
    ran = []
    monkeypatch.setattr(mariadb.runner, "run", lambda argv, **kwargs: ran.append((argv, kwargs)))
    monkeypatch.setattr(mariadb, "version_of_ready", lambda server, timeout: 101118)
    ctx = SimpleNamespace(config=DB_CONFIG, compose=FakeCompose())
    plan = TargetPlan(DRILL, "opsuite-restore-x", {"io.opsuite.role": "restore-test"}, lambda: "opsuite-restore-x",
                      "shop", 110402)
    with pytest.raises(RestoreError, match=r"dumped from MariaDB 11.4, but the restore server \(mariadb:10.11"):
        mariadb.MariadbInStack(DB_CONFIG).restore_target(ctx, FakeBox(), plan)
    started, removed = ran[0], ran[-1]
    assert started[0][:6] == ["docker", "run", "--detach", "--name", "opsuite-restore-x", "--network"]
    assert "none" in started[0] and "dst=/var/lib/mysql" in " ".join(started[0])
    password = started[1]["env"]["MARIADB_ROOT_PASSWORD"]
    assert password and not [arg for arg in started[0] if password in arg], "the one-time password is no argument"
    assert removed[0] == cmd.remove_container("opsuite-restore-x"), "the unusable server is removed"


def test_a_disaster_server_takes_the_stacks_own_account(monkeypatch):
    ran = []
    monkeypatch.setattr(mariadb.runner, "run", lambda argv, **kwargs: ran.append((argv, kwargs)))
    monkeypatch.setattr(mariadb, "version_of_ready", lambda server, timeout: 101118)
    ctx = SimpleNamespace(config=DB_CONFIG, compose=FakeCompose())
    plan = TargetPlan(DISASTER, "shop-restore", {}, lambda: "shop_dbdata_restored_1", "shop", 101118)
    target = mariadb.MariadbInStack(DB_CONFIG).restore_target(ctx, FakeBox(), plan)
    env = ran[0][1]["env"]
    assert {k: env[k] for k in ("MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE", "MARIADB_ROOT_PASSWORD")} == {
        "MARIADB_USER": "shop", "MARIADB_PASSWORD": "shop-pw", "MARIADB_DATABASE": "shop",
        "MARIADB_ROOT_PASSWORD": "root-pw"}
    assert env["MYSQL_USER"] == "shop"
    assert (target.volume, target.stop_seconds, target.rehearsal.start_first) == ("shop_dbdata_restored_1", 60, ("db",))


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """`mariadb` and `mariadb-dump` stand-ins on PATH: the client answers REVISIONS one per call (a file
    pops its first line), the dump prints DUMP_10_11_NEW and exits DUMP_EXIT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    revisions = tmp_path / "revisions"
    (bin_dir / "mariadb").write_text(
        "#!/bin/sh\ncase \"$*\" in *VERSION*) echo 10.11.18-MariaDB; exit 0;; *COUNT*) echo 1; exit 0;; esac\n"
        f"head -n1 {revisions}; sed -i 1d {revisions}\n")
    (bin_dir / "mariadb-dump").write_text(
        "#!/bin/sh\ncase \"$1\" in --version) echo 'mariadb-dump  Ver 10.19 Distrib 10.11.18-MariaDB'; exit 0;; esac\n"
        f"cat {tmp_path / 'dump.sql'}\necho 'mariadb-dump: Got error: 2013: Lost connection' >&2\nexit ${{DUMP_EXIT:-0}}\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    (tmp_path / "dump.sql").write_text("\n".join(DUMP_10_11_NEW) + "\n")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    for name, value in CLIENT_ENV.items():
        monkeypatch.setenv(name, value)
    return revisions


def test_the_script_dumps_counts_and_compresses(fake_tools, tmp_path):
    fake_tools.write_text("0001\n0001\n")
    out = tmp_path / "set.dump.partial"
    found = mariadb_dump.dump(mariadb_dump.Client(CLIENT_ENV), str(out), "SELECT COUNT(*)", "SELECT v")
    assert found == {"server_version_num": 101118, "revision": "0001", "row_counts": {"orders": 4}}
    assert gzip.decompress(out.read_bytes()).decode().splitlines() == DUMP_10_11_NEW


@pytest.mark.parametrize("revisions, exit_code, said", [
    ("0001\n0002\n", "0", "the schema revision changed during the dump ('0001' -> '0002')"),
    ("0001\n0001\n", "2", "mariadb-dump failed (exit 2): mariadb-dump: Got error: 2013: Lost connection"),
])
def test_a_failed_dump_leaves_nothing_under_its_path(fake_tools, tmp_path, monkeypatch, revisions, exit_code, said):
    fake_tools.write_text(revisions)
    monkeypatch.setenv("DUMP_EXIT", exit_code)
    out = tmp_path / "set.dump.partial"
    with pytest.raises(mariadb_dump.DumpFailed) as failed:
        mariadb_dump.dump(mariadb_dump.Client(CLIENT_ENV), str(out), "SELECT COUNT(*)", "SELECT v")
    assert said in str(failed.value) and not out.exists()
