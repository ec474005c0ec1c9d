"""Helpers of scripts/public_apps/fastapi-template.sh (not part of CI).

    patch REPORT_JSON COMPOSE_FILE ENV_FILE   apply the Traefik patch a deploy report proposes ("Issues found")
    traefik-flag REPORT_JSON TRAEFIK_COMPOSE  add the Traefik command flag that patch names (exit 1: none named)
    figures STATE_DIR RUNS_DIR                print the run's figures from the ledger and the load records
"""

import json
import re
import sys
from datetime import datetime
from pathlib import Path

PATCH = re.compile(r"in (\S+), under services\.([\w.-]+)\.labels add ((?:`[^`]+`\s*)+)")
FLAG = re.compile(r"start Traefik with `(--[^`=]+=[^`]+)`")


def patch(report: str, compose_file: str, env_file: str) -> None:
    """Each proposed label replaces the line of the same key (keys in the file may name ${STACK_NAME...})
    or is added after the service's last label."""
    issues = " ".join(json.loads(Path(report).read_text()).get("issues_found") or [])
    found = PATCH.search(issues)
    if not found:
        print("no Traefik patch proposed: nothing to apply")
        return
    service, labels = found[2], re.findall(r"`([^`]+)`", found[3])
    env = dict(line.split("=", 1) for line in Path(env_file).read_text().splitlines() if "=" in line and not line.startswith("#"))
    proposed = dict(label.split("=", 1) for label in labels)
    lines = Path(compose_file).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip() == f"  {service}:")
    last_label = None
    for i in range(start + 1, len(lines)):
        if re.match(r"^  \S", lines[i]):
            break
        item = re.match(r"^(\s+)- (traefik\.[^=]+)=(.*)$", lines[i])
        if item:
            key = re.sub(r"\$\{(\w+)[^}]*\}", lambda m: env.get(m[1], "").strip('"'), item[2])
            if key in proposed:
                lines[i] = f"{item[1]}- {key}={proposed.pop(key)}"
            last_label = i
    indent = re.match(r"^(\s+)", lines[last_label])[1]
    lines[last_label + 1:last_label + 1] = [f"{indent}- {k}={v}" for k, v in proposed.items()]
    Path(compose_file).write_text("\n".join(lines) + "\n")
    print(f"applied to {compose_file} (service {service}): " + " ".join(labels))


def traefik_flag(report: str, compose_file: str) -> None:
    """The flag goes after the `--providers.docker` item of the Traefik compose file's command list."""
    issues = " ".join(json.loads(Path(report).read_text()).get("issues_found") or [])
    found = FLAG.search(issues)
    text = Path(compose_file).read_text()
    if not found or found[1] in text:
        print("no Traefik command flag proposed (or already there)")
        sys.exit(1)
    item = re.search(r"^(\s+)- --providers\.docker\s*$", text, re.M)
    text = text[:item.end()] + f"\n{item[1]}- {found[1]}" + text[item.end():]
    Path(compose_file).write_text(text)
    print(f"applied to {compose_file}: {found[1]}")


def _wall(entry: dict) -> float | None:
    if not entry.get("started_at"):
        return None
    return (datetime.fromisoformat(entry["recorded_at"]) - datetime.fromisoformat(entry["started_at"])).total_seconds()


def _at(seconds: float) -> str:
    return datetime.utcfromtimestamp(seconds).strftime("%H:%M:%S.%f")[:-3]


def _grouped(failed: list[dict]) -> str:
    """Runs of one status in time order: `38 x 502 06:05:14.357-06:05:16.160`."""
    runs: list[list[dict]] = []
    for f in sorted(failed, key=lambda f: f["at"]):
        if runs and runs[-1][0]["status"] == f["status"]:
            runs[-1].append(f)
        else:
            runs.append([f])
    return ", ".join(f"{len(r)} x {r[0]['status']} {_at(r[0]['at'])}" + (f"-{_at(r[-1]['at'])}" if len(r) > 1 else "")
                     for r in runs)


def figures(state_dir: str, runs_dir: str) -> None:
    ledger = [json.loads(line) for line in next(Path(state_dir).glob("*/releases.jsonl")).read_text().splitlines()]
    print("| action | tag | outcome | switch | wall s | backup + rehearsal + migrate + 20 s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for entry in ledger:
        timings = entry.get("timings") or {}
        budget = sum(timings.get(k) or 0 for k in ("backup", "rollback_check", "migrate")) + 20
        how = ", ".join(s.get("how", "") for s in (entry.get("switch") or {}).get("services", []))
        wall = _wall(entry)
        print(f"| {entry['action']} | {entry['tag']} | {entry.get('outcome')} | {how} | {wall if wall is not None else ''} | "
              f"{round(budget, 1) if entry['action'] == 'deploy' else ''} |")
    print()
    print("| load record | check rc | requests while it ran | failed | failures (status @ UTC) | slowest answer s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in sorted(Path(runs_dir).glob("*.json"), key=lambda p: p.stat().st_mtime):
        record = json.loads(path.read_text())
        failures = _grouped(record["failed"])
        print(f"| {path.stem} | {record['rc']} | {record['requests_during_check']} | {record['failed_during_check']} | "
              f"{failures or 'none'} | {round(record['summary']['max_ms'] / 1000, 1)} |")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"patch": patch, "traefik-flag": traefik_flag, "figures": figures}[command](*args)
