"""argv builders for the benchmarks (pure data, run by procedures.runner like every other command)."""


def pgbench_init(scale: int, user: str, database: str) -> list[str]:
    """pgbench's standard tables at SCALE (1 is about 15 MB on disk), quiet progress."""
    return ["pgbench", "--initialize", f"--scale={scale}", "--quiet", f"--username={user}", database]


def psql_script(user: str, database: str) -> list[str]:
    """psql reading a script on stdin in one session, stopping at the first error."""
    return ["psql", "--quiet", "--set", "ON_ERROR_STOP=1", f"--username={user}", f"--dbname={database}", "--file=-"]


def pgbench_drop(user: str, database: str) -> list[str]:
    """pgbench's own clean-up: drops its four tables."""
    return ["pgbench", "--initialize", "--init-steps=d", "--quiet", f"--username={user}", database]


def create_database(name: str, user: str) -> list[str]:
    return ["createdb", "--host", "127.0.0.1", "--username", user, name]


def drop_database(name: str, user: str) -> list[str]:
    return ["dropdb", "--host", "127.0.0.1", "--username", user, name]


def run_beside(container: str, name: str, image: str, env_names: list[str], argv: list[str]) -> list[str]:
    """A one-off container of image sharing container's network namespace (its 127.0.0.1), given only
    the names of environment variables (their values stay out of argv), removed when it exits."""
    return ["docker", "run", "--rm", "--name", name, f"--network=container:{container}",
            *(f"--env={n}" for n in env_names), image, *argv]
