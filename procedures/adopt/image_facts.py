"""What the app's images hold, read without starting the app: which framework files sit in their
working directory. Only images already on this host are read (never pulled); a service built on
the server that was never built, or an image that has no `ls`, simply shows nothing."""

from .. import runner
from ..commands import docker as docker_cmd
from .frameworks import MARKER_FILES


def marker_files(services: dict, names: list[str]) -> dict[str, list[str]]:
    """service -> the framework marker files found in its image's working directory."""
    found: dict[str, list[str]] = {}
    by_image: dict[str, list[str]] = {}
    for name in names:
        image = (services.get(name) or {}).get("image")
        if not image:
            continue
        if image not in by_image:
            if runner.run(docker_cmd.image_id(image), limit="command", check=False).returncode != 0:
                by_image[image] = []  # not on this host: a pull is not discovery's to make
            else:
                done = runner.run(docker_cmd.image_has_files(image, list(MARKER_FILES)), limit="command", check=False)
                by_image[image] = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        found[name] = by_image[image]
    return found
