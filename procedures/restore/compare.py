"""Compare a restored copy with the manifest of the backup it came from."""


def compare_counts(manifest: dict, restored: dict[str, int]) -> list[dict]:
    """Per-table rows: manifest vs restore, every table of either side."""
    expected = manifest["row_counts"]
    return [{"table": t, "manifest": expected.get(t), "restored": restored.get(t),
             "match": expected.get(t) == restored.get(t)} for t in sorted(set(expected) | set(restored))]


def run_samples(server, queries: tuple[str, ...]) -> list[dict]:
    """How many rows each configured sample query returns from the restored copy."""
    return [{"query": q, "rows": len([line for line in server.query(q).splitlines() if line])} for q in queries]
