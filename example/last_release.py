"""Print the TAG the example stack last served, from its release ledger (1.0.0 when the ledger has none), so
the demo can start a stack that is installed but down (after a reboot or a plain `docker compose down`) at
the release that served, instead of guessing one.

    .venv/bin/python -m example.last_release ops.toml
"""

import sys
from pathlib import Path

from procedures import ledger
from procedures.load import load_config

FIRST_RELEASE = "1.0.0"

if __name__ == "__main__":
    config = load_config(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("ops.toml"))
    print(ledger.last_deployed(config.deploy.state_dir, config.stack.project) or FIRST_RELEASE)
