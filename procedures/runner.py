"""The one place that runs external commands: argv lists in, a Completed or CommandFailed out.

Every command runs against a time limit: the caller names its kind (`limit="dump"`, KINDS), whose
[timeouts] setting is the limit, or gives its own `timeout`. Loading the config makes its [timeouts]
the limits (`use_timeouts`); until then the documented defaults apply. Each command leads its own
process group, so a command past its limit, or interrupted, is stopped (SIGTERM, then SIGKILL)
together with every process it started. A caller may take a command's stderr line by line as it
arrives (`progress`): a long step's live progress; the error's stderr tail stays as it is.
A `docker exec` runs through the Engine API when it can (engine_exec), else through the CLI like the rest.
"""

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator

from . import engine_client, engine_exec
from . import progress as progress_lines
from .config import TimeoutsConfig
from .errors import CommandFailed
from .guards import refuse_volume_removal
from .redact import redact, redact_argv

log = logging.getLogger("ops.runner")
_STDERR_TAIL_LINES = 25
# How long an interrupted session may take to exit once its stdin is closed, before it is stopped.
_SESSION_EXIT_GRACE_SECONDS = 60.0
# Between SIGTERM and SIGKILL when a command is stopped: docker's CLIs pass SIGTERM on and clean up.
_STOP_GRACE_SECONDS = 5.0
_timeouts = TimeoutsConfig()


@dataclass(frozen=True)
class Completed:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass(frozen=True)
class Limit:
    seconds: float
    setting: str | None  # the [timeouts] setting it comes from; None when the caller chose it

    def exceeded(self) -> str:
        fix = (f"if it needs longer, raise [timeouts] {self.setting} in the ops config" if self.setting
               else "this limit is the procedure's own, not a [timeouts] setting")
        return f"timed out after {self.seconds:g}s and was killed with its child processes; {fix}"


def use_timeouts(timeouts: TimeoutsConfig) -> None:
    """Make these the limits of every later command that brings none of its own (load_config calls it)."""
    global _timeouts
    _timeouts = timeouts


# The kinds of limit a caller names, each a [timeouts] setting. The caller knows what its command
# does (a SQLite backup is a dump, sha256sum of a dump is a check); the runner never guesses from argv.
KINDS = {
    "command": "command_seconds",  # inspect, stop, ls, mkdir, a psql query: anything short
    "dump": "dump_seconds",  # pg_dump, SQLite's online backup, the uploads archive or store copy
    "restore": "restore_seconds",  # pg_restore, a SQLite copy's restore, unpacking uploads
    "check": "check_seconds",  # reading a whole set back: sha256sum, integrity checks, rclone check
    "copy": "copy_seconds",  # rclone transfers to and from the remote
    "compose_up": "compose_up_seconds",  # docker compose up: waits for the dependencies' health
    "one_off": "one_off_seconds",  # docker compose run: migrations and the app's one-off tasks
    "build": "build_seconds",  # docker compose build of a release, git archive of its ref
}


def limit_of(kind: str) -> Limit:
    """The [timeouts] limit of a kind of command (KINDS); an unknown kind is a programming error."""
    if kind not in KINDS:
        raise ValueError(f"unknown limit kind {kind!r}: one of {', '.join(sorted(KINDS))}")
    setting = KINDS[kind]
    return Limit(getattr(_timeouts, setting), setting)


def _tail(text: str) -> str:
    return redact("\n".join(text.strip().splitlines()[-_STDERR_TAIL_LINES:]))


def _environment(env: dict[str, str] | None) -> dict[str, str] | None:
    return {**os.environ, **env} if env else None


class _StderrLines:
    """A command's stderr read on a thread of its own: every line handed to `progress` as it arrives
    and kept whole for the result and the error's tail."""

    def __init__(self, progress: Callable[[str], None]):
        self._read_end, self.write_end = os.pipe()
        self._progress = progress_lines.never_raising(progress)
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._pump, name="stderr-lines", daemon=True)

    def start(self) -> None:
        os.close(self.write_end)  # the command holds its copy: its exit (and its children's) ends the stream
        self._thread.start()

    def close(self) -> None:
        """Close both ends of a pipe no command ever got."""
        for fd in (self._read_end, self.write_end):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _pump(self) -> None:
        with open(self._read_end, "rb") as stream:
            for raw in stream:
                self._chunks.append(raw)
                self._progress(raw.decode(errors="replace").rstrip("\r\n"))

    def wait(self, seconds: float) -> None:
        """Wait for the end of the stream (every process holding it gone); raises TimeoutExpired if it lasts longer."""
        self._thread.join(max(seconds, 0))
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired("stderr", seconds, stderr=self.text().encode())

    def text(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)  # the command leads its own process group: its children get it too


def _lost_children(argv: list[str]) -> list[int]:
    """Children of this process that lead their own session and run argv (or are still the fork,
    before exec): an interrupt landing between Popen's fork and its return loses the child's pid."""
    me, ours = os.getpid(), Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
    wanted, found = "\0".join(argv).encode() + b"\0", []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        state_ppid_pgrp_session = stat[stat.rindex(")") + 2:].split()[:4]
        pid = int(entry.name)
        if int(state_ppid_pgrp_session[1]) == me and int(state_ppid_pgrp_session[3]) == pid \
                and cmdline in (wanted, ours):
            found.append(pid)
    return found


def _still_running(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


def _stop_lost_children(argv: list[str]) -> None:
    """SIGTERM, then SIGKILL after the grace, the process groups of the children Popen never handed back."""
    lost = _lost_children(argv)
    for pid in lost:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    while lost and time.monotonic() < deadline:
        lost = [pid for pid in lost if _still_running(pid)]
        time.sleep(0.05)
    for pid in lost:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the command and every process it started; SIGKILL whatever still runs after a grace."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    finally:
        _signal_group(proc, signal.SIGKILL)


def run(
    argv: list[str],
    *,
    limit: str,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    check: bool = True,
    timeout: float | None = None,
    cwd: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Completed:
    """Run argv (never through a shell) within its time limit; refuses volume-removing commands;
    raises CommandFailed on a non-zero exit or when the limit passes.

    `env` adds to the inherited environment (secrets travel here, never in argv). `stdin` and
    `stdout` take open binary files so large streams (dumps) never pass through memory. `limit` names
    the kind of command (KINDS) whose [timeouts] setting bounds it; `timeout` replaces that with a
    limit of the procedure's own (a container healthcheck's). `progress` is called with each stderr
    line (without its newline) as it arrives, on another thread, and every call is over when run returns.
    """
    refuse_volume_removal(argv)
    shown = redact_argv(argv)
    of_kind = limit_of(limit)  # checked even when `timeout` replaces it
    bound = of_kind if timeout is None else Limit(timeout, None)
    log.info("run: %s", " ".join(shown))
    started = time.monotonic()
    through_api = _engine_api_call(argv, env)
    if through_api is not None:
        done = _run_through_api(*through_api, shown, bound, env, input_text, stdin, stdout, progress, started)
        if done is not None:
            return _checked(done, check)
    lines = _StderrLines(progress) if progress is not None else None
    try:
        proc = subprocess.Popen(
            argv,
            env=_environment(env),
            stdin=subprocess.PIPE if input_text is not None else stdin,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=lines.write_end if lines else subprocess.PIPE,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError as e:
        if lines:
            lines.close()
        raise CommandFailed(shown, 127, f"{argv[0]}: not installed or not on PATH") from e
    except BaseException:
        if lines:
            lines.close()
        _stop_lost_children(argv)  # an interrupt during the fork: the child runs, its pid never came back
        raise
    with proc:
        try:
            if lines:
                lines.start()
            raw_out, raw_err = proc.communicate(input_text.encode() if input_text is not None else None,
                                                timeout=bound.seconds)
            if lines:
                lines.wait(started + bound.seconds - time.monotonic())
        except subprocess.TimeoutExpired as e:
            _stop_group(proc)
            if lines:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    lines.wait(_STOP_GRACE_SECONDS)  # the lines up to the kill, for the tail
            partial = _tail(lines.text() if lines else (e.stderr or b"").decode(errors="replace"))
            raise CommandFailed(shown, -1, f"{bound.exceeded()}\n{partial}".rstrip()) from e
        except BaseException:
            _stop_group(proc)  # an interrupt (Ctrl-C, SIGTERM, SIGHUP) leaves nothing running
            raise
    out = raw_out.decode(errors="replace") if stdout is None else ""
    err = lines.text() if lines else raw_err.decode(errors="replace")
    return _checked(Completed(shown, proc.returncode, out, err, time.monotonic() - started), check)


def _checked(done: Completed, check: bool) -> Completed:
    """done, or CommandFailed with its stderr's tail when it failed and the caller checks."""
    if check and done.returncode != 0:
        raise CommandFailed(done.argv, done.returncode, _tail(done.stderr or done.stdout))
    return done


def _engine_api_call(argv: list[str], env: dict[str, str] | None):
    """The parsed exec and an Engine API client when argv is a `docker exec` the API runs as the CLI would;
    None for the CLI (another command, a flag not handled, a Docker set-up only the CLI reaches)."""
    call = engine_exec.parse(argv)
    if call is None:
        return None
    why = engine_client.cli_only_reason(os.environ, env)
    if why is not None:
        log.debug("docker exec through the CLI: %s", why)
        return None
    client = engine_exec.client_or_none()
    return (call, client) if client is not None else None


def _run_through_api(call: engine_exec.ExecCall, client, shown: list[str], bound: Limit, env: dict[str, str] | None,
                     input_text: str | None, stdin: IO[bytes] | None, stdout: IO[bytes] | None,
                     progress: Callable[[str], None] | None, started: float) -> Completed | None:
    """The exec's Completed, as the CLI path would give it; None when the engine could not be reached
    before anything ran (the CLI then runs it and says what is wrong in its own words)."""
    try:
        outcome = engine_exec.execute(call, environ=_environment(env) or os.environ, client=client,
                                      stdin=input_text.encode() if input_text is not None else stdin,
                                      stdout=stdout, progress=progress, seconds=bound.seconds)
    except engine_exec.TimedOut as e:
        raise CommandFailed(shown, -1, f"{bound.exceeded()}\n{_tail(e.args[0].decode(errors='replace'))}".rstrip()) from e
    except engine_exec.Refused as e:  # no such container, not running: the CLI's own words and exit 1
        message = f"Error response from daemon: {e}\n"
        if progress is not None:
            progress(message.rstrip("\n"))
        return Completed(shown, 1, "", message, time.monotonic() - started)
    except engine_exec.Unreachable:
        log.debug("Engine API not reachable: docker exec through the CLI", exc_info=True)
        return None
    out = outcome.stdout.decode(errors="replace") if stdout is None else ""
    return Completed(shown, outcome.returncode, out, outcome.stderr.decode(errors="replace"),
                     time.monotonic() - started)


class LineSession:
    """A running command spoken to line by line (a psql session that holds a snapshot open).

    A watchdog stops it with its children at its limit; reads and writes then raise CommandFailed
    naming the limit.
    """

    def __init__(self, proc: subprocess.Popen, shown: list[str], limit: Limit):
        self._proc = proc
        self._shown = shown
        self._limit = limit
        self._expired = threading.Event()
        self._watchdog = threading.Timer(limit.seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self) -> None:
        self._expired.set()
        _stop_group(self._proc)

    def failure(self, fallback: str) -> CommandFailed:
        """The error of a session that ended: past its limit, or its exit code and stderr tail."""
        if self._expired.is_set():
            return CommandFailed(self._shown, -1, self._limit.exceeded())
        return CommandFailed(self._shown, self._proc.returncode or -1, _tail(self._proc.stderr.read()) or fallback)

    @property
    def failed(self) -> bool:
        return self._expired.is_set() or self._proc.returncode != 0

    def send(self, text: str) -> None:
        try:
            self._proc.stdin.write(text if text.endswith("\n") else text + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError as e:
            self._proc.wait()
            raise self.failure("session ended before it could be sent more") from e

    def read_line(self) -> str:
        line = self._proc.stdout.readline()
        if line == "":
            self._proc.wait()
            raise self.failure("session ended unexpectedly")
        return line.rstrip("\n")

    def read_until(self, marker: str) -> list[str]:
        lines = []
        while (line := self.read_line()) != marker:
            lines.append(line)
        return lines

    def end(self, grace: float | None = None) -> None:
        """Close stdin and wait for the exit, at most `grace` seconds (else until the limit); then
        kill whatever of it still runs (children it left behind included)."""
        try:
            if self._proc.stdin and not self._proc.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    self._proc.stdin.close()
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        finally:
            _stop_group(self._proc)
            self._watchdog.cancel()


@contextlib.contextmanager
def session(argv: list[str], *, env: dict[str, str] | None = None,
            timeout: float | None = None) -> Iterator[LineSession]:
    """Start argv with text pipes, killed at its limit (`timeout`, else [timeouts] session_seconds);
    on exit close its stdin and raise CommandFailed if it failed or ran out of time."""
    refuse_volume_removal(argv)
    shown = redact_argv(argv)
    limit = Limit(timeout, None) if timeout is not None else Limit(_timeouts.session_seconds, "session_seconds")
    log.info("session: %s", " ".join(shown))
    proc = subprocess.Popen(argv, env=_environment(env), text=True, bufsize=1, start_new_session=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    talk = LineSession(proc, shown, limit)
    try:
        yield talk
    except BaseException:
        talk.end(grace=_SESSION_EXIT_GRACE_SECONDS)
        raise
    talk.end()
    if talk.failed:
        raise talk.failure("session failed")
