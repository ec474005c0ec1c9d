"""The suite's error tree: every failure a procedure raises is an OpsError."""


class OpsError(Exception):
    """Base of every error a procedure raises on purpose."""


class ConfigError(OpsError):
    """A setting is missing or invalid; the message names the setting and the fix."""


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
