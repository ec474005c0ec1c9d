"""The engine seam holds: outside procedures/engines/, no code asks which engine it holds.

Callers reach a database only through the Engine protocol (procedures/engines/__init__.py) and the
RestoreTarget an engine hands back; an engine's own tools, flags and kinds stay inside its package.
Discovery (procedures/adopt/) is the one exception by its job: it decides which engine a stack runs,
from images and environment, and writes that into the proposal.
"""

import ast
import re
from pathlib import Path

import pytest

from procedures.engines import ENGINES, Engine

pytestmark = pytest.mark.unit
ROOT = Path(__file__).parents[2]
CALLERS = [p for folder in ("procedures", "ops_checks", "runbook_plugin") for p in sorted((ROOT / folder).rglob("*.py"))
           if not p.is_relative_to(ROOT / "procedures" / "engines") and not p.is_relative_to(ROOT / "procedures" / "adopt")]
CALLERS.append(ROOT / "conftest.py")
ENGINE_CLASSES = {engine.__name__ for engine in ENGINES.values()}
# Methods an engine keeps to itself: what the protocol offers instead is restore_target and its RestoreTarget.
ENGINE_INTERNALS = {"start_server", "stop_server", "restore_dump", "start_disaster_copy", "create_database",
                    "file_in_volume", "one_time_credentials", "server_image", "server_data_path", "database_service",
                    "database_volume"}
FORBIDDEN_TEXT = [
    (re.compile(r"\.database\.engine\s*(==|!=|\bin\b)"), "compares [database] engine to a kind"),
    (re.compile(r"\bengine\.name\s*(==|!=|\bin\b)"), "compares an engine's name"),
    (re.compile(r"postgresql://"), "writes a Postgres URL (the engine builds its own)"),
]


def _engine_attributes(tree: ast.AST) -> list[tuple[int, str]]:
    """engine.X and ctx.engine.X uses, where X is one of an engine's internals."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_INTERNALS:
            owner = node.value
            named = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if named == "engine":
                found.append((node.lineno, node.attr))
    return found


def _isinstance_of_engines(tree: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance"
            and any(isinstance(n, ast.Name) and n.id in ENGINE_CLASSES for n in ast.walk(node.args[1]))]


@pytest.mark.parametrize("path", CALLERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_caller_asks_which_engine_it_holds(path):
    source = path.read_text()
    tree = ast.parse(source)
    problems = [f"line {line}: engine.{name} is the engine's own" for line, name in _engine_attributes(tree)]
    problems += [f"line {line}: isinstance of an engine class" for line in _isinstance_of_engines(tree)]
    for number, line in enumerate(source.splitlines(), 1):
        problems += [f"line {number}: {why}" for pattern, why in FORBIDDEN_TEXT if pattern.search(line)]
    assert not problems, f"{path.relative_to(ROOT)} reaches past the engine seam: {problems}"


def test_the_seam_scan_finds_what_it_forbids():
    """The scan is not blind: each kind of breach in a sample is found."""
    sample = ast.parse("if ctx.engine.database_service:\n    engine.start_server(1)\nisinstance(e, SqliteInVolume)\n")
    assert sorted(name for _, name in _engine_attributes(sample)) == ["database_service", "start_server"]
    assert _isinstance_of_engines(sample) == [3]
    assert FORBIDDEN_TEXT[0][0].search('if config.database.engine != "sqlite":')


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_offers_the_whole_protocol(name):
    wanted = {n for n in dir(Engine) if not n.startswith("_")} | set(Engine.__annotations__)
    missing = sorted(n for n in wanted if not hasattr(ENGINES[name], n))
    assert not missing, f"engine {name} lacks {missing}"
