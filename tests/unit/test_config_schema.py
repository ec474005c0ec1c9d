"""The typed config: every key's type and range checked at load, unknown keys named with the nearest valid one,
every problem of a file in one message, the generated reference in docs/CONFIG.md, and --plan checking both."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from procedures import config_reference
from procedures.errors import ConfigError
from procedures.load import load_config

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
STACK = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'


def refusal(tmp_path, body: str) -> str:
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text(body)
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "ops.toml")
    message = str(refused.value)
    assert message.startswith(str(tmp_path / "ops.toml")), "the file is named first"
    return message.removeprefix(f"{tmp_path / 'ops.toml'}: ")


def test_the_issues_wrong_types_are_named_together_with_the_fix(tmp_path):
    """The four of issue 27, which loaded silently or crashed: one message, each key with what it takes."""
    message = refusal(tmp_path, STACK + '[services]\napp = "api"\n[backup]\nlocal_keep_days = "fourteen"\n'
                                        'daily = "two"\n[restore]\njobs = "2"\n')
    assert message.splitlines() == [
        f"{tmp_path / 'ops.toml'} has 4 problems; fix them all, then run again:",
        '  - [services] app = "api": expected a list, each a string in quotes; e.g. app = ["api", "email-worker"] '
        "(the default)",
        '  - [backup] local_keep_days = "fourteen": expected a whole number from 14 to 30; e.g. local_keep_days = 14 '
        "(the default)",
        '  - [backup] daily = "two": expected a whole number, 0 or more; e.g. daily = 2 (the default)',
        '  - [restore] jobs = "2": expected a whole number, 1 or more; e.g. jobs = 2 (the default)',
    ]


def test_a_misspelt_key_gets_the_nearest_valid_one_and_no_missing_key_besides(tmp_path):
    message = refusal(tmp_path, '[stack]\nproject = "zen"\ncompose_file = ["a.yml"]\n')
    assert message == "[stack] compose_file is not a setting of [stack]: did you mean compose_files? rename it"


@pytest.mark.parametrize("body, message", [
    ("[backups]\n", "[backups] is not a section of the config: did you mean backup? rename it"),
    ("[offsite]\nkeepdays = 3\n", "[offsite] keepdays is not a setting of [offsite]: did you mean keep_days? rename it"),
    ('[deploy.rehearsal]\nenviron = { A = "1" }\n',
     "[deploy.rehearsal] environ is not a setting of [deploy.rehearsal]: did you mean environment? rename it"),
    ('[[deploy.smoke]]\npath = "/a"\n[[deploy.smoke]]\npath = "/b"\nstatu = 200\n',
     "[[deploy.smoke]] #2 statu is not a setting of [[deploy.smoke]] #2: did you mean status? rename it"),
    ("[timeouts]\nfrobnicate = 1\n", "[timeouts] frobnicate is not a setting of [timeouts]: remove it; the known ones "
                                      "are command_seconds, dump_seconds, restore_seconds"),
    ('source = "elsewhere.toml"\n' + STACK, "source is not a section of the config"),
])
def test_unknown_keys_are_named_at_every_level(tmp_path, body, message):
    assert refusal(tmp_path, body if body.startswith("source") else STACK + body).startswith(message)


@pytest.mark.parametrize("body, message", [
    ("[backup]\nlocal_keep_days = 31\n",
     "[backup] local_keep_days = 31: expected a whole number from 14 to 30; e.g. local_keep_days = 14 (the default)"),
    ("[backup]\nfree_space_factor = -1\n", "[backup] free_space_factor = -1: expected a number, 0 or more"),
    ("[http]\nready_timeout_seconds = 0\n", "[http] ready_timeout_seconds = 0: expected a number above 0"),
    ("[restore]\nsample_queries = [\"SELECT 1\", 2]\n",
     "[restore] sample_queries[1] = 2: expected a string in quotes; see docs/CONFIG.md"),
    ("[build]\nrepository = \".\"\nkeep_releases = true\n",
     "[build] keep_releases = true: expected a whole number, 2 or more; e.g. keep_releases = 3 (the default)"),
    ("[offsite]\nenabled = \"yes\"\n",
     '[offsite] enabled = "yes": expected true or false (without quotes); e.g. enabled = true (the default)'),
    ("[deploy]\napp_commands = { api = [] }\n",
     "[deploy] app_commands.api = []: expected a list, at least one, each a string in quotes"),
    ("[services]\nbackup = \"backup\"\n", "[services] backup = \"backup\": expected a service name with the reserved "
                                           "prefix 'opsuite-'"),
    ("backup = 3\n", "[backup] = 3: expected a table of settings"),
])
def test_a_wrong_type_or_range_names_the_key_what_was_found_and_what_is_expected(tmp_path, body, message):
    # backup = 3 must come before [stack] to be a top-level key
    text = body + STACK if body.startswith("backup =") else STACK + body
    assert refusal(tmp_path, text).startswith(message)


@pytest.mark.parametrize("body, message", [
    ('[services]\napp = ["api"]\n', "[stack] is missing: add the table with project and compose_files"),
    ('[stack]\ncompose_files = ["a.yml"]\n', '[stack] project is missing: it takes a compose project name'),
    (STACK + "[[deploy.smoke]]\nstatus = 200\n", '[[deploy.smoke]] #1 path is missing: it takes a path starting '
                                                 "with '/', in quotes; add it, e.g. path = \"/healthz\""),
    (STACK + "[build]\nkeep_releases = 3\n", '[build] repository is missing'),
])
def test_a_missing_required_key_is_named(tmp_path, body, message):
    assert refusal(tmp_path, body).startswith(message)


def test_type_problems_and_unknown_keys_are_reported_in_one_message(tmp_path):
    message = refusal(tmp_path, STACK + '[backup]\nlocal_keep_days = 7\nweekley = 1\n[http]\nbase_url = "localhost"\n'
                                        '[extra]\n')
    assert message.startswith(f"{tmp_path / 'ops.toml'} has 4 problems; fix them all, then run again:\n")
    for part in ("[backup] local_keep_days = 7: expected", "[backup] weekley is not a setting of [backup]: did you "
                 "mean weekly?", '[http] base_url = "localhost": expected a URL starting with http://',
                 "[extra] is not a section of the config"):
        assert part in message


def test_what_no_type_can_say_is_also_reported_together(tmp_path):
    message = refusal(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml", "gone.yml"]\nenv_file = "x.env"\n'
                                '[volumes]\ndatabase = "opsuite-restore-db"\n')
    assert "has 3 problems" in message and "gone.yml does not exist" in message and "x.env does not exist" in message
    assert "reserved for restore-drill volumes" in message


def test_every_value_keeps_its_type_after_the_load(tmp_path):
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text(STACK + '[http]\nready_timeout_seconds = 30\n[[deploy.smoke]]\npath = "/a"\n'
                                       'method = "head"\nheaders = { X-B = "B", A = "A_VAR" }\n')
    config = load_config(tmp_path / "ops.toml")
    assert config.http.ready_timeout_seconds == 30.0 and isinstance(config.http.ready_timeout_seconds, float)
    assert config.deploy.smoke[0].method == "HEAD"
    assert config.deploy.smoke[0].headers == (("A", "A_VAR"), ("X-B", "B"))
    assert config.source == tmp_path / "ops.toml" and config.stack.compose_files == (tmp_path / "a.yml",)


def test_the_repositorys_config_loads():
    (ROOT / "example" / ".env").exists() or pytest.fail("run scripts/bootstrap.sh first: example/.env missing")
    assert load_config(ROOT / "ops.toml").stack.project == "zenops-example"


def test_the_doc_lists_every_key_as_the_schema_says():
    """docs/CONFIG.md's tables are generated from the schema: regenerate with `python -m procedures.config_reference`."""
    doc = config_reference.DOC.read_text()
    assert config_reference.reference() in doc, "docs/CONFIG.md is out of date: python -m procedures.config_reference"
    assert "| `local_keep_days` | a whole number from 14 to 30 | `14` |" in doc
    assert "docs/CONFIG.md" in (ROOT / "README.md").read_text()


def _plan(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "ops_checks/deploy.py", "-p", "no:cacheprovider", "--plan",
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OPSUITE_CONFIG": ""})


def test_plan_refuses_a_wrong_config_or_tag_with_the_loaders_message(tmp_path):
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text(STACK + '[backup]\nlocal_keep_days = "fourteen"\n')
    wrong_config = _plan(tmp_path, f"--ops-config={tmp_path / 'ops.toml'}")
    assert wrong_config.returncode == 4, wrong_config.stdout + wrong_config.stderr
    assert refusal(tmp_path, (tmp_path / "ops.toml").read_text()) in wrong_config.stderr
    wrong_tag = _plan(tmp_path, "--tag=latest")
    assert wrong_tag.returncode == 4 and "TAG 'latest' is a moving tag" in wrong_tag.stderr
    fine = _plan(tmp_path, "--tag=1.2.0")
    assert fine.returncode == 0 and "step 1." in fine.stdout
