"""Run an ops check as users do (a pytest subprocess) against the bench's stack; wall time and JSON record."""

import json
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from procedures import runner
from procedures.errors import OpsError
from testkit.disposable import DisposableStack
from testkit.ops_run import check_argv

ROOT = Path(__file__).resolve().parents[1]


class BenchError(OpsError):
    """A step the benchmark measures failed: its number would mean nothing, so the run stops."""


@dataclass(frozen=True)
class CheckRun:
    seconds: float
    record: dict

    @property
    def step_seconds(self) -> dict[str, float]:
        return {s["step"]: s["seconds"] for s in self.record["steps"]}


def run_check(stack: DisposableStack, check: str, workdir: Path, *args: str,
              env: dict[str, str] | None = None, timeout: float = 3 * 3600) -> CheckRun:
    html = workdir / f"{check}-{uuid4().hex[:8]}.html"
    done = runner.run(check_argv(stack, check, *args, report=html),
                      env=env, cwd=str(ROOT), check=False, timeout=timeout, limit="command")
    if done.returncode != 0:
        tail = "\n".join((done.stdout.strip() + "\n" + done.stderr.strip()).strip().splitlines()[-40:])
        raise BenchError(f"ops_checks/{check}.py failed (exit {done.returncode}); report {html}\n{tail}")
    return CheckRun(done.seconds, json.loads(html.with_suffix(".json").read_text()))
