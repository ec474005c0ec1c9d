"""`docker exec` argv run through the Engine API (the docker SDK) rather than the docker CLI: the same
command, exit code and streams, without the CLI's process start and its own API handshake on every call.

The argv stays the data: the runner logs, guards and reports it as it is; only how it runs differs. An
argv this module cannot run exactly as the CLI would (a flag it does not know, a Docker set-up the CLI
reaches another way) is left to the CLI: `parse` and `engine_client.cli_only_reason` say so.
"""

import contextlib
import logging
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import IO, Callable, Mapping

from . import engine_client
from . import progress as progress_lines

log = logging.getLogger("ops.runner")

_FLAGS_WITH_VALUE = {"--env": "env", "-e": "env", "--user": "user", "-u": "user", "--workdir": "workdir",
                     "-w": "workdir"}
_CHUNK = 1 << 16
# Engine 20.10 reports an exec that could not start (executable missing or not executable) on the stdout
# stream, with ExitCode 126, where the CLI shows it on stderr: held back until that is known.
_START_FAILED = b"OCI runtime exec failed"
_START_FAILED_CODES = (126, 127)


@dataclass(frozen=True)
class ExecCall:
    container: str
    argv: list[str]
    interactive: bool = False
    env: tuple[str, ...] = ()  # as given: NAME (its value taken from the environment, as the CLI does) or NAME=value
    user: str | None = None
    workdir: str | None = None


def parse(argv: list[str]) -> ExecCall | None:
    """The exec an argv asks for; None when it is not a `docker exec` of the flags handled here
    (--interactive/-i, --env/-e NAME, --user/-u, --workdir/-w), which the CLI then runs."""
    if argv[:2] != ["docker", "exec"]:
        return None
    found: dict = {"interactive": False, "env": [], "user": None, "workdir": None}
    rest = argv[2:]
    while rest and rest[0].startswith("-"):
        flag, _, inline = rest[0].partition("=")
        if flag in ("--interactive", "-i") and not inline:
            found["interactive"], rest = True, rest[1:]
            continue
        if flag not in _FLAGS_WITH_VALUE:
            return None  # -t, --detach, --privileged, -it, --env-file ...: the CLI knows them, this does not
        if "=" in rest[0]:
            if not flag.startswith("--"):
                return None  # -e=X: pflag's own reading of it is not worth copying
            value, rest = inline, rest[1:]
        elif len(rest) >= 2:
            value, rest = rest[1], rest[2:]
        else:
            return None
        key = _FLAGS_WITH_VALUE[flag]
        if key == "env":
            found["env"].append(value)
        else:
            found[key] = value
    if len(rest) < 2:
        return None  # no container or no command: let the CLI say what is missing
    return ExecCall(rest[0], rest[1:], found["interactive"], tuple(found["env"]), found["user"], found["workdir"])


def client_or_none():
    """The client, or None when no client can be made (the CLI then runs the command and says why)."""
    try:
        return engine_client.client()
    except Exception:  # docker.errors.DockerException and whatever the transport raises
        log.debug("no Engine API client; exec falls back to the docker CLI", exc_info=True)
        return None


class Refused(Exception):
    """The engine refused the exec (no such container, not running), in its own words."""


class Unreachable(Exception):
    """The engine could not be reached to create the exec: nothing ran, so the CLI may run it instead."""


class TimedOut(Exception):
    """The exec's stream was still open at the time limit."""


class LineSplitter:
    """Bytes arriving in pieces (frames cut anywhere) handed on as whole lines, without their newline."""

    def __init__(self, sink: Callable[[str], None]):
        self._sink = progress_lines.never_raising(sink)
        self._partial = b""

    def feed(self, data: bytes) -> None:
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            self._hand(line)

    def end(self) -> None:
        if self._partial:
            self._hand(self._partial)
            self._partial = b""

    def _hand(self, raw: bytes) -> None:
        self._sink(raw.decode(errors="replace").rstrip("\r"))


def frames(read: Callable[[], bytes]):
    """(stream, payload) pairs of the Engine's multiplexed stream (an 8-byte header: stream, 3 zero bytes,
    big-endian length), whatever sizes read() returns; ends at the stream's end. Not the SDK's
    `docker.utils.socket.frames_iter`: it reads the socket itself, blocking with no deadline, where read()
    here gives up at the command's time limit."""
    buffered = b""
    while True:
        while len(buffered) >= 8:
            stream, size = struct.unpack(">BxxxL", buffered[:8])
            if len(buffered) < 8 + size:
                break
            yield stream, buffered[8:8 + size]
            buffered = buffered[8 + size:]
        chunk = read()
        if not chunk:
            return
        buffered += chunk


def _exit_code(api, exec_id: str) -> int | None:
    """The exec's exit code; the engine records it as the process ends, so an exec read to its end is
    asked again for a moment while it still shows as running (the CLI asks once)."""
    for _ in range(100):
        found = api.exec_inspect(exec_id)
        if found["ExitCode"] is not None or not found["Running"]:
            return found["ExitCode"]
        time.sleep(0.02)
    return found["ExitCode"]


@dataclass
class Outcome:
    returncode: int
    stdout: bytes  # empty when stdout went to a file
    stderr: bytes


def _environment(call: ExecCall, environ: Mapping[str, str]) -> list[str]:
    """NAME=value for each --env, the value found by name as the CLI finds it; a name not set travels bare,
    as the CLI sends it (the engine then leaves it unset)."""
    env = []
    for entry in call.env:
        if "=" in entry or entry not in environ:
            env.append(entry)
        else:
            env.append(f"{entry}={environ[entry]}")
    return env


def _feed_stdin(sock: socket.socket, source: bytes | IO[bytes] | None) -> None:
    try:
        if isinstance(source, bytes):
            sock.sendall(source)
        elif source is not None:
            while chunk := source.read(_CHUNK):
                sock.sendall(chunk)
    except OSError:  # the command ended without reading it all (or the read was given up): as a closed pipe
        pass
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)  # EOF on the command's stdin (the CLI's -i closes it the same way)


def execute(call: ExecCall, **kwargs) -> Outcome:
    """Run the exec (see _execute); raises Refused where the engine refused it (no such container, not
    running), Unreachable where it could not be asked, TimedOut past the limit."""
    import requests.exceptions  # the SDK's transport; its APIError is an HTTPError

    try:
        return _execute(call, **kwargs)
    except requests.exceptions.HTTPError as e:
        raise Refused(getattr(e, "explanation", None) or str(e)) from e


def _execute(call: ExecCall, *, environ: Mapping[str, str], stdin: bytes | IO[bytes] | None,
        stdout: IO[bytes] | None, progress: Callable[[str], None] | None, seconds: float, client=None) -> Outcome:
    """Run the exec and read its streams to their end within `seconds` (else TimedOut, with the stderr so far
    as its argument); stdout into the file when one is given, else returned; stderr returned and, with
    `progress`, handed on line by line as it arrives."""
    api = client or engine_client.client()
    deadline = time.monotonic() + seconds
    import requests.exceptions  # the SDK's transport

    try:
        created = api.exec_create(call.container, call.argv, stdin=call.interactive, stdout=True, stderr=True,
                                  environment=_environment(call, environ) or None, user=call.user or "",
                                  workdir=call.workdir)
    except requests.exceptions.ConnectionError as e:  # only here: once created, a retry could run it twice
        raise Unreachable(str(e)) from e
    raw = api.exec_start(created["Id"], socket=True)
    sock: socket.socket = getattr(raw, "_sock", raw)
    out, err = bytearray(), bytearray()
    lines = LineSplitter(progress) if progress is not None else None
    held: bytes | None = None  # a first stdout frame that may be the engine's start failure
    first_out = True
    feeder = None
    try:
        if call.interactive:
            feeder = threading.Thread(target=_feed_stdin, args=(sock, stdin), name="exec-stdin", daemon=True)
            feeder.start()
        # Neither the CLI nor the API stops the process inside the container when the limit passes: the
        # CLI path kills the docker CLI (which ends its attach), this closes the socket; the same either way.

        def read() -> bytes:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise TimedOut(bytes(err))
            return sock.recv(_CHUNK)

        for stream, payload in frames(read):
            if stream == 2:
                err += payload
                if lines:
                    lines.feed(payload)
                continue
            if first_out and payload.startswith(_START_FAILED):
                held, first_out = payload, False
                continue
            first_out = False
            if held is not None:
                payload, held = held + payload, None
            if stdout is not None:
                stdout.write(payload)
            else:
                out += payload
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        for closing in (sock, raw):
            with contextlib.suppress(OSError):
                closing.close()
    if feeder:
        feeder.join(max(deadline - time.monotonic(), 0))
    code = _exit_code(api, created["Id"])
    if held is not None:
        if code in _START_FAILED_CODES:
            err += held.rstrip(b"\r\n") + b"\n"
            if lines:
                lines.feed(held.rstrip(b"\r\n") + b"\n")
        elif stdout is not None:
            stdout.write(held)
        else:
            out += held
    if lines:
        lines.end()
    if stdout is not None:
        stdout.flush()
    return Outcome(code if code is not None else -1, bytes(out), bytes(err))
