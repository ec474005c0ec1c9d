"""Who runs an operation: the person behind `sudo` (SUDO_USER), else the login name (LOGNAME), else the
process's user. Under `sudo` the process's user is always root, which names nobody."""

import getpass
import os
from collections.abc import Mapping


def operator_name(environ: Mapping[str, str] | None = None) -> str:
    """SUDO_USER, else LOGNAME, else getpass.getuser(); an empty variable counts as unset."""
    environ = os.environ if environ is None else environ
    for variable in ("SUDO_USER", "LOGNAME"):
        if environ.get(variable, "").strip():
            return environ[variable].strip()
    return getpass.getuser()
