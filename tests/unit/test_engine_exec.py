"""docker exec argv read for the Engine API (whole argv in, the exec or None out), the choice of the CLI
instead, and the multiplexed stream cut into frames and lines wherever its pieces end."""

import json
import struct

import pytest

from procedures import engine_exec
from procedures.commands import docker as cmd
from procedures.engine_client import cli_only_reason
from procedures.engine_exec import ExecCall, LineSplitter, frames, parse

pytestmark = pytest.mark.unit


def test_the_suites_own_exec_shapes_are_read_whole():
    assert parse(cmd.exec_in("box", ["pg_dump", "-Fc"], env_names=["PGPASSWORD", "X"])) == ExecCall(
        "box", ["pg_dump", "-Fc"], interactive=True, env=("PGPASSWORD", "X"))
    assert parse(cmd.run_healthcheck("db", ["CMD-SHELL", "pg_isready -U app"])) == ExecCall(
        "db", ["/bin/sh", "-c", "pg_isready -U app"])
    probe = cmd.http_get_from("web", "http://app:8000/health", 5.0, header_variables={"Authorization": "TOKEN"})
    assert parse(probe) == ExecCall("web", probe[5:], env=("TOKEN",))


def test_short_inline_and_value_flags_are_read_as_the_cli_reads_them():
    assert parse(["docker", "exec", "-i", "-e", "A", "--env=B", "--user", "0", "-w", "/srv", "c", "ls", "-l"]) == \
        ExecCall("c", ["ls", "-l"], interactive=True, env=("A", "B"), user="0", workdir="/srv")
    assert parse(["docker", "exec", "--user=app:app", "--workdir=/x", "c", "id"]) == \
        ExecCall("c", ["id"], user="app:app", workdir="/x")
    # after the container everything is the command's, flags included
    assert parse(["docker", "exec", "c", "sh", "-i", "--env", "X"]) == ExecCall("c", ["sh", "-i", "--env", "X"])


@pytest.mark.parametrize("argv", [
    ["docker", "exec", "-t", "c", "sh"],
    ["docker", "exec", "-it", "c", "sh"],
    ["docker", "exec", "--detach", "c", "sleep", "1"],
    ["docker", "exec", "--env-file", "f", "c", "env"],
    ["docker", "exec", "--privileged", "c", "id"],
    ["docker", "exec", "-e=A", "c", "env"],
    ["docker", "exec", "--env"],
    ["docker", "exec", "c"],
    ["docker", "compose", "exec", "-T", "db", "psql"],
    ["docker", "inspect", "c"],
    ["/usr/bin/docker", "exec", "c", "true"],
])
def test_anything_else_is_left_to_the_cli(argv):
    assert parse(argv) is None


def test_the_default_engine_reached_directly_is_the_apis(tmp_path):
    plain = {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}
    assert cli_only_reason(plain) is None
    assert cli_only_reason({**plain, "DOCKER_HOST": "unix:///var/run/docker.sock"}) is None
    assert cli_only_reason({**plain, "DOCKER_HOST": "tcp://10.0.0.2:2375"}) is None
    assert cli_only_reason({**plain, "DOCKER_CONTEXT": "default"}) is None


@pytest.mark.parametrize("environ, added, why", [
    ({"DOCKER_HOST": "ssh://ops@vps"}, None, "ssh://"),
    ({"DOCKER_TLS_VERIFY": "1", "DOCKER_HOST": "tcp://vps:2376"}, None, "TLS"),
    ({"DOCKER_TLS": "1"}, None, "TLS"),
    ({"DOCKER_CERT_PATH": "/certs"}, None, "TLS"),
    ({"DOCKER_CONTEXT": "vps"}, None, "context"),
    ({"DOCKER_CONTEXT": "vps", "DOCKER_HOST": "unix:///var/run/docker.sock"}, None, "DOCKER_CONTEXT"),
    ({"DOCKER_HOST": "fd://"}, None, "fd://"),
    ({}, {"DOCKER_HOST": "tcp://other:2375"}, "DOCKER_*"),
])
def test_a_setup_the_cli_reaches_another_way_goes_to_the_cli(tmp_path, environ, added, why):
    reason = cli_only_reason({"DOCKER_CONFIG": str(tmp_path), **environ}, added)
    assert reason is not None and why in reason


def test_the_current_context_of_the_clis_config_file_counts(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "vps"}))
    assert "context" in cli_only_reason({"DOCKER_CONFIG": str(tmp_path)})
    (tmp_path / "config.json").write_text(json.dumps({"auths": {}}))
    assert cli_only_reason({"DOCKER_CONFIG": str(tmp_path)}) is None
    (tmp_path / "config.json").write_text("{not json")
    assert cli_only_reason({"DOCKER_CONFIG": str(tmp_path)}) is None


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def reads_of(data: bytes, size: int):
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    return lambda: pieces.pop(0) if pieces else b""


@pytest.mark.parametrize("size", [1, 3, 8, 9, 1000])
def test_frames_are_whole_whatever_the_reads_return(size):
    data = frame(1, b"out\n") + frame(2, b"err part") + frame(2, b"") + frame(2, b"ial\n") + frame(1, b"x" * 70000)
    assert list(frames(reads_of(data, size))) == [(1, b"out\n"), (2, b"err part"), (2, b""), (2, b"ial\n"),
                                                  (1, b"x" * 70000)]


def test_stderr_frames_cut_mid_line_and_mid_character_become_whole_lines_in_order():
    got: list[str] = []
    lines = LineSplitter(got.append)
    text = "pg_restore: processing data for table \"public.é\"\r\nsecond\n\nthird without newline".encode()
    middle_of_e, after_cr = text.index("é".encode()) + 1, text.index(b"\r") + 1
    cuts = [0, 5, middle_of_e, after_cr, after_cr + 3, len(text) - 4, len(text)]
    for start, end in zip(cuts, cuts[1:]):
        lines.feed(text[start:end])
    assert got == ['pg_restore: processing data for table "public.é"', "second", ""]
    lines.end()
    assert got[-1] == "third without newline"


def test_a_failing_sink_does_not_stop_the_lines():
    got: list[str] = []

    def sink(line):
        got.append(line)
        raise RuntimeError("terminal gone")

    lines = LineSplitter(sink)
    lines.feed(b"a\nb\n")
    assert got == ["a", "b"]


def test_env_names_take_their_value_by_name_and_an_unset_name_travels_bare():
    call = ExecCall("c", ["env"], env=("SECRET", "UNSET", "LITERAL=1"))
    assert engine_exec._environment(call, {"SECRET": "s3"}) == ["SECRET=s3", "UNSET", "LITERAL=1"]


def test_an_engine_that_cannot_be_reached_leaves_the_exec_to_the_cli(tmp_path):
    import docker

    nowhere = docker.APIClient(base_url=f"unix://{tmp_path}/no.sock", version="1.41", timeout=5)
    with pytest.raises(engine_exec.Unreachable):
        engine_exec.execute(ExecCall("c", ["true"]), environ={}, stdin=None, stdout=None, progress=None,
                            seconds=5, client=nowhere)
