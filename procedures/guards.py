"""The one place that refuses what could lose data: commands that remove volumes, and changes to
the live stack made without the operator's CONFIRM=YES."""

from .errors import UnsafeOperation

_VOLUME_FLAGS = {"-v", "--volumes"}
# The restore drill's throwaway volumes are the only volumes this suite may remove. A database
# volume can never carry this prefix (config refuses it), so no path reaches live data.
THROWAWAY_VOLUME_PREFIX = "opsuite-restore-"


def require_confirmation(environ, what: str, command: str) -> None:
    """Refuse, before anything changes, unless CONFIRM=YES is in the environment."""
    if environ.get("CONFIRM") != "YES":
        raise UnsafeOperation(f"refused: {what}. Nothing was changed. To go ahead, set CONFIRM=YES: {command}")


def _compose_subcommand(argv: list[str]) -> tuple[str | None, list[str]]:
    """Find the compose subcommand after global options such as -p/-f/--env-file."""
    takes_value = {"-p", "--project-name", "-f", "--file", "--env-file", "--profile",
                   "--project-directory", "--ansi", "--progress", "--parallel"}
    rest = argv[2:]
    i = 0
    while i < len(rest):
        word = rest[i]
        if word in takes_value:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return word, rest[i + 1:]
    return None, []


def _short_flags(args: list[str]) -> set[str]:
    """Expand bundled short flags (-fsv) so -v hidden in a bundle is still seen."""
    flags = set()
    for arg in args:
        if arg.startswith("--"):
            flags.add(arg.split("=", 1)[0])
        elif arg.startswith("-") and len(arg) > 1:
            flags.update(f"-{letter}" for letter in arg[1:])
    return flags


def refuse_volume_removal(argv: list[str]) -> None:
    """Raise UnsafeOperation for any docker command that can delete a volume's data."""
    if len(argv) < 2 or argv[0] != "docker":
        return
    if argv[1] == "compose":
        sub, args = _compose_subcommand(argv)
        flags = _short_flags(args)
        if sub in {"down", "rm"} and flags & _VOLUME_FLAGS:
            raise UnsafeOperation(
                f"refused: 'docker compose {sub}' with {sorted(flags & _VOLUME_FLAGS)[0]} would "
                "remove volumes, including the database. Stop services with 'docker compose stop' "
                "or 'down' without -v; volumes are never removed by this suite."
            )
        return
    words = argv[1:]
    if words[:2] in (["volume", "rm"], ["volume", "remove"]):
        names = [w for w in words[2:] if not w.startswith("-")]
        if names and len(names) == len(words[2:]) and all(n.startswith(THROWAWAY_VOLUME_PREFIX) for n in names):
            return
    if words[:2] in (["volume", "rm"], ["volume", "remove"], ["volume", "prune"]):
        raise UnsafeOperation(
            "refused: 'docker volume " + words[1] + "' deletes volume data. This suite never "
            "removes volumes; remove a volume by hand only after a verified backup."
        )
    if words[:2] == ["system", "prune"] and "--volumes" in words:
        raise UnsafeOperation("refused: 'docker system prune --volumes' deletes volume data.")
    if words[:1] in (["rm"], ["container"]) and "-v" in _short_flags(words[1:]):
        raise UnsafeOperation(
            "refused: 'docker rm -v' removes the container's volumes; use 'docker rm' without -v."
        )
