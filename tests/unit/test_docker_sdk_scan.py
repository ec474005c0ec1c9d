"""Source scan: the docker SDK is imported by three product modules only, and they call only reads and exec.

Everything that changes the engine (remove, stop, kill, prune, create) stays an argv run by the runner,
where the volume guard reads it; this scan proves the SDK path cannot bypass that guard.
"""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("procedures", "ops_checks", "runbook_plugin", "opsuite")
# engine_client.py: the one client; docker_api.py: the reads; engine_exec.py: the exec transport.
SDK_MODULES = {"procedures/engine_client.py", "procedures/docker_api.py", "procedures/engine_exec.py"}
SDK_CALLS = {"inspect_container", "inspect_image", "inspect_volume", "inspect_network", "containers", "volumes",
             "networks", "images", "version", "ping", "info", "df", "exec_create", "exec_start", "exec_inspect"}


def product_sources() -> list[Path]:
    return [f for folder in SCANNED for f in sorted((ROOT / folder).rglob("*.py"))]


def imports_docker(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "docker" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "docker":
            return True
    return False


def sdk_calls(tree: ast.AST) -> set[str]:
    """Methods called on the client: every `X.method(...)` where X is the client, i.e. a name bound by
    `lambda api: ...`/`def f(api)`, or a call of `_client()`."""
    client_names = {"api"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            named_client = isinstance(target, ast.Name) and target.id in client_names
            made_client = isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "_client"
            if named_client or made_client:
                found.add(node.func.attr)
    return found


def docker_attributes(tree: ast.AST) -> set[str]:
    """Any `docker.X...` used: the SDK's module-level helpers (docker.from_env, docker.errors, ...)."""
    return {n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "docker"}


def refusals(path: str, source: str) -> list[str]:
    """Why this source breaks the rule; [] when it keeps it."""
    tree = ast.parse(source)
    if not imports_docker(tree):
        return []
    if path not in SDK_MODULES:
        return [f"{path} imports the docker SDK; only {sorted(SDK_MODULES)} may"]
    why = [f"{path} calls the SDK's {name}(): not a read" for name in sorted(sdk_calls(tree) - SDK_CALLS)]
    why += [f"{path} uses docker.{name}: not the client's making or its errors"
            for name in sorted(docker_attributes(tree) - {"from_env", "errors", "APIClient"})]
    why += [f"{path} calls {name}() on some object: only reads are allowed" for name in sorted(
        _method_names(tree) & {"remove", "remove_container", "remove_volume", "remove_network", "remove_image",
                               "stop", "kill", "prune", "prune_volumes", "prune_containers", "prune_images",
                               "prune_networks", "create_container", "create_volume", "create_network", "start",
                               "restart", "pull", "build", "put_archive", "commit", "update_container"})]
    return why


def _method_names(tree: ast.AST) -> set[str]:
    return {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}


def test_sources_were_found():
    paths = {str(f.relative_to(ROOT)) for f in product_sources()}
    assert "procedures/docker_api.py" in paths and len(paths) > 50


def test_only_the_sdk_modules_import_docker_and_they_only_read():
    broken = [why for f in product_sources()
              for why in refusals(str(f.relative_to(ROOT)), f.read_text())]
    assert broken == []


def test_the_reads_module_is_seen_calling_the_sdk():
    """The scan looks at real calls: docker_api's are found (an empty set would prove nothing)."""
    tree = ast.parse((ROOT / "procedures/docker_api.py").read_text())
    assert {"inspect_container", "inspect_volume", "containers"} <= sdk_calls(tree) <= SDK_CALLS


@pytest.mark.parametrize("path, snippet, refused", [
    ("procedures/box.py", "import docker\n", "imports the docker SDK"),
    ("procedures/box.py", "from docker.errors import NotFound\n", "imports the docker SDK"),
    ("procedures/docker_api.py", "import docker\n_client().remove_volume('v')\n", "remove_volume(): not a read"),
    ("procedures/docker_api.py", "import docker\nf = lambda api: api.remove_container('c', v=True)\n",
     "remove_container(): not a read"),
    ("procedures/docker_api.py", "import docker\ndef f(api):\n    api.prune_volumes()\n", "prune_volumes(): not a read"),
    ("procedures/engine_exec.py", "import docker\ndocker.from_env().volumes.get('v').remove()\n", "calls remove()"),
    ("procedures/engine_exec.py", "import docker\nc = docker.from_env().containers.get('c')\nc.stop()\n", "calls stop()"),
    ("procedures/docker_api.py", "import docker\nx = docker.DockerClient()\n", "uses docker.DockerClient"),
])
def test_a_bad_snippet_is_refused(path, snippet, refused):
    assert any(refused in why for why in refusals(path, snippet))


def test_reads_and_exec_pass():
    snippet = ("import docker\nimport docker.errors\n_client().inspect_container('c')\n"
               "g = lambda api: api.exec_start(api.exec_create('c', ['true'])['Id'])\n")
    assert refusals("procedures/engine_exec.py", snippet) == []
