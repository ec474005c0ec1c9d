"""Which release is serving now: the TAG of the running app container's image."""

from .. import docker_api
from ..context import OpsContext
from ..errors import ConfigError


def running_containers(ctx: OpsContext, service: str) -> list[str]:
    """IDs of the service's running containers (two while a start-first switch runs)."""
    return docker_api.service_containers(ctx.config.stack.project, service)


def _images(containers: list[str]) -> list[str]:
    """The image reference each container was created from, as given (the tag it was deployed by)."""
    return sorted(set(docker_api.image_references(containers)))


def _tags(images: list[str]) -> set[str]:
    return {image.rsplit(":", 1)[1] for image in images if ":" in image.rsplit("/", 1)[-1]}


def running_tag(ctx: OpsContext) -> str:
    """TAG of the running api container; refuses when nothing runs (pass --tag instead)."""
    api = ctx.config.services.app[0]
    images = _images(running_containers(ctx, api))
    tags = _tags(images)
    if len(tags) != 1:
        raise ConfigError(
            f"cannot tell the serving release of {ctx.config.stack.project}/{api} "
            f"(running images: {images or 'none'}); pass --tag=VERSION"
        )
    return tags.pop()


def image_release(ctx: OpsContext) -> dict:
    """The release as the running app containers prove it: one image tag, and the image ids they run."""
    ids = {service: running_containers(ctx, service) for service in ctx.config.services.app}
    containers = [c for found in ids.values() for c in found]
    images = _images(containers)
    tags = _tags(images)
    image_ids = sorted(set(docker_api.container_image_ids(containers)))
    return {"version": tags.pop() if len(tags) == 1 else None,
            "source": "running app containers' image tag (version check by HTTP is off)",
            "images": images, "image_ids": image_ids,
            "missing": sorted(service for service, found in ids.items() if not found)}


def serving_or_none(ctx: OpsContext) -> str | None:
    """The serving TAG, or None when no app container runs (a first install)."""
    try:
        return running_tag(ctx)
    except ConfigError:
        return None


def with_serving_tag(ctx: OpsContext) -> OpsContext:
    """ctx with the TAG in service when none was given: the prod overlay needs one to render."""
    return ctx if ctx.tag else ctx.with_tag(running_tag(ctx))
