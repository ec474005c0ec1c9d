"""Demo only: give a freshly installed example stack some data, as its users would (through the proxy).

A backup and restore drill of an empty database would prove little, and the drill's sample
queries (ops.toml [restore] sample_queries) rightly fail on empty tables.
"""

import sys
from pathlib import Path

import httpx

from procedures.load import load_config

NOTES = ["Valuation report for assignment ZO-1001", "Site visit scheduled", "Invoice 2026-118 sent"]


def seed(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for body in NOTES:
            client.post("/notes", json={"body": body}).raise_for_status()
        client.put("/uploads/ZO-1001-report.txt", content=b"final report, page 1\n").raise_for_status()


if __name__ == "__main__":
    config = load_config(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("ops.toml"))
    seed(config.http.base_url)
    print(f"seeded {len(NOTES)} notes and one upload into {config.stack.project}")
