"""The results: one summary table (plain text for the terminal, Markdown for files) and the full JSON."""

import json
import statistics
from pathlib import Path

from . import goals


def _met(flag: bool) -> str:
    return "yes" if flag else "NO"


def _load(side: dict) -> str:
    failed = side["failed"]
    return (f"failed {side['failed_median']:g} median ({min(failed)}-{max(failed)}) of "
            f"~{statistics.median(side['requests']):.0f}, max {side['max_ms']:.0f} ms (2xx {side['max_ok_ms']:.0f} ms)")


def _datasets(results: dict) -> list[tuple[str, dict]]:
    """(name, its data/backup/restore) in the order measured."""
    return list(results["datasets"].items())


def _dataset_rows(name: str, measured: dict) -> list[list[str]]:
    b, r, m = measured["backup"], measured["restore"], measured["memory"]
    jobs = ", ".join(f"jobs={j}: {s['median']:.1f}" for j, s in r["raw_by_jobs"].items())
    size = f"{name}, {measured['data']['database_bytes'] / 1e9:.2f} GB"
    return [
        [f"1 backup, {size} (median s)", f"pg_dump -Fc {b['raw_pg_dump_seconds']['median']:.1f}",
         f"backup {b['full_backup_seconds']['median']:.1f}", f"ratio {b['ratio']:.2f}",
         f"<= {b['target_ratio']}", _met(b["met"])],
        [f"2 restore, {size} (median s)", f"pg_restore jobs={r['jobs']} {r['raw_pg_restore_seconds']['median']:.1f}",
         f"drill {r['drill_seconds']['median']:.1f}", f"ratio {r['ratio']:.2f}", f"<= {r['target_ratio']}",
         _met(r["met"])],
        [f"2 pg_restore jobs, {name} (median s)", jobs, "", "", "report", ""],
        [f"4 memory, {size} (peak RSS MB)", "", f"backup {m['backup']['peak_mb']:.0f}, drill {m['restore_drill']['peak_mb']:.0f}",
         f"max {m['peak_mb']:.0f}", f"<= {m['target_mb']}", _met(m["met"])],
    ]


def summary_rows(results: dict) -> list[list[str]]:
    d = results["deploy"]
    return [
        ["measure", "baseline", "runbook", "result", "target", "met"],
        *[row for name, measured in _datasets(results) for row in _dataset_rows(name, measured)],
        [f"3 deploy, {d['rate_per_second']:g} req/s", f"plain up: {_load(d['baseline'])}",
         f"deploy: {_load(d['deploy'])}", f"{len(d['deploy']['runs'])} runs each", "report", ""],
    ]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


def _facts(results: dict) -> str:
    facts = {**results["machine"], **results["settings"]}
    for name, measured in _datasets(results):
        facts.update({f"{name} {key}": value for key, value in measured["data"].items() if key != "dataset"})
        facts[f"{name} dump_bytes"] = measured["backup"]["dump_bytes"]
    return "\n".join(f"- {key}: {value}" for key, value in facts.items())


def _samples(results: dict) -> str:
    d = results["deploy"]
    rows = [["series", "samples"]]
    for name, measured in _datasets(results):
        b, r = measured["backup"], measured["restore"]
        rows += [[f"{name}: raw pg_dump -Fc (s)", b["raw_pg_dump_seconds"]["samples"]],
                 [f"{name}: full backup (s)", b["full_backup_seconds"]["samples"]],
                 *[[f"{name}: raw pg_restore jobs={j} (s)", s["samples"]] for j, s in r["raw_by_jobs"].items()],
                 [f"{name}: restore drill (s)", r["drill_seconds"]["samples"]]]
    rows += [[f"{side}: failed / requests / max ms / max 2xx ms / failure window s / change s",
              [f"{x['failed']}/{x['requests']}/{x['max_ms']:.0f}/{x['max_ok_ms']:.0f}/{x['failure_window_seconds']}/"
               f"{x['change_seconds']}"
               for x in d[side]["runs"]]] for side in ("deploy", "baseline")]
    return markdown_table([[name, ", ".join(map(str, values)) if isinstance(values, list) else values]
                           for name, values in rows])


def _steps(results: dict) -> str:
    m = _datasets(results)[-1][1]["memory"]
    rows = [["where", "seconds"]]
    for name, measured in _datasets(results):
        timings = measured["backup"]["full_backup_step_seconds"]
        rows += [[f"{name}: full backup, timed inside: {k} (median)", f"{statistics.median(t[k] for t in timings):.2f}"]
                 for k in timings[0]]
    rows += [*[[f"ops_checks/{check}.py {step}", f"{s:.2f}"]
               for check in ("backup", "restore_drill") for step, s in m[check]["step_seconds"].items()],
             *[[f"ops_checks/{check}.py wall time (python, pytest, report)", f"{m[check]['seconds']:.2f}"]
               for check in ("backup", "restore_drill")]]
    return markdown_table(rows)


def markdown(results: dict) -> str:
    return "\n\n".join([
        f"# Benchmark results ({results['finished_at']})",
        f"Command: `{results['command']}`",
        markdown_table(summary_rows(results)),
        "## Issue 28's goals (where one is missed, BENCHMARKS.md says what limits it)\n\n"
        + markdown_table(goals.table_rows(results["goals"])),
        "## Machine, data and settings\n\n" + _facts(results),
        "## Samples\n\n" + _samples(results),
        "## Where the runbook's time goes (one run of each check, from the memory section, on the last dataset)\n\n" + _steps(results),
    ]) + "\n"


def write(results: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    as_json, as_md = out / "latest.json", out / "latest.md"
    as_json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    as_md.write_text(markdown(results))
    return as_json, as_md
