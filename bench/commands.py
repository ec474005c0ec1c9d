"""argv builders for the benchmarks (pure data, run by procedures.runner like every other command)."""


def pgbench_init(scale: int, user: str, database: str) -> list[str]:
    """pgbench's standard tables at SCALE (1 is about 15 MB on disk), quiet progress."""
    return ["pgbench", "--initialize", f"--scale={scale}", "--quiet", f"--username={user}", database]


def create_database(name: str, user: str) -> list[str]:
    return ["createdb", "--host", "127.0.0.1", "--username", user, name]


def drop_database(name: str, user: str) -> list[str]:
    return ["dropdb", "--host", "127.0.0.1", "--username", user, name]
