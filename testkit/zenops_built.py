"""The real Zen Ops' shape, built on the server: the app's own git checkout (tests/fixtures/stacks/
zenops-built with the Zen Ops stand-in's source in backend/), its releases as git tags, and an ops
config with [build] over it. Every image is built from the checkout by the suite; the bases are the
locally built stand-ins (scripts/build-images.sh).
"""

import shutil
import subprocess
from pathlib import Path

from procedures.load import load_config
from procedures.context import prepared_context

from .disposable import DisposableStack
from .seed_host import STACKS, SeedHost, append_env, copy_fixture
from .zenops import STANDIN_IMAGES

IGNORED = ".env\n.env.backend\ndocker-compose.opsuite.yml\n"


def git(app_dir: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(app_dir), "-c", "user.name=Zen Ops", "-c", "user.email=dev@zenops.example.test",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(app_dir: Path, message: str, tag: str | None = None, *, add_all: bool = True) -> str:
    if add_all:
        git(app_dir, "add", "--all")
    git(app_dir, "commit", "--quiet", "--message", message)
    if tag:
        git(app_dir, "tag", tag)
    return git(app_dir, "rev-parse", "HEAD")


def set_release(app_dir: Path, version: str) -> None:
    """What a developer's commit changes between releases here: the version the backend's build ships."""
    dockerfile = app_dir / "backend" / "Dockerfile"
    lines = [f"ARG BUILD_VERSION={version}" if line.startswith("ARG BUILD_VERSION=") else line
             for line in dockerfile.read_text().splitlines()]
    dockerfile.write_text("\n".join(lines) + "\n")


def create(workdir: Path) -> SeedHost:
    """The checkout with tags v1 (1.0.0) and v2 (1.1.0, a migration more), its env files beside it."""
    host = copy_fixture("zenops-built", workdir, "zb", ("docker-compose.yml",), ignore=())
    backend = host.app_dir / "backend"
    shutil.copytree(STACKS / "zenops" / "app", backend, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        "Dockerfile", "__pycache__", "build.json"))
    append_env(host.app_dir / ".env", {**STANDIN_IMAGES, "PROXY_PORT": str(host.port)})
    (host.app_dir / ".gitignore").write_text(IGNORED)
    git(host.app_dir, "init", "--quiet")
    commit(host.app_dir, "Zen Ops 1.0.0", "v1")
    set_release(host.app_dir, "1.1.0")
    commit(host.app_dir, "Zen Ops 1.1.0: note titles", "v2")
    return host


def config(host: SeedHost, workdir: Path, keep_releases: int = 2) -> DisposableStack:
    app, project = host.app_dir, host.project
    path = workdir / "ops.toml"
    path.write_text(f"""
[stack]
project = "{project}"
compose_files = ["{app / 'docker-compose.yml'}"]
overlay = "{app / 'docker-compose.opsuite.yml'}"
environment = "ci"
lock_dir = "{workdir / 'locks'}"
[services]
database = "db"
app = ["api", "email-worker"]
single_instance = ["email-worker"]
proxy = "reverse-proxy"
migrate = "migrate"
[volumes]
database = "{project}_postgres_data"
uploads = "uploads"
backups = "opsuite_backups"
rclone_config = "opsuite_rclone_config"
[http]
base_url = "{host.base_url}"
ready_path = "/readyz"
version_path = ""
ready_timeout_seconds = 60
[offsite]
enabled = false
[deploy]
state_dir = "{workdir / 'state'}"
[[deploy.smoke]]
path = "/readyz"
[build]
repository = "{app}"
keep_releases = {keep_releases}
""")
    return DisposableStack(prepared_context(load_config(path)), path, password="fixture-password")
