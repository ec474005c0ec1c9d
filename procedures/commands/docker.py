"""argv builders for plain `docker` commands."""

import shlex


def version_json() -> list[str]:
    return ["docker", "version", "--format", "{{json .}}"]


def compose_version() -> list[str]:
    return ["docker", "compose", "version", "--short"]


def volume_inspect(name: str) -> list[str]:
    return ["docker", "volume", "inspect", name]


def volume_create(name: str, labels: dict[str, str]) -> list[str]:
    argv = ["docker", "volume", "create"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    return argv + [name]


def image_inspect(ref: str) -> list[str]:
    return ["docker", "image", "inspect", ref]


def container_inspect(ref: str) -> list[str]:
    """The engine's whole document of one container, as JSON (a list of one)."""
    return ["docker", "inspect", "--type", "container", ref]


def tag_image(source: str, target: str) -> list[str]:
    """Give an image one more name (the image and its other names stay as they are)."""
    return ["docker", "tag", source, target]


def docker_root_dir() -> list[str]:
    return ["docker", "info", "--format", "{{.DockerRootDir}}"]


def service_containers(project: str, service: str, *, stopped_too: bool = False) -> list[str]:
    """IDs of the running containers of one compose service, or of all of them with stopped_too (works
    without rendering compose)."""
    return ["docker", "ps", *(["--all"] if stopped_too else []), "--quiet",
            "--filter", f"label=com.docker.compose.project={project}",
            "--filter", f"label=com.docker.compose.service={service}",
            "--filter", "label=com.docker.compose.oneoff=False"]


def container_logs(container: str, tail: int = 60) -> list[str]:
    return ["docker", "logs", "--tail", str(tail), container]


def exec_in(container: str, argv: list[str], env_names: list[str] | None = None) -> list[str]:
    """Run argv in a running container with stdin attached; env values are inherited by name."""
    flags = ["docker", "exec", "--interactive"]
    for name in env_names or []:
        flags += ["--env", name]
    return flags + [container, *argv]


def run_healthcheck(container: str, test: list[str]) -> list[str]:
    """Run a healthcheck's test in the container now, as the engine would at its next interval:
    ["CMD", argv...] is run as it is, ["CMD-SHELL", text] through the container's /bin/sh."""
    kind, *rest = test
    argv = ["/bin/sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest
    return ["docker", "exec", container, *argv]


def remove_container(name: str) -> list[str]:
    """Force-remove a container; never its volumes (no -v)."""
    return ["docker", "rm", "--force", name]


def project_containers(project: str) -> list[str]:
    """Every container of a compose project, running or not, one JSON object per line."""
    return ["docker", "ps", "--all", "--filter", f"label=com.docker.compose.project={project}",
            "--format", "{{json .}}"]


def directory_containers(directory: str) -> list[str]:
    """Every container compose started from a project directory, under whatever project name, one JSON
    object per line."""
    return ["docker", "ps", "--all", "--filter", f"label=com.docker.compose.project.working_dir={directory}",
            "--format", "{{json .}}"]


def keyed_volumes(key: str) -> list[str]:
    """The volumes compose created for a volume key (`postgres_data`) in any project, one JSON object per line."""
    return ["docker", "volume", "ls", "--filter", f"label=com.docker.compose.volume={key}", "--format", "{{json .}}"]


def project_volumes(project: str) -> list[str]:
    """The volumes compose created for a project, one JSON object per line."""
    return ["docker", "volume", "ls", "--filter", f"label=com.docker.compose.project={project}",
            "--format", "{{json .}}"]


def suite_volumes(project: str) -> list[str]:
    """The volumes the suite created for a project (external ones: backups, uploads, ...), one JSON object per line."""
    return ["docker", "volume", "ls", "--filter", f"label=io.opsuite.project={project}", "--format", "{{json .}}"]


def project_networks(project: str) -> list[str]:
    return ["docker", "network", "ls", "--filter", f"label=com.docker.compose.project={project}",
            "--format", "{{json .}}"]


def container_names(prefix: str) -> list[str]:
    return ["docker", "ps", "--all", "--filter", f"name=^{prefix}", "--format", "{{.Names}}"]


# Where an isolated restore server sees the backups volume (read-only).
BACKUPS_MOUNT = "/backups"


def run_isolated_postgres(name: str, image: str, data_volume: str, data_path: str, backups_volume: str,
                          env_names: list[str], labels: dict[str, str]) -> list[str]:
    """A detached Postgres with no network at all, its own data volume, the backups read-only."""
    argv = ["docker", "run", "--detach", "--name", name, "--network", "none",
            "--mount", f"type=volume,src={data_volume},dst={data_path}",
            "--mount", f"type=volume,src={backups_volume},dst={BACKUPS_MOUNT},readonly"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    for env in env_names:
        argv += ["--env", env]
    return argv + [image]


def remove_throwaway_volume(name: str) -> list[str]:
    """Remove a restore-drill volume; the guard refuses any name without the reserved prefix."""
    return ["docker", "volume", "rm", name]


def throwaway_cleanup_hint(container: str, volume: str) -> str:
    """The line a kept drill server shows the operator to remove it and its throwaway volume."""
    return f"{shlex.join(remove_container(container))} && {shlex.join(remove_throwaway_volume(volume))}"


def run_isolated_idle(name: str, image: str, volume: str, volume_path: str, backups_volume: str,
                      labels: dict[str, str]) -> list[str]:
    """A detached, idle container (commands exec in it) with no network, one volume of its own
    and the backups read-only."""
    argv = ["docker", "run", "--detach", "--name", name, "--network", "none",
            "--mount", f"type=volume,src={volume},dst={volume_path}",
            "--mount", f"type=volume,src={backups_volume},dst={BACKUPS_MOUNT},readonly"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    return argv + [image, "sleep", "infinity"]


def containers_using_volume(name: str, *, running_only: bool = False) -> list[str]:
    """Every container (running or stopped, or only the running ones) that mounts the volume: one name per line."""
    return ["docker", "ps", *([] if running_only else ["--all"]), "--filter", f"volume={name}", "--format",
            "{{.Names}}"]


def stop_container(name: str, seconds: int | None = None) -> list[str]:
    """Stop a container with its image's stop signal (a clean shutdown), killing it after seconds, or
    with None after its own stop grace period (compose's stop_grace_period, else 10 s)."""
    return ["docker", "stop", *(["--time", str(seconds)] if seconds is not None else []), name]


def refuse_new_connections(container: str, port: int, image: str) -> list[str]:
    """In the container's own network namespace (a throwaway of image, with iptables, sharing it), a TCP
    reset for every new connection to port; connections already open, and the app, carry on. Nothing
    outside that namespace changes, and it goes with the container."""
    return ["docker", "run", "--rm", "--pull", "never", "--network", f"container:{container}", "--cap-add",
            "NET_ADMIN", "--entrypoint", "iptables", image, "-I", "INPUT", "-p", "tcp", "--dport", str(port),
            "--syn", "-j", "REJECT", "--reject-with", "tcp-reset"]


# Where a volume is looked into by a throwaway reader.
INSPECTED_VOLUME_MOUNT = "/inspected-volume"


def volume_has_file(image: str, volume: str, path: str) -> list[str]:
    """A throwaway reader (no network, read-only volume and root fs, never pulls) that exits 0 when
    the file path (relative to the volume's root) exists in the volume."""
    return ["docker", "run", "--rm", "--network", "none", "--read-only", "--pull", "never", "--user", "0",
            "--mount", f"type=volume,src={volume},dst={INSPECTED_VOLUME_MOUNT},readonly",
            "--entrypoint", "test", image, "-f", f"{INSPECTED_VOLUME_MOUNT}/{path}"]


def image_has_files(image: str, paths: list[str]) -> list[str]:
    """A throwaway `ls` in image's working directory (no network, read-only, never pulls): prints
    those of paths that exist (and exits 2 when some do not)."""
    return ["docker", "run", "--rm", "--network", "none", "--read-only", "--pull", "never",
            "--entrypoint", "ls", image, "-1d", "--", *paths]


def image_file_text(image: str, path: str) -> list[str]:
    """A throwaway `cat` of one file of the image (no network, read-only, never pulls)."""
    return ["docker", "run", "--rm", "--network", "none", "--read-only", "--pull", "never",
            "--entrypoint", "cat", image, "--", path]


# A request from inside a container (python3 of the suite's backup image): prints one JSON line with
# the status (null when the connection failed) and the body; exits 0 either way. Arguments after the
# method are HEADER=VARIABLE: each header's value is read from the container's environment.
_HTTP_GET = """import json, os, sys, urllib.error, urllib.request
headers = {h: os.environ[v] for h, _, v in (a.partition("=") for a in sys.argv[4:])}
request = urllib.request.Request(sys.argv[1], method=sys.argv[3], headers=headers)
try:
    with urllib.request.urlopen(request, timeout=float(sys.argv[2])) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception as e:
    status, body = None, f"{type(e).__name__}: {e}".encode()
print(json.dumps({"status": status, "body": body.decode("utf-8", "replace")}))
"""


def http_get_from(container: str, url: str, timeout: float, method: str = "GET",
                  header_variables: dict[str, str] | None = None) -> list[str]:
    """A request to url from inside container (a probe on a network the host has no route into);
    header values travel as environment variables of this command, named here, never as arguments."""
    variables = header_variables or {}
    flags = [arg for variable in variables.values() for arg in ("--env", variable)]
    return ["docker", "exec", *flags, container, "python3", "-c", _HTTP_GET, url, str(timeout), method,
            *(f"{header}={variable}" for header, variable in variables.items())]


def remove_network(name: str) -> list[str]:
    return ["docker", "network", "rm", name]


# The label the suite puts on every release image it builds: its project, so pruning lists only those.
RELEASE_LABEL = "io.opsuite.release.project"


def release_images(project: str) -> list[str]:
    """The release images the suite built for a project, one JSON object per line (tag, id, created)."""
    return ["docker", "image", "ls", "--filter", f"label={RELEASE_LABEL}={project}", "--format", "{{json .}}"]


def image_remove(ref: str) -> list[str]:
    """Untag (and delete when no other tag holds it) one image by name; never forced, so an image a
    container still uses stays."""
    return ["docker", "image", "rm", ref]


def network_containers(network: str) -> list[str]:
    """The running containers joined to a network, as JSON: {id: {"Name": ..., ...}}."""
    return ["docker", "network", "inspect", "--format", "{{json .Containers}}", network]
