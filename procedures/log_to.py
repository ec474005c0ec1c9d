"""Run a command with its output appended to a log opened safely (the cron schedules' logs):

    python -m procedures.log_to /var/log/opsuite-zen-backup.log /bin/bash scripts/run-check.sh backup

cron's own `>> LOG` runs as root and follows a symbolic link planted at LOG (/var/log is writable by
the syslog group on Debian and Ubuntu). Here the log is opened O_NOFOLLOW, must be a regular file
with one link, is kept 0600, and the command runs under umask 077.
"""

import os
import sys

from .private_files import PRIVATE_UMASK, open_private


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m procedures.log_to LOG COMMAND [ARGS...]", file=sys.stderr)
        return 2
    log, command = argv[0], argv[1:]
    os.umask(PRIVATE_UMASK)
    try:
        out = open_private(log, append=True)
    except OSError as e:
        print(f"opsuite: cannot write the log {log}: {e.strerror or e}; the check was not run", file=sys.stderr)
        return 2
    sys.stdout.flush()
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    out.close()
    try:
        os.execvp(command[0], command)
    except OSError as e:
        print(f"opsuite: cannot run {command[0]}: {e.strerror or e}", file=sys.stderr)  # into the log now
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
