"""Static proof, beside the runtime guard: no code path of the suite spells a volume removal.

Two scans. The first greps product code for the docker SDK's removals and the old literal
spellings. The second reads every argv the code could build from pieces (list and tuple literals,
`+` chains, a call's arguments, a list grown by append/extend/+= in one function, strings split on
whitespace, shell scripts) through the runtime guard's own reader, procedures.guards.volume_removal.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

from procedures.guards import volume_removal

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = [
    re.compile(r"volumes?\.(remove|prune)\("),      # docker SDK
    re.compile(r"\.remove\(\s*v\s*=\s*True"),        # container.remove(v=True)
    re.compile(r"[\"']--volumes[\"']"),
    re.compile(r"[\"']down[\"']\s*,\s*[\"']-v[\"']"),
    re.compile(r"[\"']volume[\"']\s*,\s*[\"'](rm|remove|prune)[\"']"),
]
# guards.py spells the forbidden commands in order to refuse them.
NOT_SCANNED = {"procedures/guards.py"}


def product_sources():
    files = [ROOT / "conftest.py", *sorted((ROOT / "procedures").rglob("*.py")),
             *sorted((ROOT / "runbook_plugin").rglob("*.py")), *sorted((ROOT / "ops_checks").rglob("*.py"))]
    return [f for f in files if f.name != "guards.py"]  # guards.py names them in order to refuse them


def python_sources():
    """Everything that runs commands: the product, its checks, the test kit and the bench."""
    files = [ROOT / "conftest.py"]
    for folder in ("procedures", "ops_checks", "runbook_plugin", "testkit", "bench"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if str(f.relative_to(ROOT)) not in NOT_SCANNED]


def shell_sources():
    return [f for folder in ("scripts", "deploy") for f in sorted((ROOT / folder).rglob("*")) if f.is_file()]


def test_sources_were_found():
    assert len(product_sources()) > 10
    assert len(python_sources()) > len(product_sources())
    assert any(f.suffix == ".sh" for f in shell_sources())


# The one exemption: the restore drill's throwaway volumes, whose removal the runner's guard allows
# only for the reserved prefix (tests/unit/test_guards.py proves the refusal of every other name).
EXEMPT = re.compile(r"def remove_throwaway_volume\(.*?(?=\n\n\ndef |\Z)", re.S)
# Read by the piece scan as (file, function). The second is text, never run: the clean-up line a
# kept drill server shows the operator, for its own throwaway (reserved-prefix) volume. The third
# is the fault matrix's list of spellings the guard must refuse (tests/stack/test_backup_faults.py
# runs each through the runner and asserts the refusal and that no volume went).
ALLOWED = {("procedures/commands/docker.py", "remove_throwaway_volume"),
           ("procedures/commands/docker.py", "throwaway_cleanup_hint"),
           ("testkit/faults.py", "volume_removal_spellings")}


def test_the_only_volume_removal_is_the_guarded_throwaway_one():
    text = (ROOT / "procedures" / "commands" / "docker.py").read_text()
    assert len(EXEMPT.findall(text)) == 1
    assert "THROWAWAY_VOLUME_PREFIX" in (ROOT / "procedures" / "restore" / "throwaway.py").read_text()
    for path, function in ALLOWED:
        tree = ast.parse((ROOT / path).read_text())
        assert function in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("path", product_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_volume_removal(path):
    text = EXEMPT.sub("", path.read_text())
    for pattern in FORBIDDEN:
        assert not pattern.search(text), f"{path}: matches {pattern.pattern}"


# --- argv built from pieces ---------------------------------------------------------------------

HOLE = "{?}"  # a word the scan cannot know (a variable, a call's result)


class Pieces(ast.NodeVisitor):
    """Every word sequence a module could turn into an argv: (function, line, words, from_prose).

    A word is a string, or None where the value is unknown. Strings (from_prose) are read only from
    a program's name on; list pieces are also read as if `docker` or `docker compose` came first.
    """

    def __init__(self, constants: dict):
        self.constants = constants
        self.function = None
        self.found = []
        self.grown = {}  # (function, variable) -> [line, words]

    def word(self, node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) or isinstance(node, ast.Attribute) and node.attr.isupper():
            value = self.constants.get(node.id if isinstance(node, ast.Name) else node.attr)
            return value if isinstance(value, str) else None
        if isinstance(node, ast.JoinedStr):
            return "".join(self.word(v) or HOLE for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.word(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and not self.is_sequence(node):
            return (self.word(node.left) or HOLE) + (self.word(node.right) or HOLE)
        return None

    def is_sequence(self, node) -> bool:
        if isinstance(node, (ast.List, ast.Tuple)):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.is_sequence(node.left) or self.is_sequence(node.right)
        return isinstance(node, ast.Name) and isinstance(self.constants.get(node.id), list)

    def words(self, node) -> list:
        if isinstance(node, (ast.List, ast.Tuple)):
            return [w for e in node.elts for w in self.words_of_element(e)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and self.is_sequence(node):
            return self.words(node.left) + self.words(node.right)
        if isinstance(node, ast.Name) and isinstance(self.constants.get(node.id), list):
            return list(self.constants[node.id])
        return [None]

    def words_of_element(self, node) -> list:
        return self.words(node.value) if isinstance(node, ast.Starred) else [self.word(node)]

    def add(self, node, words, from_prose=False):
        if any(w is not None for w in words):
            self.found.append((self.function, node.lineno, words, from_prose))

    def grow(self, name: str, node, words):
        self.grown.setdefault((self.function, name), [node.lineno, []])[1].extend(words)

    def visit_FunctionDef(self, node):
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Expr(self, node):
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):  # docstrings
            self.generic_visit(node)

    def visit_List(self, node):
        self.add(node, self.words(node))
        self.generic_visit(node)

    visit_Tuple = visit_List

    def visit_BinOp(self, node):
        if self.is_sequence(node):
            self.add(node, self.words(node))
        elif (text := self.word(node)) is not None:
            self.add(node, text.split(), from_prose=True)
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            self.add(node, node.value.split(), from_prose=True)

    def visit_JoinedStr(self, node):
        self.add(node, self.word(node).split(), from_prose=True)

    def visit_Call(self, node):
        self.add(node, [w for a in node.args for w in self.words_of_element(a)])
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and node.args:
            if func.attr in ("append", "insert"):
                self.grow(func.value.id, node, [self.word(node.args[-1])])
            elif func.attr == "extend":
                self.grow(func.value.id, node, self.words(node.args[0]))
        self.generic_visit(node)

    def visit_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and self.is_sequence(node.value):
            self.grow(node.targets[0].id, node, self.words(node.value))
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add) and self.is_sequence(node.value):
            self.grow(node.target.id, node, self.words(node.value))
        self.generic_visit(node)

    def pieces(self):
        grown = [(function, line, words, False) for (function, _), (line, words) in self.grown.items()]
        return self.found + grown


def constants(tree) -> dict:
    """Names bound to a string or to a literal sequence of them, anywhere in the module."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[target.id] = value.value
                elif isinstance(target, ast.Name) and isinstance(value, (ast.List, ast.Tuple)):
                    words = Pieces({}).words(value)
                    if all(isinstance(w, str) for w in words):
                        found[target.id] = words
    return found


def readings(words: list, from_prose: bool):
    """Each argv a piece could be part of: from each word on, unknown words kept or left out,
    and (for list pieces) also with `docker` or `docker compose` in front."""
    for kept in ([HOLE if w is None else w for w in words], [w for w in words if w is not None]):
        for i, word in enumerate(kept):
            if word.startswith("-") or word == HOLE:
                continue
            yield kept[i:]
            if not from_prose:
                yield ["docker", *kept[i:]]
                yield ["docker", "compose", *kept[i:]]


def volume_removals_in(path: Path, root: Path = ROOT, shared: dict | None = None) -> list[str]:
    """Each piece of a Python module that the runtime guard would refuse, as 'file:line: argv: why'."""
    tree = ast.parse(path.read_text(), str(path))
    visitor = Pieces({**(shared or {}), **constants(tree)})
    visitor.visit(tree)
    relative = str(path.relative_to(root))
    hits = []
    for function, line, words, from_prose in visitor.pieces():
        if (relative, function) in ALLOWED:
            continue
        words = [None if w == HOLE else w for w in words]
        for argv in readings(words, from_prose):
            if reason := volume_removal(argv):
                hits.append(f"{relative}:{line}: {' '.join(argv)}: {reason}")
                break
    return hits


def shell_volume_removals_in(path: Path, root: Path = ROOT) -> list[str]:
    """A shell script or unit file is read as `sh -c` would read it, through the same guard."""
    reason = volume_removal(["sh", "-c", path.read_text(errors="replace")])
    return [f"{path.relative_to(root)}: {reason}"] if reason else []


def shared_constants() -> dict:
    """Constants of every scanned module, so one imported from another module is still known."""
    found = {}
    for path in python_sources():
        found.update({k: v for k, v in constants(ast.parse(path.read_text())).items() if k.isupper()})
    return found


SHARED = shared_constants()


@pytest.mark.parametrize("path", python_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_argv_built_from_pieces_removes_a_volume(path):
    hits = volume_removals_in(path, shared=SHARED)
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("path", shell_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_script_removes_a_volume(path):
    hits = shell_volume_removals_in(path)
    assert not hits, "\n".join(hits)


PLANTED = '''
VOLUMES_FLAG = "-v"
RENEW = ("up", "-V")


def star(x):
    return ["docker", "volume", *x, "rm"]


def plus(stack, files):
    argv = ["docker", "compose"] + files + ["down", "-v"]
    return argv


def one_literal(files):
    return [*files, "down", "--remove-orphans", "--volumes"]


def named_flag(stack):
    return compose(stack, "down", VOLUMES_FLAG)


def grown(stack, services):
    flags = ["rm", "--force"]
    flags.append(VOLUMES_FLAG)
    return compose(stack, *flags, *services)


def extended(stack):
    argv = ["docker", "compose", "--project-name", stack.project]
    argv += ["--file", stack.file]
    argv.extend(RENEW)
    return argv


def joined(name):
    return f"docker volume rm {name}".split()


def added(name):
    return ("sudo /usr/bin/docker --context " + name + " volume prune -f").split()


def system(everything):
    return ["docker", "system", "prune", "--force", "--volumes=" + everything]


def container(name):
    return ["docker", "container", "rm", "-fv", name]


def remove_throwaway_volume(name):
    return ["docker", "volume", "rm", name]
'''

HARMLESS = '''
def down(stack):
    """Never `docker compose down -v`: volumes stay."""
    return compose(stack, "down", "--remove-orphans")


def run_once(stack, service, command):
    argv = ["run", "--rm", "--no-TTY", "--volume", "x:/x"]
    argv.append(service)
    return compose(stack, *argv, *(command or []))


def remove(paths):
    return ["rm", "-f", "--", *paths]


def throwaway_server(name):
    return ["docker", "volume", "create", name], ["docker", "rm", "--force", name]
'''


def test_the_scan_finds_argv_built_from_pieces(tmp_path):
    module = tmp_path / "planted.py"
    module.write_text(PLANTED)
    hits = volume_removals_in(module, root=tmp_path)
    tree = ast.parse(PLANTED)
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        lines = range(function.lineno, function.end_lineno + 1)
        assert any(int(hit.split(":")[1]) in lines for hit in hits), f"{function.name} was not found:\n" + "\n".join(hits)


def test_the_scan_passes_harmless_pieces(tmp_path):
    module = tmp_path / "harmless.py"
    module.write_text(HARMLESS)
    assert volume_removals_in(module, root=tmp_path) == []


def test_the_scan_reads_shell_scripts(tmp_path):
    script = tmp_path / "cleanup.sh"
    script.write_text(textwrap.dedent("""\
        #!/bin/sh
        set -eu
        docker volume ls  # docker volume rm x would be refused here, but this is a comment
        if docker info >/dev/null 2>&1; then
          sudo -E docker compose \\
            --project-name zen down --volumes
        fi
        """))
    assert len(shell_volume_removals_in(script, root=tmp_path)) == 1
    script.write_text("#!/bin/sh\ndocker volume ls  # docker volume rm x is only a comment\n")
    assert shell_volume_removals_in(script, root=tmp_path) == []
