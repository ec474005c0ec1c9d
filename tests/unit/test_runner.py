import pytest

from procedures import runner
from procedures.errors import CommandFailed
from procedures.redact import register_secret

pytestmark = pytest.mark.unit


def test_success_returns_output():
    done = runner.run(["sh", "-c", "echo out; echo err >&2"])
    assert (done.returncode, done.stdout, done.stderr) == (0, "out\n", "err\n")


def test_failure_carries_argv_exit_code_and_stderr_tail():
    with pytest.raises(CommandFailed) as caught:
        runner.run(["sh", "-c", "for i in $(seq 100); do echo line$i >&2; done; exit 7"])
    error = caught.value
    assert error.returncode == 7
    assert error.argv[0] == "sh"
    assert "line100" in error.stderr_tail and "line1\n" not in error.stderr_tail
    assert "exit 7" in str(error)


def test_check_false_returns_failure():
    assert runner.run(["sh", "-c", "exit 3"], check=False).returncode == 3


def test_missing_program_is_a_command_failure():
    with pytest.raises(CommandFailed, match="not installed"):
        runner.run(["no-such-program-opsuite"])


def test_secret_from_env_never_reaches_the_error_text():
    secret = "s3cret-planted-in-env-9431"
    register_secret(secret)
    with pytest.raises(CommandFailed) as caught:
        runner.run(["sh", "-c", 'echo "auth failed for $PGPASSWORD" >&2; exit 2'], env={"PGPASSWORD": secret})
    assert secret not in str(caught.value)
    assert "***" in str(caught.value)


def test_secret_in_argv_is_redacted_in_the_error():
    with pytest.raises(CommandFailed) as caught:
        runner.run(["sh", "-c", "exit 1", "postgresql://zen:hunter2hunter2@db/zen"])
    assert "hunter2hunter2" not in str(caught.value)
    assert "hunter2hunter2" not in " ".join(caught.value.argv)


def test_stdout_streams_to_a_file(tmp_path):
    target = tmp_path / "out.bin"
    with target.open("wb") as sink:
        done = runner.run(["sh", "-c", "head -c 100000 /dev/zero"], stdout=sink)
    assert done.stdout == "" and target.stat().st_size == 100000


def test_session_speaks_line_by_line():
    with runner.session(["sh", "-c", 'while read line; do echo "got $line"; done']) as talk:
        talk.send("one")
        assert talk.read_line() == "got one"
        talk.send("two\n")
        talk.send("END")
        assert talk.read_until("got END") == ["got two"]


def test_session_failure_raises_with_stderr():
    with pytest.raises(CommandFailed, match="boom"):
        with runner.session(["sh", "-c", "read x; echo boom >&2; exit 4"]) as talk:
            talk.send("go")


def test_session_that_dies_mid_read_raises():
    with pytest.raises(CommandFailed):
        with runner.session(["sh", "-c", "echo bye >&2; exit 5"]) as talk:
            talk.read_line()
