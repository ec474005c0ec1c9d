"""The one place that runs external commands: argv lists in, a Completed or CommandFailed out."""

import contextlib
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from typing import IO, Iterator

from .errors import CommandFailed
from .guards import refuse_volume_removal
from .redact import redact, redact_argv

log = logging.getLogger("ops.runner")
_STDERR_TAIL_LINES = 25


@dataclass(frozen=True)
class Completed:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def _tail(text: str) -> str:
    return redact("\n".join(text.strip().splitlines()[-_STDERR_TAIL_LINES:]))


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    check: bool = True,
    timeout: float | None = None,
    cwd: str | None = None,
) -> Completed:
    """Run argv (never through a shell); refuses volume-removing commands; raises CommandFailed.

    `env` adds to the inherited environment (secrets travel here, never in argv). `stdin` and
    `stdout` take open binary files so large streams (dumps) never pass through memory.
    """
    refuse_volume_removal(argv)
    shown = redact_argv(argv)
    log.info("run: %s", " ".join(shown))
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            env={**os.environ, **env} if env else None,
            input=input_text.encode() if input_text is not None else None,
            stdin=stdin if input_text is None else None,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
            cwd=cwd,
        )
    except FileNotFoundError as e:
        raise CommandFailed(shown, 127, f"{argv[0]}: not installed or not on PATH") from e
    except subprocess.TimeoutExpired as e:
        raise CommandFailed(shown, -1, f"timed out after {timeout}s\n{_tail((e.stderr or b'').decode(errors='replace'))}") from e
    out = proc.stdout.decode(errors="replace") if stdout is None else ""
    err = proc.stderr.decode(errors="replace")
    done = Completed(shown, proc.returncode, out, err, time.monotonic() - started)
    if check and proc.returncode != 0:
        raise CommandFailed(shown, proc.returncode, _tail(err or out))
    return done


class LineSession:
    """A running command spoken to line by line (a psql session that holds a snapshot open)."""

    def __init__(self, proc: subprocess.Popen, shown: list[str]):
        self._proc = proc
        self._shown = shown

    def send(self, text: str) -> None:
        self._proc.stdin.write(text if text.endswith("\n") else text + "\n")
        self._proc.stdin.flush()

    def read_line(self) -> str:
        line = self._proc.stdout.readline()
        if line == "":
            self._proc.wait()
            raise CommandFailed(self._shown, self._proc.returncode or -1,
                                _tail(self._proc.stderr.read()) or "session ended unexpectedly")
        return line.rstrip("\n")

    def read_until(self, marker: str) -> list[str]:
        lines = []
        while (line := self.read_line()) != marker:
            lines.append(line)
        return lines


@contextlib.contextmanager
def session(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[LineSession]:
    """Start argv with text pipes; on exit close its stdin and raise CommandFailed if it failed."""
    refuse_volume_removal(argv)
    shown = redact_argv(argv)
    log.info("session: %s", " ".join(shown))
    proc = subprocess.Popen(argv, env={**os.environ, **env} if env else None, text=True, bufsize=1,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield LineSession(proc, shown)
    finally:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise CommandFailed(shown, proc.returncode, _tail(proc.stderr.read()))
