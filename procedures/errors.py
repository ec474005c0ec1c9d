"""The suite's error tree, in one place: every failure a procedure raises on purpose is an OpsError.

    OpsError
    ├── ConfigError          a setting is missing or invalid
    │   └── UsageError       the command line, or a file it names, is wrong
    ├── UnsafeOperation      a command or action that could lose data was refused
    ├── LockHeld             another operation holds the stack's lock
    ├── NotReady             a service or endpoint did not become healthy or ready
    ├── CommandFailed        a command exited non-zero
    ├── BackupError          a backup step failed
    │   └── OffsiteError     the offsite copy failed (the verified local backup stays)
    ├── RestoreError         a restore could not run or does not match its manifest
    ├── SwitchError          a volume switch failed and was undone
    ├── DeployError          a deploy step failed
    └── Stale                a backup, copy or drill is too old, or the last deploy failed
"""


import re

# The line a tool prints to say what went wrong: Python's last traceback line (`psycopg.errors.RaiseException:
# ...`), Postgres' `ERROR:`/`FATAL:`, a CLI's `error:` or `Error response from daemon:`.
_REASON = re.compile(r"^\s*(?:[\w.]*(?:Error|Exception|Exit|Interrupt)\w*:\s|(?:ERROR|FATAL|PANIC|error|Error|fatal)\b[^:]*:)")
# A traceback's markers under a source line (`~~~~^^^^`): never the reason.
_DECORATION = re.compile(r"^[\s~^|-]*$")
# A traceback's frame line (`  File "x.py", line 3, in f`): where the error was, never what it was.
_FRAME = re.compile(r'^\s*File "[^"]*", line \d+')


def reason_line(text: str) -> str:
    """The line of a tool's output that says what went wrong: the last error line, else the last line that
    is neither a traceback's marker nor its frame; "" for an output of nothing but those."""
    lines = [line.strip() for line in text.splitlines() if not _DECORATION.match(line) and not _FRAME.match(line)]
    errors = [line for line in lines if _REASON.match(line)]
    return (errors or lines or [""])[-1]


def is_source_line(line: str) -> bool:
    """A traceback's marker (`~~~^^^`) or frame line: says where an error was, not what it was."""
    return bool(_DECORATION.match(line) or _FRAME.match(line))


class OpsError(Exception):
    """Base of every error a procedure raises on purpose."""


class ConfigError(OpsError):
    """A setting is missing or invalid; the message names the setting and the fix."""


class UsageError(ConfigError):
    """The command line, or a file it names (a report to sign, a TAG), is wrong; the message names the fix.
    The `opsuite` command exits 2 for it, as for a ConfigError, before any step runs."""


class UnsafeOperation(OpsError):
    """A command or action that could lose data was refused."""


class LockHeld(OpsError):
    """Another deploy or backup holds the operations lock."""


class NotReady(OpsError):
    """A service did not become healthy or ready in time."""


class CommandFailed(OpsError):
    """A command exited non-zero; carries the (redacted) argv, exit code and stderr tail."""

    def __init__(self, argv: list[str], returncode: int, stderr_tail: str):
        self.argv = argv
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        super().__init__(
            f"command failed (exit {returncode}): {' '.join(argv)}\n{stderr_tail}".rstrip()
        )

    @property
    def reason(self) -> str:
        """The one line of the tail that says what went wrong (the last error line; else the last line that
        is not a traceback's marker), for a header that has room for one line."""
        return reason_line(self.stderr_tail) or f"exit {self.returncode}"


class BackupError(OpsError):
    """A backup step failed; earlier backups are untouched and nothing was pruned."""


class OffsiteError(BackupError):
    """The offsite copy failed; the verified local backup stays and the next run uploads it."""


class RestoreError(OpsError):
    """The restore could not run or the copy does not match its manifest; nothing was deleted."""


class SwitchError(OpsError):
    """The switch failed; the stack was put back on the volume it used before."""


class DeployError(OpsError):
    """A deploy step failed; the previous release keeps (or is put back to) serving."""


class Stale(OpsError):
    """Evidence of recoverability is too old (a backup, an offsite copy, a drill) or the last deploy
    failed without a later success; the message names what, its age, the limit and the fix."""
