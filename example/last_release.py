"""Print the TAG to start the example stack at when it is installed but nothing serves (after a reboot or a
plain `docker compose down`): the release its ledger last recorded as serving, 1.0.0 when the ledger has
none. Prints nothing while a release serves. The project and app service come from the config.

    .venv/bin/python -m example.last_release ops.toml
"""

import sys
from pathlib import Path

from procedures import ledger
from procedures.context import prepared_context
from procedures.load import load_config
from procedures.stack.serving import serving_or_none

FIRST_RELEASE = "1.0.0"

if __name__ == "__main__":
    config = load_config(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("ops.toml"))
    if serving_or_none(prepared_context(config)) is None:
        print(ledger.previous_release(config.deploy.state_dir, config.stack.project, None) or FIRST_RELEASE)
