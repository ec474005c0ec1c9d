"""argv builders for the faults tests inject (they prove verification catches them)."""


def flip_byte(path: str, offset: int) -> list[str]:
    """Invert one byte in place (fault tests prove verification catches corruption); never a no-op."""
    program = ("import sys; f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); "
               "f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xFF]))")
    return ["python3", "-c", program, path, str(int(offset))]


def volume_removal_spellings(project: str, volume: str) -> list[list[str]]:
    """One spelling per way the volume guard was once bypassed, aimed at a real stack's volume."""
    compose = ["docker", "compose", "--project-name", project]
    return [
        ["docker", "--context", "default", "volume", "rm", volume],
        ["docker", "-H", "unix:///var/run/docker.sock", "volume", "rm", volume],
        [*compose, "--log-level", "debug", "down", "-v"],
        ["docker", "compose", "-p", project, "-v", "down"],
        ["sudo", "docker", "volume", "rm", volume],
        ["env", "A=1", "docker", "volume", "rm", volume],
        ["docker-compose", "-p", project, "down", "-v"],
        ["/usr/bin/docker", "volume", "rm", volume],
        [*compose, "down", "--volumes=true"],
        ["docker", "rm", "--volumes", f"{project}-db-1"],
        [*compose, "up", "-V", "--detach"],
        ["sh", "-c", f"docker volume rm {volume}"],
    ]
