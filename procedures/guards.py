"""The one place that refuses what could lose data: commands that remove volumes, and changes to
the live stack made without the operator's CONFIRM=YES.

Commands are read by meaning, not by spelling: wrappers (sudo, env, nice, nohup, timeout, sh -c)
and paths are stripped, docker's and compose's global options are skipped, and the subcommand
with its own flags decides.
"""

import posixpath
import shlex

from .errors import UnsafeOperation

# The restore drill's throwaway volumes are the only volumes this suite may remove. A database
# volume can never carry this prefix (config refuses it), so no path reaches live data.
THROWAWAY_VOLUME_PREFIX = "opsuite-restore-"

_RULE = "This suite never removes volumes (procedures/guards.py)"
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}  # what docker's flag parser reads as false


def _table(takes_value: str, switches: str = "") -> dict[str, bool]:
    """An option table: option -> whether it takes a value."""
    return {**{o: False for o in switches.split()}, **{o: True for o in takes_value.split()}}


_DOCKER_GLOBALS = _table(
    "--config -c --context -H --host -l --log-level --tlscacert --tlscert --tlskey",
    "-D --debug --tls --tlsverify -v --version -h --help")
# compose v2 (standalone and as docker's plugin, which also takes docker's globals) and v1.
_COMPOSE_GLOBALS = {**_DOCKER_GLOBALS, **_table(
    "-f --file -p --project-name --project-directory --workdir --env-file --profile --ansi "
    "--parallel --progress",
    "--all-resources --compatibility --dry-run --verbose --no-ansi --skip-hostname-check")}
_COMPOSE_RUN = _table("-e --env --env-from-file -l --label -p --publish -u --user -v --volume -w "
                      "--workdir --name --entrypoint --cap-add --cap-drop --pull")
_WRAPPERS = {
    "sudo": _table("-C --close-from -c --login-class -D --chdir -g --group -h --host -p --prompt "
                   "-R --chroot -r --role -T --command-timeout -t --type -U --other-user -u --user"),
    "env": _table("-u --unset -C --chdir -S --split-string"),
    "nice": _table("-n --adjustment"),
    "nohup": {},
    "timeout": _table("-k --kill-after -s --signal"),
}
_SHELLS = {"sh", "bash", "dash", "ash", "ksh", "zsh"}
_PROGRAMS = {"docker", "docker-compose", *_WRAPPERS, *_SHELLS}


def require_confirmation(environ, what: str, command: str) -> None:
    """Refuse, before anything changes, unless CONFIRM=YES is in the environment."""
    if environ.get("CONFIRM") != "YES":
        raise UnsafeOperation(f"refused: {what}. Nothing was changed. To go ahead, set CONFIRM=YES: {command}")


def _parse(words: list[str], table: dict[str, bool], *, interspersed: bool = False):
    """Options and operands, as getopt/pflag read them: -abc bundles, -ovalue, -o value, -o=value,
    --opt=value, --opt value; '--' ends the options. Without `interspersed`, the first operand
    ends them too. Returns ([(option, value or None)], operands)."""
    found, operands, i = [], [], 0
    while i < len(words):
        word, i = words[i], i + 1
        if word == "--":
            return found, operands + words[i:]
        if word == "-" or not word.startswith("-"):
            operands.append(word)
            if not interspersed:
                return found, operands + words[i:]
        elif word.startswith("--"):
            name, eq, value = word.partition("=")
            if not eq and table.get(name) and i < len(words):
                value, i = words[i], i + 1
            found.append((name, value if eq or table.get(name) else None))
        else:
            letters = word[1:]
            for k, letter in enumerate(letters):
                if letter == "=" and k:  # pflag's -v=false: the value of the letter before
                    found[-1] = (found[-1][0], letters[k + 1:])
                    break
                if table.get(f"-{letter}"):
                    value = letters[k + 1:].removeprefix("=")
                    if not value and i < len(words):
                        value, i = words[i], i + 1
                    found.append((f"-{letter}", value))
                    break
                found.append((f"-{letter}", None))
    return found, operands


def _on(found, *names: str) -> bool:
    """Whether a switch is set: -v, a bundle holding it (-fv), --volumes, --volumes=true."""
    return any(name in names and (value is None or value not in _FALSE) for name, value in found)


def _switches(args: list[str]) -> list:
    """Every switch anywhere in args, bundles spelled out letter by letter (-tv holds -v)."""
    return _parse(args, {}, interspersed=True)[0]


def _unknown(found, table: dict[str, bool], program: str) -> str | None:
    for name, _ in found:
        if name not in table:
            return (f"refused: {program} option {name!r} is not in the guard's table, so the "
                    "subcommand after it cannot be read. Drop it, or add it to the table in "
                    "procedures/guards.py if it is real.")
    return None


def _program(word: str) -> str:
    return posixpath.basename(word)


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name.isidentifier()


def _unwrap(words: list[str]) -> list[str]:
    """The command a chain of wrappers runs: sudo -u x env A=1 nice -n 5 /usr/bin/docker ..."""
    while words and _program(words[0]) in _WRAPPERS:
        wrapper = _program(words[0])
        found, words = _parse(words[1:], _WRAPPERS[wrapper])
        if wrapper == "timeout":
            words = words[1:]  # the duration
        while wrapper in ("sudo", "env") and words and (words[0] == "-" or _is_assignment(words[0])):
            words = words[1:]  # env's '-' (empty environment) and NAME=value assignments
        split = [value for name, value in found if name in ("-S", "--split-string")]
        words = [w for s in split for w in s.split()] + words
    return words


def _shell_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell text, cut at ; & | ( ) ` and line ends (a reading, not a shell)."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars="();<>|&`")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # a quote that spans lines: read the words as they stand
            tokens = line.split()
        command = []
        for token in tokens + [";"]:
            if set(token) <= set("();<>|&`"):
                commands += [command] if command else []
                command = []
            else:
                command.append(token)
    return commands


def _shell(words: list[str]) -> str | None:
    found, operands = _parse(words, _table("-o -O"))
    if not _on(found, "-c") or not operands:
        return None
    for command in _shell_commands(operands[0]):
        for i, word in enumerate(command):  # `if docker ...`, `exec docker ...`, `time docker ...`
            if _program(word) in _PROGRAMS and (reason := _reading(command[i:])):
                return reason
    return None


def _docker(words: list[str]) -> str | None:
    found, rest = _parse(words, _DOCKER_GLOBALS)
    if unknown := _unknown(found, _DOCKER_GLOBALS, "docker global"):
        return unknown
    if not rest:
        return None
    sub, args = rest[0], rest[1:]
    if sub == "compose":
        return _compose(args)
    verb = _parse(args, {})[1][:1]
    if sub == "volume" and verb in (["rm"], ["remove"], ["prune"]):
        return (f"refused: 'docker volume {verb[0]}' deletes volume data. {_RULE}; remove a "
                "volume by hand only after a verified backup.")
    if sub == "system" and verb == ["prune"] and _on(_switches(args), "--volumes"):
        return f"refused: 'docker system prune --volumes' deletes volume data. {_RULE}; prune without --volumes."
    removes_containers = sub == "rm" or (sub == "container" and verb in (["rm"], ["remove"]))
    if removes_containers and _on(_switches(args), "-v", "--volumes"):
        return f"refused: 'docker rm -v' removes the container's volumes. {_RULE}; use 'docker rm' without -v."
    return None


def _compose(words: list[str]) -> str | None:
    found, rest = _parse(words, _COMPOSE_GLOBALS)
    if unknown := _unknown(found, _COMPOSE_GLOBALS, "compose global"):
        return unknown
    if not rest:
        return None
    sub, args = rest[0], rest[1:]
    if sub == "compose":  # the plugin binary, called the way docker calls it
        return _compose(args)
    if sub in ("down", "rm") and _on(_switches(args), "-v", "--volumes"):
        return (f"refused: 'docker compose {sub} -v' would remove volumes, including the database. "
                f"{_RULE}; stop services with 'docker compose stop' or '{sub}' without -v.")
    if sub in ("down", "rm") and _on(found, "-v"):
        return (f"refused: -v on a 'docker compose {sub}' command (before '{sub}' compose reads it "
                f"as --version, after it as --volumes; the guard does not guess). {_RULE}; drop the -v.")
    if sub == "up":
        renew = _switches(args)
    elif sub == "run":
        renew = _parse(args, _COMPOSE_RUN)[0]  # only run's own options: the service's command follows
    else:
        renew = []
    if _on(renew, "-V", "--renew-anon-volumes"):
        return (f"refused: 'docker compose {sub} -V' (--renew-anon-volumes) throws away the data of "
                f"anonymous volumes. {_RULE}; use '{sub}' without -V.")
    return None


def _is_throwaway_removal(argv: list[str]) -> bool:
    """The one exception, in its one spelling: `docker volume rm opsuite-restore-...` (names only)."""
    names = argv[3:]
    return (argv[:2] == ["docker", "volume"] and argv[2:3] in (["rm"], ["remove"]) and bool(names)
            and all(n.startswith(THROWAWAY_VOLUME_PREFIX) for n in names))


def _reading(argv: list[str]) -> str | None:
    words = _unwrap(list(argv))
    program = _program(words[0]) if words else ""
    if program in _SHELLS:
        return _shell(words[1:])
    if program == "docker":
        return _docker(words[1:])
    if program == "docker-compose":
        return _compose(words[1:])
    return None


def volume_removal(argv: list[str]) -> str | None:
    """Why argv would delete volume data (the rule it breaks and the fix), or None if it cannot."""
    return None if _is_throwaway_removal(argv) else _reading(argv)


def refuse_volume_removal(argv: list[str]) -> None:
    """Raise UnsafeOperation for any command that can delete a volume's data, however it is spelled."""
    if reason := volume_removal(argv):
        raise UnsafeOperation(reason)
