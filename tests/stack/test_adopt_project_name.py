"""An adoption whose config names another compose project than the one the stack runs as is refused
before anything changes (issue 25: a folder-named proposal led adopt to advise install.py, which would
have started an empty database beside the live one)."""

import docker
import pytest

from procedures import ledger, runner
from procedures.adopt import project_check
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig
from procedures.errors import UnsafeOperation
from testkit import disposable
from testkit.ops_run import run_check

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def plain(stack, *args: str) -> None:
    """`docker compose` with the app's own file only, as the stack ran before the suite."""
    cfg = stack.ctx.config.stack
    app_only = StackConfig(cfg.project, (disposable.EXAMPLE / "docker-compose.yml",), cfg.env_file)
    runner.run(compose_cmd.compose(app_only, *args), env={"TAG": "1.0.0"}, timeout=300, limit="command")


def _labelled(kind: str, project: str) -> list[str]:
    client = docker.from_env()
    found = (client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
             if kind == "containers" else
             client.volumes.list(filters={"label": f"com.docker.compose.project={project}"}))
    return sorted(item.name for item in found)


@pytest.mark.fault("adopt with a project name the stack does not run as")
def test_adopt_under_a_project_name_the_stack_does_not_run_as_is_refused(fresh_stack, tmp_path):
    stack = fresh_stack
    plain(stack, "up", "--detach", "--wait", "db")
    wrong = f"{stack.project}x"  # the test prefix kept: whatever went wrong, leftovers are cleaned
    volumes_before = _labelled("volumes", stack.project)

    done, _ = run_check(stack, tmp_path, "adopt", "--tag=1.0.0", f"--project={wrong}", env={"CONFIRM": "YES"})

    assert done.returncode != 0
    out = " ".join(done.stdout.split())
    assert "runs as compose project" in out and f"'{stack.project}' ({stack.project}-db-1" in out, done.stdout[-3000:]
    assert f"but [stack] project = '{wrong}'" in out and "Set [stack] project = " in out
    assert "install.py" not in out, "never a first install over the running stack's data"
    assert _labelled("containers", wrong) == [] and _labelled("volumes", wrong) == [], "nothing under the wrong name"
    assert _labelled("volumes", stack.project) == volumes_before
    assert ledger.releases(stack.ctx.config.deploy.state_dir, wrong) == []
    disposable.destroy_project(wrong)
    # Where adopt would have advised a first install: the volume compose made for the key stops it.
    with pytest.raises(UnsafeOperation, match=rf"volume\(s\) {stack.project}_pgdata \(project {stack.project}\) "
                                              "for its key 'pgdata'.*Never run install.py"):
        project_check.refuse_install_over_data(stack.ctx.config, "pgdata")
