"""The `opsuite` command (issue 27 items 1-2): each subcommand runs the same ops check through pytest;
a wrong command line, config or TAG exits 2 with one paragraph first on stderr and no traceback,
before any step; a failed step exits 1; an internal error exits 3 and says where to report it.

The checks run for real (python -m opsuite, so the checkout's pytest.ini and conftest.py) on a config of
a stack that does not run: every refusal here happens before the first step. Their HTML reports go to
--html=<tmp> so the repository's reports/ and history stay untouched."""

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from opsuite import checks, cli, where
from procedures.errors import UsageError
from procedures.release.deploy import DEPLOY
from testkit.minimal_config import minimal_config

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
CONFIG = minimal_config("cli-test", Path("__DIR__"))


def opsuite(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command as an operator types it (python -m opsuite is the console script's main)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("OPSUITE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "opsuite", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def config(tmp_path: Path, body: str = CONFIG) -> Path:
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(body.replace("__DIR__", str(tmp_path)))
    return path


def assert_refused(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, the reason as the first line on stderr, no traceback anywhere, no step run."""
    __tracebackhide__ = True
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    first = done.stderr.lstrip().splitlines()[0]
    assert first.startswith("opsuite: ") and all(w in first for w in words), done.stderr
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert " passed" not in done.stdout and " failed" not in done.stdout, done.stdout


def test_a_misspelt_config_key_exits_2_with_the_key_first_and_no_traceback(tmp_path):
    bad = config(tmp_path, CONFIG.replace("compose_files", "compose_file"))
    done = opsuite("health", "--ops-config", "ops.toml", f"--html={tmp_path}/r.html", cwd=tmp_path)
    assert_refused(done, str(bad), "compose_file")  # --ops-config is relative to where opsuite runs
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["outcome"] == "failed" and record["steps_run"] == 0
    assert any("refused before the first step" in issue and "compose_file" in issue for issue in record["issues_found"])
    summary = record["summary"]
    assert summary["outcome_text"].startswith("stack_health check refused before its first step: ")
    assert "compose_file" in summary["failure"]["error"] and "INCOMPLETE" not in json.dumps(summary)
    assert "refused before its first step" in (tmp_path / "r.html").read_text()  # the report's header says so


@pytest.mark.parametrize("args, words", [
    ((), ("deploy needs a TAG", "--tag=VERSION")),
    (("--tag", "latest"), ("'latest' is a moving tag",)),
])
def test_a_deploy_without_an_explicit_tag_exits_2_before_its_first_step(tmp_path, args, words):
    config(tmp_path)
    done = opsuite("deploy", "--ops-config=ops.toml", *args, f"--html={tmp_path}/r.html", cwd=tmp_path)
    assert_refused(done, *words)
    assert not (tmp_path / "locks").exists(), "the refused deploy took the lock"


def test_plan_prints_the_numbered_steps_and_runs_nothing(tmp_path):
    config(tmp_path)
    done = opsuite("plan", "deploy", "--ops-config", "ops.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    numbered = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("step ")]
    assert [line.split(".")[0] for line in numbered] == [f"step {n}" for n in range(1, len(DEPLOY.steps) + 1)]
    assert numbered[0].startswith("step 1. Preflight")
    assert not (tmp_path / "locks").exists() and not (ROOT / "reports" / "deploy" / "plan").exists()


def test_a_wrong_tag_is_refused_by_plan_too(tmp_path):
    config(tmp_path)
    assert_refused(opsuite("plan", "deploy", "--ops-config", "ops.toml", "--tag=latest", cwd=tmp_path), "moving tag")


def test_the_pytest_entry_point_refuses_with_pytests_usage_error_and_no_traceback(tmp_path):
    """`pytest ops_checks/deploy.py --tag=latest`, as the card says: exit 4 (pytest's usage error), the
    reason first on stderr, nothing run."""
    config(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pytest", "ops_checks/deploy.py", "--tag=latest",
                           f"--ops-config={tmp_path}/ops.toml", f"--html={tmp_path}/r.html", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert done.stderr.startswith("opsuite: TAG 'latest' is a moving tag"), done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "test_preflight" not in done.stdout


def test_unknown_commands_and_checks_exit_2_with_argparses_one_line(tmp_path):
    for args in (("nosuch",), ("run", "nosuch"), ("plan",), ("sign", "r.html")):
        done = opsuite(*args, cwd=tmp_path)
        assert done.returncode == 2 and "error:" in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)


def test_config_check_of_the_bundled_example_exits_0(tmp_path):
    (ROOT / "example" / ".env").exists() or pytest.fail("run scripts/bootstrap.sh first: example/.env missing")
    done = opsuite("config", "check", cwd=tmp_path)  # default: the checkout's ops.toml, wherever opsuite runs
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"config OK: {ROOT / 'ops.toml'}"
    assert "project zenops-example" in done.stdout and "engine postgres" in done.stdout and "api" in done.stdout


def test_config_check_of_a_wrong_config_exits_2_naming_it(tmp_path, capsys):
    bad = config(tmp_path, CONFIG.replace("compose_files", "compose_file"))
    assert cli.main(["config", "check", "--ops-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"opsuite: {bad}") and "compose_file" in err and "Traceback" not in err


def test_config_check_follows_opsuite_config_as_the_plugin_does(tmp_path, monkeypatch):
    path = config(tmp_path)
    monkeypatch.setenv("OPSUITE_CONFIG", str(path))
    assert where.ops_config_path(None) == path
    assert where.ops_config_path("ops.toml") == Path.cwd() / "ops.toml"  # given: relative to where it runs
    monkeypatch.delenv("OPSUITE_CONFIG")
    assert where.ops_config_path(None) == ROOT / "ops.toml" and where.reports() == ROOT / "reports"


@pytest.mark.parametrize("pytest_code, ours", [(0, 0), (1, 1), (2, 1), (3, 3), (4, 2), (5, 2), (70, 3)])
def test_pytest_exit_codes_map_to_ok_failed_usage_internal(pytest_code, ours):
    assert checks.exit_code(pytest_code) == ours


def test_each_subcommand_runs_its_check_with_the_checkouts_ini_and_the_options_as_typed():
    argv = checks.pytest_argv("restore_drill", ["--from-remote"])
    assert argv[1:] == ["-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT),
                        str(ROOT / "ops_checks" / "restore_drill.py"), "-q", "--tb=short", "--from-remote"]
    assert {module for module, _ in checks.COMMANDS.values()} <= set(where.check_names())
    assert checks.relative_to_here(["--ops-config", "x.toml", "--ops-config=/a/b.toml", "--tag=1"]) == [
        "--ops-config", str(Path.cwd() / "x.toml"), "--ops-config=/a/b.toml", "--tag=1"]


def test_the_checks_options_are_the_plugins_own():
    """Every option the plugin declares is offered (help, checking, completion) by each check's subcommand."""
    from runbook_plugin.options import pytest_addoption

    declared = cli._PluginOptions().options
    assert len(declared) > 15 and ("--tag",) in [names for names, _ in declared]
    assert pytest_addoption.__module__ == "runbook_plugin.options"
    deploy = cli.build_parser()._subparsers._group_actions[0].choices["deploy"]
    offered = {s for action in deploy._actions for s in action.option_strings}
    assert {names[0] for names, _ in declared} <= offered


def stand_in(monkeypatch, name: str, **functions) -> types.ModuleType:
    """A stand-in for another part's module NAME that records the calls of each of its FUNCTIONS by name."""
    module = types.ModuleType(name)
    module.calls = {function_name: [] for function_name in functions}
    for function_name, function in functions.items():
        def recorded(*args, _function=function, _calls=module.calls[function_name]):
            _calls.append(args)
            return _function(*args)
        setattr(module, function_name, recorded)
    monkeypatch.setitem(sys.modules, name, module)
    return module


@pytest.fixture
def status_module(monkeypatch):
    """The status part's module (runbook_plugin/history/status.py), here a stand-in that records its call."""
    return stand_in(monkeypatch, "runbook_plugin.history.status",
                    stack_status=lambda path, reports: {"project": "cli-test", "serving": {"tag": "1.0.0"}},
                    format_status=lambda status: f"{status['project']}: serving {status['serving']['tag']}")


def test_status_prints_the_status_parts_text_or_json(status_module, tmp_path, capsys):
    path = config(tmp_path)
    assert cli.main(["status", "--ops-config", str(path)]) == 0
    assert capsys.readouterr().out == "cli-test: serving 1.0.0\n"
    assert cli.main(["status", "--ops-config", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"project": "cli-test", "serving": {"tag": "1.0.0"}}
    assert status_module.calls["stack_status"] == [(path, ROOT / "reports")] * 2


def test_an_internal_error_exits_3_and_says_where_to_report_it(status_module, capsys):
    def broken(ops_config_path, reports_dir):
        return {}["serving"]

    status_module.stack_status = broken
    assert cli.main(["status"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("opsuite: internal error: KeyError: 'serving'")
    assert "issue tracker" in err.splitlines()[1] and "Traceback" in err  # the paragraph first, then the trace


def test_a_config_error_inside_status_exits_2(status_module, capsys):
    def refuse(ops_config_path, reports_dir):
        raise UsageError(f"no ops config at {ops_config_path}: give --ops-config=PATH")

    status_module.stack_status = refuse
    assert cli.main(["status", "--ops-config", "/nowhere.toml"]) == 2
    assert capsys.readouterr().err == "opsuite: no ops config at /nowhere.toml: give --ops-config=PATH\n"


@pytest.fixture
def signoff_module(monkeypatch):
    def sign(report, by):
        if by == "Eve":
            raise UsageError(f"{report} is already signed off by Ann")
        return {"signed_off_by": by, "signed_off_at": "2026-12-06T16:00:00+00:00"}

    return stand_in(monkeypatch, "runbook_plugin.signoff", sign=sign)


def test_sign_records_through_the_evidence_parts_sign(signoff_module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["sign", "r.html", "--by", "Ann"]) == 0
    assert capsys.readouterr().out == "signed off: r.html by Ann at 2026-12-06T16:00:00+00:00\n"
    assert cli.main(["sign", "r.html", "--by", "Eve"]) == 2
    assert "already signed off by Ann" in capsys.readouterr().err
    assert signoff_module.calls["sign"] == [(tmp_path / "r.html", "Ann"), (tmp_path / "r.html", "Eve")]


@pytest.mark.parametrize("words, expected", [
    ("opsuite pl", "plan"), ("opsuite plan de", "deploy"), ("opsuite drill --from", "--from-remote"),
    ("opsuite completion z", "zsh"), ("opsuite config ch", "check"),
])
def test_bash_completion_completes_subcommands_checks_and_the_plugins_options(tmp_path, words, expected):
    script = tmp_path / "opsuite.bash"
    script.write_text(opsuite("completion", "bash", cwd=tmp_path).stdout)
    done = subprocess.run(["bash", "-c", f'source {script}; COMP_LINE="{words}"; COMP_POINT=${{#COMP_LINE}}; '
                                         f'COMP_WORDS=({words}); COMP_CWORD={len(words.split()) - 1}; '
                                         '_shtab_opsuite; printf "%s\\n" "${COMPREPLY[@]}"'],
                          capture_output=True, text=True, timeout=30)
    assert expected in done.stdout.split(), done.stdout + done.stderr


def test_zsh_completion_is_a_compdef_script(tmp_path):
    done = opsuite("completion", "zsh", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("#compdef opsuite") and "restore_drill" in done.stdout
