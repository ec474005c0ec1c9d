"""The VOLUME paths declared by the images a rehearsal may run, read with `docker image inspect`
(the engine makes an anonymous volume at each one the compose file leaves unmounted, and no
`down` without -v removes it). An image that is not on the host is skipped: the services a
rehearsal starts run images already here (the serving release's, and the new TAG's, pulled first).
"""


from .. import docker_api


def declared(ref: str) -> tuple[str, ...]:
    """The paths ref declares as VOLUME; none when it declares none or is not on the host."""
    found = docker_api.image(ref)
    return tuple(sorted(((found or {}).get("Config") or {}).get("Volumes") or {}))


def of_services(models: list[dict], extra: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Service -> the paths any of its images declares, over models (one per TAG the rehearsal runs)
    and extra (service -> image: the rehearsal's own services)."""
    images: dict[str, set[str]] = {}
    for model in models:
        for name, service in (model.get("services") or {}).items():
            if service.get("image"):
                images.setdefault(name, set()).add(service["image"])
    for name, image in extra.items():
        images.setdefault(name, set()).add(image)
    paths = {ref: declared(ref) for ref in sorted(set().union(*images.values()))}  # each image read once
    found = {name: tuple(sorted({p for ref in refs for p in paths[ref]})) for name, refs in images.items()}
    return {name: paths for name, paths in found.items() if paths}
