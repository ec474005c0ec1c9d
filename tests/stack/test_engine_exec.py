"""docker exec through the Engine API against a real container, beside the same argv through the docker CLI:
the same output, exit codes, errors, stdin, files, live lines, limits and secrets by env."""

import hashlib
import os
import signal
import uuid

import pytest

from procedures import engine_exec, runner
from procedures.commands import docker as cmd
from procedures.errors import CommandFailed

pytestmark = pytest.mark.stack
IMAGE = "opsuite-local/backup:pg15"


@pytest.fixture(scope="module")
def container():
    name = f"opsuite-test-exec-{uuid.uuid4().hex[:8]}"
    runner.run(["docker", "run", "--detach", "--rm", "--network", "none", "--name", name, IMAGE, "sleep", "infinity"],
               limit="command")
    yield name
    runner.run(cmd.remove_container(name), limit="command", check=False)


@pytest.fixture(params=["api", "cli"])
def transport(request, monkeypatch):
    """Which way runner.run executes the exec; 'api' proves it went through the Engine API."""
    used: list = []
    real = engine_exec.execute

    def spy(*args, **kwargs):
        used.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_exec, "execute", spy)
    if request.param == "cli":
        monkeypatch.setattr(engine_exec, "parse", lambda argv: None)
    yield request.param
    assert bool(used) == (request.param == "api"), f"{request.param}: went through the API {len(used)} times"


def test_stdout_and_stderr_are_captured(container, transport):
    done = runner.run(cmd.exec_in(container, ["sh", "-c", "echo out; echo err >&2; printf 'no newline'"]),
                      limit="command")
    assert (done.returncode, done.stdout, done.stderr) == (0, "out\nno newline", "err\n")
    assert done.argv == cmd.exec_in(container, ["sh", "-c", "echo out; echo err >&2; printf 'no newline'"])


def test_stdout_to_a_file_is_every_byte(container, transport, tmp_path):
    made = runner.run(cmd.exec_in(container, ["sh", "-c", "head -c 5000000 /dev/urandom > /tmp/big; sha256sum /tmp/big"]),
                      limit="command").stdout.split()[0]
    target = tmp_path / "big"
    with target.open("wb") as out:
        done = runner.run(cmd.exec_in(container, ["cat", "/tmp/big"]), stdout=out, limit="command")
    assert done.stdout == "" and target.stat().st_size == 5_000_000
    assert hashlib.sha256(target.read_bytes()).hexdigest() == made


def test_input_text_and_a_stdin_file_reach_the_command_which_then_sees_its_end(container, transport, tmp_path):
    assert runner.run(cmd.exec_in(container, ["cat"]), input_text="hello\nthere", limit="command").stdout == "hello\nthere"
    source = tmp_path / "in"
    source.write_bytes(os.urandom(3_000_000))
    with source.open("rb") as stdin:
        got = runner.run(cmd.exec_in(container, ["sha256sum"]), stdin=stdin, limit="command").stdout
    assert got.split()[0] == hashlib.sha256(source.read_bytes()).hexdigest()
    # -i with nothing to send: the command reads an immediate end, never waits
    assert runner.run(cmd.exec_in(container, ["wc", "-c"]), limit="command").stdout.strip() == "0"


def test_without_interactive_the_command_gets_no_stdin(container, transport):
    argv = ["docker", "exec", container, "sh", "-c", "cat; echo done"]
    assert runner.run(argv, input_text="ignored", limit="command").stdout == "done\n"


def test_progress_lines_arrive_whole_and_in_order(container, transport):
    seen: list[str] = []
    script = "for i in $(seq 300); do echo \"line $i of a somewhat longer progress message\" >&2; done; printf tail >&2"
    done = runner.run(cmd.exec_in(container, ["sh", "-c", script]), progress=seen.append, limit="command")
    expected = [f"line {i} of a somewhat longer progress message" for i in range(1, 301)] + ["tail"]
    assert seen == expected and done.stderr.splitlines() == expected


def test_a_non_zero_exit_is_command_failed_with_the_stderr_tail(container, transport):
    with pytest.raises(CommandFailed) as caught:
        runner.run(cmd.exec_in(container, ["sh", "-c", "for i in $(seq 40); do echo e$i >&2; done; exit 3"]),
                   limit="command")
    assert caught.value.returncode == 3 and "e40" in caught.value.stderr_tail and "e1\n" not in caught.value.stderr_tail
    assert runner.run(cmd.exec_in(container, ["sh", "-c", "exit 5"]), check=False, limit="command").returncode == 5


def test_a_missing_executable_fails_as_the_cli_says_it(container, transport, tmp_path):
    with pytest.raises(CommandFailed) as caught:
        runner.run(cmd.exec_in(container, ["no-such-tool", "--version"]), limit="command")
    assert caught.value.returncode in (126, 127)
    assert 'exec: "no-such-tool": executable file not found' in caught.value.stderr_tail
    with (tmp_path / "out").open("wb") as out:
        done = runner.run(cmd.exec_in(container, ["no-such-tool"]), stdout=out, check=False, limit="command")
    assert done.returncode in (126, 127)
    if transport == "api":  # the CLI (against engine 20.10) writes the engine's error into the output file
        assert (tmp_path / "out").read_bytes() == b"" and "executable file not found" in done.stderr


def test_a_missing_container_fails_as_the_cli_says_it(transport):
    with pytest.raises(CommandFailed) as caught:
        runner.run(cmd.exec_in("opsuite-test-no-such-container", ["true"]), limit="command")
    assert caught.value.returncode == 1
    assert "No such container: opsuite-test-no-such-container" in caught.value.stderr_tail


def test_the_time_limit_ends_the_exec_and_names_the_limit(container, transport):
    with pytest.raises(CommandFailed) as caught:
        # 10 s: the line before the sleep reaches the tail even when a busy engine is slow to start the exec
        runner.run(cmd.exec_in(container, ["sh", "-c", "echo started >&2; sleep 600"]), timeout=10, limit="command")
    assert caught.value.returncode == -1 and "timed out after 10s" in str(caught.value)
    assert "started" in caught.value.stderr_tail


def test_an_env_name_carries_its_value_which_never_enters_argv(container, transport):
    secret = f"s3cret-{uuid.uuid4().hex}"
    with pytest.raises(CommandFailed) as caught:  # exit 4 only when the value arrived
        runner.run(cmd.exec_in(container, ["sh", "-c", 'test "${#OPS_TEST_VALUE}" = 39 && exit 4'],
                               env_names=["OPS_TEST_VALUE"]), env={"OPS_TEST_VALUE": secret}, limit="command")
    assert caught.value.returncode == 4 and secret not in str(caught.value)
    argv = cmd.exec_in(container, ["sh", "-c", 'printf %s "$OPS_TEST_VALUE"'], env_names=["OPS_TEST_VALUE"])
    done = runner.run(argv, env={"OPS_TEST_VALUE": secret}, limit="command")
    assert done.stdout == secret and secret not in " ".join(done.argv)


def test_an_interrupt_during_the_read_unwinds(container, transport):
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run(cmd.exec_in(container, ["sleep", "30"]), limit="command")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert runner.run(cmd.exec_in(container, ["echo", "after"]), limit="command").stdout == "after\n"
