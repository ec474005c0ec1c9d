"""Where the plugin keeps a session's state (pytest's stash, never module globals)."""

from datetime import datetime
from pathlib import Path

import pytest

OPS_CONFIG = pytest.StashKey[object]()  # the loaded OpsConfig, or the ConfigError it raised
# module path -> its runbook's procedures.execution.Execution: step outcomes, timings and what blocks
EXECUTIONS = pytest.StashKey[dict]()
RECORD = pytest.StashKey[dict]()  # the JSON record's fields and steps
SUMMARY_FACTS = pytest.StashKey[object]()  # summary.SummaryFacts: the readers checks registered
STARTED = pytest.StashKey[datetime]()
TITLE = pytest.StashKey[str]()
WARNINGS = pytest.StashKey[list]()
REFUSED = pytest.StashKey[str]()  # why the run was refused before its first step (config, --tag)  # what the config says every report must warn about
STEP_NUMBER = pytest.StashKey[int]()  # on items: the step's number within its module
BLOCKED = pytest.StashKey[str]()  # on items: "step N (name)" that blocked this step: it did not run
# module path -> the step names its runbook defines for this --mode, read before any selection
DEFINED_STEPS = pytest.StashKey[dict]()
RAN_STEPS = pytest.StashKey[set]()  # (module path, step name) of every step that ran (blocked ones did not)
# Checks that read a stack before any ops config exists for it (they take --compose-file instead).
CONFIG_FREE_CHECKS = {"discover"}


def ops_checks_dir(config) -> Path:
    """ops_checks/ beside pytest.ini (the rootdir), where the runbook checks live."""
    return config.rootpath / "ops_checks"


def reports_dir(rootpath: Path) -> Path:
    """reports/ beside pytest.ini: each check's reports and records, and the history (index.html)."""
    return rootpath / "reports"


def ops_check_names(config) -> list[str]:
    """The ops checks named on the command line (ops_checks/NAME.py), sorted."""
    names = []
    for arg in config.args:
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if path.is_relative_to(ops_checks_dir(config)) and path.suffix == ".py":
            names.append(path.stem)
    return sorted(set(names))


def is_runbook_step(item) -> bool:
    return Path(item.path).is_relative_to(ops_checks_dir(item.config))
