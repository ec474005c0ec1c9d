"""The images of a running stack built on the server, named by the release they serve.

Compose names an image it builds `<project>-<service>` (its `latest`), or by the file's `image:`, never
by release; the overlay runs `<project>-<service>:TAG` (release/build.py). Taking such a stack over, each
built service's image is given that pinned name at the serving TAG: the image its container runs (the
release that serves, by definition) or ran (a one-off that exited, such as migrate), else the one compose
built for it.
The same image goes on serving, nothing is built, and a later rollback to that TAG needs no build.
"""

from .. import docker_api, runner
from ..commands import docker as docker_cmd
from ..compose_model import built_here, built_on_server, release_image
from ..context import OpsContext
from ..errors import ConfigError
from ..overlay import render_app_model


def _image_id(ref: str) -> str:
    """The image's id, or "" when this host has no image of that name."""
    return ((docker_api.image(ref) or {}).get("Id")) or ""


def _container_image(ctx: OpsContext, service: str) -> str:
    """The id of the image the service's running containers run, else the one its stopped containers ran
    (a one-off such as migrate or prestart, exited); "" when it has no container."""
    project = ctx.config.stack.project
    for stopped_too in (False, True):
        containers = docker_api.service_containers(project, service, stopped_too=stopped_too)
        ids = set(docker_api.container_image_ids(containers))
        if len(ids) > 1:
            raise ConfigError(f"{service}'s containers run {len(ids)} different images, so which one is release "
                              f"{ctx.tag} cannot be told: run one release (`docker compose up -d {service}`), "
                              "then adopt again")
        if ids:
            return ids.pop()
    return ""


def name_serving_images(ctx: OpsContext) -> list[dict]:
    """Give each service built on the server its pinned name at ctx.tag (kept when it exists already);
    ConfigError, naming the build to run, when a serving service has no image here at all."""
    config = ctx.config
    model = render_app_model(config.stack, ctx.tag)
    built = built_here(model) if config.build else built_on_server(model)
    named = []
    for service in built:
        pinned = release_image(config.stack.project, service, ctx.tag)
        if _image_id(pinned):
            named.append({"service": service, "image": pinned, "from": "already named so"})
            continue
        compose_name = model["services"][service].get("image") or f"{config.stack.project}-{service}"
        source, how = _container_image(ctx, service), "the image its container runs (or ran, for a one-off)"
        if not source:
            source, how = _image_id(compose_name), f"the image compose built as {compose_name}"
        if not source:
            if service in config.services.serving:
                raise ConfigError(
                    f"{service} is built on the server, but no container of it runs and compose built no {compose_name} "
                    f"here, so release {ctx.tag} has no image to run as {pinned}: build the release that serves "
                    f"(`docker compose build {service}` in the checkout at {ctx.tag}), then adopt again")
            named.append({"service": service, "image": None, "from": "no image here: the next deploy builds it"})
            continue
        runner.run(docker_cmd.tag_image(source, pinned), limit="command")
        named.append({"service": service, "image": pinned, "from": f"{how} ({source[:19]})"})
    return named
