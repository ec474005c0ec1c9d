"""The app's own one-off tasks (a permission fixer, say) that its services depend on with
`condition: service_completed_successfully`: deploy and install switch with `up --no-deps`, so
they run here first, in dependency order, each as `compose run --rm --no-deps`. Migrate is not one
of them: it runs in its own step, after the backup."""

from ..compose_model import one_off_dependencies
from ..context import OpsContext
from ..errors import CommandFailed, DeployError
from .switch import app_services


def pending_one_offs(ctx: OpsContext) -> list[str]:
    """The one-offs the app services and proxy need, migrate aside, in the order they must run."""
    return one_off_dependencies(ctx.compose.rendered(), app_services(ctx), exclude=(ctx.config.services.migrate,))


def run_one_offs(ctx: OpsContext) -> list[dict]:
    """Run each one-off of ctx.tag; each must exit 0, else nothing is switched (DeployError)."""
    results = []
    for name in pending_one_offs(ctx):
        try:
            done = ctx.compose.run_once(name, no_deps=True, limit="one_off")
        except CommandFailed as e:
            raise DeployError(f"one-off task {name} failed (exit {e.returncode}); the app was not switched: "
                              f"{e.reason}\n{e.stderr_tail}") from e
        results.append({"service": name, "exit code": done.returncode, "seconds": round(done.seconds, 2)})
    return results
