"""argv builders for the benchmarks (pure data, run by procedures.runner like every other command)."""

import sys


def pgbench_init(scale: int, user: str, database: str) -> list[str]:
    """pgbench's standard tables at SCALE (1 is about 15 MB on disk), quiet progress."""
    return ["pgbench", "--initialize", f"--scale={scale}", "--quiet", f"--username={user}", database]


def create_database(name: str, user: str) -> list[str]:
    return ["createdb", "--host", "127.0.0.1", "--username", user, name]


def drop_database(name: str, user: str) -> list[str]:
    return ["dropdb", "--host", "127.0.0.1", "--username", user, name]


def pg_restore(path: str, database: str, user: str, jobs: int) -> list[str]:
    """Plain pg_restore with the drill's flags, so the two differ only by what the drill adds."""
    return ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={jobs}",
            "--host", "127.0.0.1", "--username", user, "--dbname", database, path]


def ops_check(check: str, config_path: str, html: str, *args: str) -> list[str]:
    """An ops check exactly as users run it, against the given stack config, its report in html."""
    return [sys.executable, "-m", "pytest", f"ops_checks/{check}.py", f"--ops-config={config_path}",
            "-p", "no:cacheprovider", f"--html={html}", *args]
