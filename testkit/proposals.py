"""Settle a proposed ops config as an operator does: only the lines discovery marked as guesses."""

import re
from pathlib import Path

from example import offsite_standin
from procedures.load import load_config
from procedures.context import prepared_context

from .disposable import DisposableStack
from .ops_run import passed, run_check


def settle(proposal: Path, settled_guesses: dict[str, str], extra_compose_files: list[Path]) -> Path:
    """Write ops.toml beside the proposal with each guessed setting in settled_guesses replaced (a
    setting not marked as a guess fails the test) and extra_compose_files added (a test host's
    offsite stand-in: on a real host, a real rclone remote needs no compose file)."""
    lines = []
    for line in proposal.read_text().splitlines():
        key = line.split(" =", 1)[0]
        if key in settled_guesses:
            assert "# GUESS:" in line, f"{key} is not marked as a guess in the proposal: {line}"
            line = f"{key} = {settled_guesses[key]}"
        elif key == "compose_files":
            added = "".join(f', "{path}"' for path in extra_compose_files)
            line = re.sub(r"\]$", f"{added}]", line)
        lines.append(line)
    settled = proposal.with_name("ops.toml")
    settled.write_text("\n".join(lines) + "\n")
    return settled


def adopted_config(files: list[Path], project: str, reports: Path, settle_proposal) -> Path:
    """Run discovery on a host's compose files (the ops check, as an operator does) and settle its
    proposal with settle_proposal; returns the settled config's path."""
    done, report = run_check(None, reports, "discover", *(f"--compose-file={f}" for f in files),
                             f"--project={project}")
    passed(done)
    return settle_proposal(report.with_suffix(".ops.toml"))


def adopted_stack(host, reports: Path, settle_proposal, serving_tag: str, password: str = ""):
    """The ops config discovery proposes for a seed host, settled at its guesses, as a stack the checks
    run against; its offsite remote pointed at the host's stand-in."""
    config_path = adopted_config(host.files, host.project, reports, settle_proposal)
    config = load_config(config_path)
    offsite_standin.configure(prepared_context(config, serving_tag), host.offsite_password, host.crypt_password)
    return DisposableStack(prepared_context(config), config_path, password=password)
