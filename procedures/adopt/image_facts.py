"""What the app's images hold, read without starting the app: the framework files in their working
directory, their own environment, and the migration steps their entrypoint script (or the server config
it starts with, such as uwsgi's ini) runs. Only images
already on this host are read (never pulled); a service built on the server that was never built,
or an image without `ls` or `cat`, simply shows nothing."""

import re

from .. import docker_api, runner
from ..commands import docker as docker_cmd
from .frameworks import MARKER_FILES
from .start_migrations import MIGRATION_STEP

# A script, or a server config file the start command loads (uwsgi's ini, supervisord's conf).
_SCRIPT = re.compile(r"(^|/)[\w.-]+(\.sh|-entrypoint|entrypoint|\.ini|\.conf)$")
_VARIABLE = re.compile(r"\$\{?(\w*MIGRAT\w*)", re.I)


def _entrypoint_script(config: dict) -> str | None:
    """The script the image's entrypoint runs (docker-entrypoint.sh, /app/entrypoint), past a tini or sh."""
    argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    return next((a for a in argv if _SCRIPT.search(a)), None)


def _read(image: str) -> dict:
    inspected = docker_api.image(image)
    if inspected is None:
        return {}  # not on this host: a pull is not discovery's to make
    config = inspected.get("Config") or {}
    listed = runner.run(docker_cmd.image_has_files(image, list(MARKER_FILES)), limit="command", check=False)
    facts = {"files": [line.strip() for line in listed.stdout.splitlines() if line.strip()],
             "env": dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item),
             "cmd": list(config.get("Cmd") or [])}
    script = _entrypoint_script(config)
    if script:
        text = runner.run(docker_cmd.image_file_text(image, script), limit="command", check=False).stdout
        steps = [line.strip() for line in text.splitlines()
                 if MIGRATION_STEP.search(line) and not line.strip().startswith(("#", ";"))]
        if steps:
            facts["entrypoint"] = {"script": script, "migrates": steps[:3],
                                   "variables": sorted(set(_VARIABLE.findall(text)))}
    return facts


def read_images(services: dict, names: list[str], project: str | None = None) -> dict[str, dict]:
    """service -> what its image holds: {"files": [...], "env": {...}, "entrypoint"?: {...}}; {} when
    the service has no image on this host. A service built on the server with no `image:` is read under
    the name compose gave its image (`<project>-<service>`). Each image is read once."""
    by_image: dict[str, dict] = {}
    found = {}
    for name in names:
        service = services.get(name) or {}
        image = service.get("image") or (f"{project}-{name}" if project and service.get("build") else None)
        if not image:
            continue
        if image not in by_image:
            by_image[image] = _read(image)
        found[name] = by_image[image]
    return found


def marker_files(images: dict[str, dict]) -> dict[str, list[str]]:
    """service -> the framework marker files found in its image's working directory."""
    return {name: facts.get("files", []) for name, facts in images.items()}
