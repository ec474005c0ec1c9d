"""Opt-in, not CI: adopt the real healthchecks app (Django, Postgres, uwsgi daemons) and run the suite's
whole cycle on it, printing the figures (docs/ADOPTING.md section 8).

    .venv/bin/python scripts/public_apps/healthchecks.py /path/to/healthchecks-checkout [--from STEP]

The checkout (a clone of github.com/healthchecks/healthchecks) is exported, never changed, into WORK/healthchecks
as a git repository of its own with three releases: 1.0.0 (upstream plus the engine-20.10 compatibility
commit), 1.1.0 (an additive migration) and 1.2.0 (a migration that raises). Steps, in order: prepare, images,
plain, seed, discover, front, settle, adopt, health, backup, drill, deploy, rollback, failing, disaster, figures.
Its compose project is $APPA_PROJECT (appa-hc), on 127.0.0.1:$APPA_PORT (18471); it removes no volume, image or network.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from procedures.adopt import proxy_front  # noqa: E402
from testkit.paced_users import PacedUsers  # noqa: E402

PYTHON = sys.executable
PORT = int(os.environ.get("APPA_PORT", "18471"))
PROJECT = os.environ.get("APPA_PROJECT", "appa-hc")  # compose's project name: a new one starts from nothing
READ_PATH = "/api/v3/status/"  # healthchecks' own status endpoint: one SELECT 1 through Django
PY_STANDIN = "opsuite-local/python-standin:3.13-slim-trixie"
STEPS = ["prepare", "images", "plain", "seed", "discover", "front", "settle", "adopt", "health", "backup", "drill",
         "deploy", "rollback", "failing", "disaster", "figures"]
GIT = ["git", "-c", "user.name=opsuite", "-c", "user.email=opsuite@localhost"]


def sh(*argv, cwd=None, env=None, check=True, input_text=None) -> subprocess.CompletedProcess:
    print("+", " ".join(str(a) for a in argv), flush=True)
    return subprocess.run([str(a) for a in argv], cwd=cwd, env={**os.environ, **(env or {})}, check=check,
                          text=True, input=input_text)


def out(*argv, cwd=None) -> str:
    return subprocess.run([str(a) for a in argv], cwd=cwd, check=True, text=True, capture_output=True).stdout


class Run:
    def __init__(self, source: Path, work: Path):
        self.source, self.work = source, work
        self.app = work / "healthchecks"
        self.docker = self.app / "docker"
        self.reports = work / "reports"
        self.config = work / "ops.toml"
        self.figures = work / "figures.json"

    def check(self, name: str, *args, env=None, expect_fail=False) -> Path:
        """`pytest ops_checks/NAME.py` as an operator runs it; returns its JSON record."""
        self.reports.mkdir(parents=True, exist_ok=True)
        report = self.reports / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.html"
        config = [] if name == "discover" else [f"--ops-config={self.config}"]
        done = sh(PYTHON, "-m", "pytest", f"ops_checks/{name}.py", *config, "-p", "no:cacheprovider",
                  f"--html={report}", "-q", *args, cwd=ROOT, env=env, check=False)
        if (done.returncode != 0) != expect_fail:
            sys.exit(f"{name} {'passed' if expect_fail else 'failed'} (exit {done.returncode}): see {report}")
        return report.with_suffix(".json")

    def record(self, key: str, value) -> None:
        figures = json.loads(self.figures.read_text()) if self.figures.exists() else {}
        figures[key] = value
        self.figures.write_text(json.dumps(figures, indent=2))


def prepare(run: Run) -> None:
    """The checkout exported into a repository of its own with the three releases tagged."""
    if run.app.exists():
        print(f"{run.app} exists: kept")
        return
    run.app.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(run.source), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(run.app)], input=archive, check=True)
    upstream = out("git", "-C", run.source, "rev-parse", "--short", "HEAD").strip()
    sh("git", "init", "-q", "-b", "main", cwd=run.app)
    sh("git", "add", "-A", cwd=run.app)
    sh(*GIT, "commit", "-qm", f"healthchecks upstream {upstream}", cwd=run.app)
    # Engine 20.10's Dockerfile front end does not know HEALTHCHECK --start-interval (docs/ADOPTING.md section 8).
    dockerfile = run.docker / "Dockerfile"
    dockerfile.write_text(re.sub(r" --start-interval=\S+", "", dockerfile.read_text()))
    sh(*GIT, "commit", "-qam", "Engine 20.10 compat: no HEALTHCHECK --start-interval", cwd=run.app)
    sh("git", "tag", "1.0.0", cwd=run.app)
    models = run.app / "hc/api/models.py"
    field = "    desc = models.TextField(blank=True)\n"
    models.write_text(models.read_text().replace(field, field + "    ops_note = models.TextField(null=True, blank=True)\n", 1))
    last = sorted(p.stem for p in (run.app / "hc/api/migrations").glob("0*.py"))[-1]
    (run.app / "hc/api/migrations/9001_check_ops_note.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        f"    dependencies = [(\"api\", \"{last}\")]\n\n    operations = [\n"
        "        migrations.AddField(model_name=\"check\", name=\"ops_note\",\n"
        "                            field=models.TextField(blank=True, null=True)),\n    ]\n")
    sh("git", "add", "-A", cwd=run.app)
    sh(*GIT, "commit", "-qm", "1.1.0: a nullable Check.ops_note column (an additive migration)", cwd=run.app)
    sh("git", "tag", "1.1.0", cwd=run.app)
    (run.app / "hc/api/migrations/9002_fails.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [(\"api\", \"9001_check_ops_note\")]\n\n    operations = [\n"
        "        migrations.RunSQL(\"DO $$ BEGIN RAISE EXCEPTION 'a migration that fails on purpose'; END $$;\"),\n"
        "    ]\n")
    sh("git", "add", "-A", cwd=run.app)
    sh(*GIT, "commit", "-qm", "1.2.0: a migration that raises", cwd=run.app)
    sh("git", "tag", "1.2.0", cwd=run.app)
    sh("git", "checkout", "-q", "1.0.0", cwd=run.app)
    # What an operator writes: secrets, the loopback port, the project's name; git never sees them.
    secret = out("openssl", "rand", "-hex", "16").strip()
    (run.docker / ".env").write_text(
        f"COMPOSE_PROJECT_NAME={PROJECT}\nALLOWED_HOSTS=127.0.0.1,localhost\nDB=postgres\nDB_HOST=db\nDB_NAME=hc\n"
        f"DB_PASSWORD=db-{secret}\nDB_USER=postgres\nDEBUG=False\nDEFAULT_FROM_EMAIL=healthchecks@example.org\n"
        f"SECRET_KEY=key-{secret}{secret}\nSITE_ROOT=http://127.0.0.1:{PORT}\nSITE_NAME=Mychecks\n"
        f"PING_ENDPOINT=http://127.0.0.1:{PORT}/ping/\nREGISTRATION_OPEN=True\n"
        f"OFFSITE_PASSWORD=off-{secret}\nOFFSITE_CRYPT_PASSWORD=crypt-{secret}\n")
    (run.docker / "docker-compose.override.yml").write_text(
        f'services:\n  web:\n    ports: !override\n      - "127.0.0.1:{PORT}:8000"\n')
    with open(run.app / ".git/info/exclude", "a") as exclude:
        exclude.write("docker/.env\ndocker/.env.*\ndocker/docker-compose.override.yml\ndocker/docker-compose.opsuite.yml\n")


def images(run: Run) -> None:
    """Stand-ins for the two images the app names and this machine cannot pull (ENVIRONMENT.md)."""
    from_ = out("sed", "-n", r"s/^FROM \([^ ]*\).*/\1/p", run.docker / "Dockerfile").split()
    context = run.work / "python-standin"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", context / "host-ca.crt")
    (context / "Dockerfile").write_text(
        "FROM opsuite-local/debian:trixie\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        "python3 python3-venv python3-dev && rm -rf /var/lib/apt/lists/*\n"
        "COPY host-ca.crt /usr/local/share/pip-ca/ca.crt\n"
        "ENV PIP_CERT=/usr/local/share/pip-ca/ca.crt SSL_CERT_FILE=/usr/local/share/pip-ca/ca.crt "
        "PATH=/usr/local/py/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8\n"
        "RUN python3 -m venv /usr/local/py && /usr/local/py/bin/pip install --no-cache-dir --upgrade pip\n"
        'LABEL opsuite.standin="python:3.x-slim-trixie from Debian trixie python3 3.13"\nCMD ["python3"]\n')
    sh("docker", "build", "-q", "-t", PY_STANDIN, context, env={"DOCKER_BUILDKIT": "0"})
    for name in sorted(set(from_) - {"builder"}):
        sh("docker", "tag", PY_STANDIN, name)
    # postgres:16: no Postgres 16 builds from Debian's mirror; trixie's 17 stands in under the compose file's name.
    sh("docker", "tag", "opsuite-local/postgres-standin:17", "postgres:16")
    # The Caddy discovery proposes in front of web (step front): Debian's caddy under the pinned name.
    sh("docker", "tag", "opsuite-local/caddy-standin:bookworm", proxy_front.CADDY_IMAGE)


def plain(run: Run) -> None:
    """The app as its README runs it: `docker compose up -d --build` in docker/."""
    started = time.monotonic()
    sh("docker", "compose", "up", "-d", "--build", cwd=run.docker)
    wait_ready(f"http://127.0.0.1:{PORT}{READ_PATH}")
    run.record("plain_up_seconds", round(time.monotonic() - started, 1))


def wait_ready(url: str, seconds: float = 300) -> None:
    import httpx
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    sys.exit(f"{url} never answered 200")


SEED = """
from django.contrib.auth.models import User
from hc.accounts.models import Project
from hc.api.models import Check
u, _ = User.objects.get_or_create(username="sentinel", defaults={"email": "sentinel@example.org"})
p, _ = Project.objects.get_or_create(owner=u, name="sentinel")
for i in range(50):
    Check.objects.get_or_create(project=p, name=f"sentinel-{i}")
print("checks", Check.objects.count())
"""


def seed(run: Run) -> None:
    """A user, a project and 50 checks written before adoption: they must be there after every step."""
    sh("docker", "compose", "exec", "-T", "web", "./manage.py", "shell", "-c", SEED, cwd=run.docker)


def sentinel_count(run: Run) -> int:
    text = out("docker", "compose", "exec", "-T", "db", "psql", "-U", "postgres", "-d", "hc", "-Atc",
               "SELECT count(*) FROM api_check WHERE name LIKE 'sentinel-%'", cwd=run.docker)
    return int(text.strip())


def discover(run: Run) -> Path:
    record = run.check("discover", f"--compose-file={run.docker}")
    shutil.copy(record.with_suffix(".ops.toml"), run.work / "proposal.ops.toml")
    return record


def front(run: Run) -> None:
    """The proxy discovery proposed for web (no proxy in front of it), applied as its risk's fix says:
    the file copied into the app's directory, added last to COMPOSE_FILE, `up -d` once, discovered again."""
    reports = sorted(run.reports.glob(f"discover-*.{proxy_front.FILE_NAME}"))
    assert reports, "discovery proposed no proxy in front of web"
    shutil.copy(reports[-1], run.docker / proxy_front.FILE_NAME)
    env = run.docker / ".env"
    if "COMPOSE_FILE=" not in env.read_text():
        with open(env, "a") as out:
            out.write(f"COMPOSE_FILE=docker-compose.yml:docker-compose.override.yml:{proxy_front.FILE_NAME}\n")
    with open(run.app / ".git/info/exclude", "a") as exclude:
        exclude.write(f"docker/{proxy_front.FILE_NAME}\n")
    sh("docker", "compose", "up", "-d", cwd=run.docker)
    wait_ready(f"http://127.0.0.1:{PORT}{READ_PATH}")
    text = discover(run).with_suffix(".html").read_text()
    assert "no reverse proxy in front" not in text, "discovery still finds no proxy in front of web"


# The proposal's guesses an operator settles for healthchecks; every other line stays as proposed.
SETTLED = {
    "environment": '"appa"',
    "ready_path": f'"{READ_PATH}"',
    "version_path": '""',  # healthchecks has no version endpoint: the running images' tag is checked
    "remote": f'"gdrive-crypt:{PROJECT}"',  # the crypt remote over this host's SFTP stand-in for Drive
    "path": f'"{READ_PATH}"',
    "image": '"opsuite-local/backup:pg17"',  # pg_dump at the server's major: the postgres:16 stand-in runs 17
    "sample_queries": '["SELECT name FROM api_check ORDER BY id LIMIT 10", "SELECT username FROM auth_user"]',
}


def settle(run: Run) -> None:
    lines = []
    for line in (run.work / "proposal.ops.toml").read_text().splitlines():
        key = line.split(" =", 1)[0]
        if key in SETTLED:
            assert "# GUESS:" in line, f"{key} is no guess in the proposal: {line}"
            line = f"{key} = {SETTLED[key]}"
        elif key == "compose_files":  # the test host's offsite stand-in (a real remote needs no file)
            line = re.sub(r"\]$", f', "{ROOT / "example/docker-compose.offsite-standin.yml"}"]', line)
        lines.append(line)
    text = "\n".join(lines) + "\n"
    text = text.replace("[stack]\n", f"[stack]\nenv_file = \"{run.docker / '.env'}\"\n", 1)
    run.config.write_text(text)
    print(text)


def adopt(run: Run) -> None:
    before = sentinel_count(run)
    sh(PYTHON, "-c", "import sys; from pathlib import Path; from procedures.load import load_config; "
       "from procedures.context import prepared_context; from example import offsite_standin as o; "
       "from procedures.env_file import env_value; c = load_config(Path(sys.argv[1])); "
       "o.configure(prepared_context(c, '1.0.0'), env_value(c.stack.env_file, 'OFFSITE_PASSWORD'), "
       "env_value(c.stack.env_file, 'OFFSITE_CRYPT_PASSWORD'))", run.config, cwd=ROOT)
    run.check("adopt", "--tag=1.0.0", env={"CONFIRM": "YES"})
    assert sentinel_count(run) == before, "sentinel checks lost by adoption"


def health(run: Run) -> None:
    run.check("stack_health")


def backup(run: Run) -> None:
    run.record("backup", summary(run.check("backup")))


def drill(run: Run) -> None:
    run.record("drill_from_remote", summary(run.check("restore_drill", "--from-remote")))


def under_load(run: Run, name: str, *args, expect_fail=False) -> dict:
    load = PacedUsers(f"http://127.0.0.1:{PORT}{READ_PATH}", users=4, rate=20)
    started = time.monotonic()
    with load:
        record = run.check(name, *args, expect_fail=expect_fail)
    figures = summary(record)
    figures["load"] = load.summary()
    # When each failed request was sent (UTC), to set against the record's steps and the ledger's times.
    figures["failed_at"] = [(time.strftime("%H:%M:%S", time.gmtime(load.started_wall + s.due)), s.status)
                            for s in load.samples if not s.ok]
    figures["wall_seconds"] = round(time.monotonic() - started, 1)
    figures["sentinel_checks"] = sentinel_count(run)
    return figures


def deploy(run: Run) -> None:
    run.record("deploy_1.1.0", under_load(run, "deploy", "--tag=1.1.0"))


def rollback(run: Run) -> None:
    run.record("rollback", under_load(run, "rollback"))


def failing(run: Run) -> None:
    figures = under_load(run, "deploy", "--tag=1.2.0", expect_fail=True)
    running = out("docker", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}", "--filter",
                  "label=com.docker.compose.service=web", "--format", "{{.Image}}").split()
    figures["serving_after"] = running
    run.record("deploy_1.2.0_failing_migration", figures)


def disaster(run: Run) -> None:
    newest = out(PYTHON, "-c", "import json,sys; print(json.load(open(sys.argv[1]))['summary']['backup_set']['name'])",
                 sorted(run.reports.glob("backup-*.json"))[-1]).strip()
    record = run.check("restore_drill", "--mode=disaster", f"--backup={newest}", env={"CONFIRM": "YES"})
    figures = summary(record)
    figures["sentinel_checks"] = sentinel_count(run)
    run.record("disaster", figures)


def summary(record: Path) -> dict:
    data = json.loads(record.read_text())
    steps = {s.get("name"): s.get("seconds") for s in data.get("steps", [])}
    keep = ("outcome_text", "backup_seconds", "drill", "tag", "revision", "failure", "changed")
    return {"outcome": data["outcome"], "duration_seconds": data.get("duration_seconds"),
            **{k: data["summary"].get(k) for k in keep}, "steps": steps, "record": str(record)}


def figures(run: Run) -> None:
    """The table of docs/ADOPTING.md section 8, from the records this run wrote."""
    found = json.loads(run.figures.read_text())
    print(json.dumps(found, indent=2))
    deploy = found.get("deploy_1.1.0")
    if deploy:
        steps = deploy["steps"]
        budget = steps["backup"] + steps["rollback_check"] + steps["migrate"] + 20
        print(f"deploy 1.1.0: {deploy['duration_seconds']:.1f} s against backup {steps['backup']:.1f} + rehearsal "
              f"{steps['rollback_check']:.1f} + migrate {steps['migrate']:.1f} + 20 = {budget:.1f} s; "
              f"failed requests {deploy['load']['failed']} of {deploy['load']['requests']}")
    for key in ("rollback", "deploy_1.2.0_failing_migration"):
        if key in found:
            load = found[key]["load"]
            print(f"{key}: {found[key]['duration_seconds']:.1f} s; failed requests {load['failed']} of {load['requests']}")
    for key in ("backup", "drill_from_remote", "disaster"):
        if key in found:
            print(f"{key}: {found[key]['duration_seconds']:.1f} s; backup {found[key].get('backup_seconds')} s; "
                  f"drill {found[key].get('drill')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path, help="a clone of healthchecks/healthchecks")
    parser.add_argument("--work", type=Path, default=Path("/tmp/appa-run"))
    parser.add_argument("--from", dest="start", choices=STEPS, default="prepare")
    parser.add_argument("--only", choices=STEPS)
    args = parser.parse_args()
    run = Run(args.checkout.resolve(), args.work.resolve())
    steps = [args.only] if args.only else STEPS[STEPS.index(args.start):]
    for step in steps:
        print(f"=== {step}", flush=True)
        globals()[step](run)


if __name__ == "__main__":
    main()
