"""Which release is serving now: the TAG of the running app container's image."""

from . import runner
from .commands import docker as cmd
from .context import OpsContext
from .errors import ConfigError


def running_tag(ctx: OpsContext) -> str:
    """TAG of the running api container; refuses when nothing runs (pass --tag instead)."""
    api = ctx.config.services.app[0]
    containers = runner.run(cmd.service_containers(ctx.config.stack.project, api)).stdout.split()
    images = runner.run(cmd.image_references(containers)).stdout.split() if containers else []
    tags = {image.rsplit(":", 1)[1] for image in images if ":" in image.rsplit("/", 1)[-1]}
    if len(tags) != 1:
        raise ConfigError(
            f"cannot tell the serving release of {ctx.config.stack.project}/{api} "
            f"(running images: {images or 'none'}); pass --tag=VERSION"
        )
    return tags.pop()
