"""Discovery on the real-world corpus (tests/fixtures/real-world/, sources in its INDEX.md), every file
rendered by the real compose CLI: discovery runs to its end, its roles match the table written by hand
from reading each file (expected_roles.toml), the proposal loads through the config loader, and the
overlay generated from it renders with compose. (The rehearsal's seal over the same files:
test_real_world_compose.py.)"""

import os
import posixpath
import subprocess
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from procedures.adopt import discover
from procedures.adopt.bind_mounts import bind_mounted_data
from procedures.compose import Compose
from procedures.compose_model import built_on_server
from procedures.config import ConfigError
from procedures.load import load_config
from procedures.engines import engine_for
from procedures.overlay import overlay_text
from procedures.release.build import build_override
from testkit.real_world import CASES, CORPUS, PLAIN, TABLE, files, param, rendered

pytestmark = pytest.mark.compose
# The engines load_config accepts: every case's proposal is loaded and its overlay rendered.
LOADABLE = ("postgres", "sqlite", "mariadb")
SUPPORTED = [c for c in CASES if TABLE[c]["engine"] in LOADABLE]
# What each MariaDB/MySQL case's database service names its credentials with, read by hand from its files.
MARIADB_CREDENTIALS = {
    "bookstack": ("MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE"),
    "firefly-iii": ("MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE"),
    "nextcloud": ("MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE"),
}
_runs: dict[str, discover.DiscoverRun] = {}


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in PLAIN:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def discovered(tmp_path_factory):
    """Discovery's steps as an operator runs them (the case's files, the project compose names), once per case;
    the render is compose's own, shared by the session's workers (testkit.real_world.rendered), and the
    running step finds nothing to read (no corpus stack runs)."""
    def run(case: str) -> discover.DiscoverRun:
        if case not in _runs:
            proposal = tmp_path_factory.mktemp(case) / "proposal.toml"
            # A case whose .env names its files (COMPOSE_FILE) is discovered as its operator would: by directory.
            given = [str(CORPUS / case)] if _compose_file_of(case) else [str(f) for f in files(case)]
            made = discover.open_run(given, None, proposal)
            for step in (discover.render, discover.identify_roles, discover.assess_risks, discover.write_proposal):
                step(made)
            _runs[case] = made
        return _runs[case]
    return run


def expected(case: str) -> dict:
    row = TABLE[case]
    return {"database": row["database"], "engine": row["engine"], "data": row["data"],
            "database_volume": row.get("database_volume"), "api": row["api"], "app": sorted(row["app"]),
            "single_instance": sorted(row.get("single_instance", [])), "proxy": row.get("proxy", ""),
            "one_offs": sorted(row.get("one_offs", [])), "migrate": row.get("migrate", ""),
            "profile_only": sorted(row.get("profile_only", [])),
            "backup_machinery": sorted(row.get("backup_machinery", []))}


def found(run: discover.DiscoverRun) -> dict:
    roles = run.roles
    return {"database": roles.database or "", "engine": roles.engine,
            "data": "volume" if roles.database_volume else roles.database_data,
            "database_volume": roles.database_volume.key if roles.database_volume else None,
            "api": roles.api, "app": sorted(roles.app), "single_instance": sorted(roles.single_instance),
            "proxy": roles.proxy or "", "one_offs": sorted(roles.one_offs), "migrate": roles.migrate or "",
            "profile_only": sorted(roles.profile_only),  # in a profile compose does not turn on
            "backup_machinery": sorted(m["service"] for m in roles.backup_machinery)}


def _compose_file_of(case: str) -> list[str]:
    dot_env = CORPUS / case / ".env"
    lines = dot_env.read_text().splitlines() if dot_env.is_file() else []
    return next((line.split("=", 1)[1].split(":") for line in lines if line.startswith("COMPOSE_FILE=")), [])


def guessed(proposal: str, key: str) -> bool:
    return any(line.startswith(f"{key} =") and "# GUESS:" in line for line in proposal.splitlines())


def test_the_table_covers_the_corpus_and_names_only_its_services():
    """So the comparisons below can fail: every folder has a row, and every name a row gives is a service."""
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert set(CASES) == folders and len(CASES) >= 30
    for case in CASES:
        # COMPOSE_FILE in a case's .env counts (freshrss): the services of every file it names.
        named_files = [CORPUS / case / f for f in _compose_file_of(case)] or files(case)
        services = set(rendered(case, *named_files)["services"])
        row = expected(case)
        named = {row["database"], row["api"], row["proxy"], row["migrate"], *row["app"], *row["single_instance"],
                 *row["one_offs"], *row["profile_only"], *row["backup_machinery"]} - {""}
        assert named <= services, (case, named - services)


@pytest.mark.parametrize("case", [param(c) for c in CASES])
def test_discovery_finds_the_roles_an_operator_reads(case, discovered):
    run = discovered(case)
    assert found(run) == expected(case)
    row = TABLE[case]
    if row["engine"] == "sqlite":
        # The file, or at an app's default path only its directory (the volume's, a fact), its name a guess.
        path = run.roles.sqlite_path
        assert path == row["sqlite_file"] or (path == posixpath.dirname(row["sqlite_file"]) + "/"
                                              and guessed(run.proposal, "file")), path


def proposed(proposal: str, key: str) -> str:
    """The value a proposal's line gives key (its first such line), as TOML reads it."""
    line = next(line for line in proposal.splitlines() if line.startswith(f"{key} ="))
    return tomllib.loads(line.split("   #", 1)[0])[key]


@pytest.mark.parametrize("case", sorted(MARIADB_CREDENTIALS))
def test_a_mariadb_or_mysql_database_is_proposed_for_the_mariadb_engine(case, discovered):
    """With the credential variables the database service really sets, a backup image of MariaDB's tools,
    and the engine a guess only where the image is MySQL's."""
    run = discovered(case)
    assert proposed(run.proposal, "engine") == "mariadb"
    assert guessed(run.proposal, "engine") == (TABLE[case]["database"] == "mysql")
    names = tuple(proposed(run.proposal, f"{what}_variable") for what in ("user", "password", "name"))
    assert names == MARIADB_CREDENTIALS[case]
    assert proposed(run.proposal, "image").startswith("opsuite-backup:mariadb")
    assert "--build-arg SERVER_IMAGE=mariadb" in next(l for l in run.proposal.splitlines() if l.startswith("image ="))


@pytest.mark.parametrize("case", [param(c) for c in CASES])
def test_the_proposal_loads_or_names_the_engine_it_cannot_back_up(case, discovered):
    run = discovered(case)
    row = TABLE[case]
    if row["engine"] not in LOADABLE:
        with pytest.raises(ConfigError, match=rf"engine = '{row['engine']}' is not supported yet"):
            load_config(run.proposal_path)
        return
    config = load_config(run.proposal_path)
    assert (config.services.database, set(config.services.app)) == (row["database"], set(row["app"]))
    volume = config.volumes.database
    if row["data"] == "volume":
        declared = run.model["volumes"][row["database_volume"]]
        assert volume == declared.get("name", f"{run.project}_{row['database_volume']}")
    else:
        # Never the example's default: a volume of this stack's, which the proposal says to move the data to.
        assert volume == f"{run.project}_{row['database']}_data" and guessed(run.proposal, "database")
        assert any(row["database"] in r.what and "keeps its data" in r.what for r in run.risks)


@pytest.mark.parametrize("case", [param(c, "overlay_xfail") for c in SUPPORTED])
def test_the_generated_overlay_renders_with_compose(case, discovered, tmp_path):
    """On a named volume the database's volume turns external and the app runs TAG; a database on a bind
    mount or in no volume is refused with the fix, before any compose command."""
    run = discovered(case)
    row = TABLE[case]
    config = load_config(run.proposal_path)
    app_model = run.model  # the app's files as discovery rendered them: the overlay reads their names
    if row["data"] != "volume":
        with pytest.raises(ConfigError, match="a bind mount or an anonymous volume cannot be made safe"):
            overlay_text(config, app_model, engine_for(config))
        return
    overlay = tmp_path / "docker-compose.opsuite.yml"
    overlay.write_text(overlay_text(config, app_model, engine_for(config)))
    model = rendered(config.stack.project, *config.stack.app_files, overlay, environment={"TAG": "1.0.0"})
    for name in config.services.app:
        assert model["services"][name]["image"].endswith(":1.0.0"), name
    assert model["volumes"][row["database_volume"]] == {"name": config.volumes.database, "external": True}
    assert "opsuite-backup" in model["services"]
    # The prefix of every command an error prints for the backup service (BackupBox.how_to_run) runs as
    # pasted, from another directory, in a shell without the suite's variables.
    adopted = replace(config, stack=replace(config.stack, compose_files=(*config.stack.app_files, overlay)))
    printed = Compose(adopted, "1.0.0").operator_command("config", "--quiet")
    shell = {k: v for k, v in os.environ.items() if k not in PLAIN}
    pasted = subprocess.run(["bash", "-c", printed], cwd="/", env=shell, capture_output=True, text=True, timeout=120)
    assert pasted.returncode == 0, (printed, pasted.stderr)


@pytest.mark.parametrize("case", [c for c in SUPPORTED if c in ("healthchecks", "plane", "superset")])
def test_a_build_only_app_is_built_from_an_export_of_its_own_checkout(case, discovered):
    """Each service a real file builds (no image) is moved, context and all, into the clean export, with
    its own dockerfile, args and target left as the app wrote them."""
    run = discovered(case)
    services = run.model["services"]
    builds = {name: services[name]["build"] for name in built_on_server(run.model)}
    assert builds and set(builds) & set(run.roles.app), "the table's build-only cases build their app here"
    # The checkout holds the compose file and every context (healthchecks keeps its file in docker/, builds ..).
    repository = Path(os.path.commonpath([str(CORPUS / case), *(str(b["context"]) for b in builds.values())]))
    export = Path("/export")
    override = build_override(builds, repository, export, {"io.opsuite.release.project": run.project})
    for name, section in builds.items():
        moved = override["services"][name]["build"]
        assert moved["context"] == str(export / Path(section["context"]).resolve().relative_to(repository))
        assert "args" not in moved and "target" not in moved, "the app's own build settings stay its own"


# case -> the [deploy] app_environment the proposal must set so no app service migrates on start, read by
# hand from each file (twenty's worker says DISABLE_DB_MIGRATIONS=true: the switch's off is "true").
START_SWITCHES = {"wger": {"DJANGO_PERFORM_MIGRATIONS": "False"}, "twenty": {"DISABLE_DB_MIGRATIONS": "true"},
                  "miniflux-caddy": {"RUN_MIGRATIONS": "0"}, "miniflux-traefik": {"RUN_MIGRATIONS": "0"}}


@pytest.mark.parametrize("case", sorted(START_SWITCHES))
def test_migrations_on_start_are_switched_off_in_the_proposal(case, discovered):
    run = discovered(case)
    config = load_config(run.proposal_path)
    assert dict(config.deploy.app_environment) == START_SWITCHES[case]
    assert any("migrations run on app start" in r.what for r in run.risks)


@pytest.mark.parametrize("case", sorted(set(SUPPORTED) - set(START_SWITCHES)))
def test_no_other_real_file_gets_a_start_switch(case, discovered):
    """So the table above can fail: a switch proposed where no file names one would change how the app starts."""
    assert dict(load_config(discovered(case).proposal_path).deploy.app_environment) == {}


@pytest.mark.parametrize("case", ["mastodon", "paperless-sqlite", "immich"])
def test_app_data_on_host_folders_is_proposed_for_backup_paths(case, discovered):
    """The writable bind mounts of real apps' services (media, exports, uploads) are proposed as [backup]
    paths, commented out: the operator confirms which hold data, and the proposal still loads."""
    run = discovered(case)
    line = next(l for l in run.proposal.splitlines() if l.startswith("# paths = "))
    for bind in bind_mounted_data(run.model, list(run.roles.app)):
        assert bind["source"] in line, (bind, line)
    assert load_config(run.proposal_path).backup.paths == ()


@pytest.mark.parametrize("case", [param(c) for c in CASES])
def test_a_proposed_proxy_renders_with_the_apps_files_and_takes_their_ports(case, discovered):
    """Where discovery proposes a Caddy in front (app services publishing their own port, no proxy), the file
    it wrote renders with the app's own files by compose, the fronted services lose their ports and the
    proxy holds each one; where it proposes none, the stack has a proxy or no switched app service publishes."""
    run = discovered(case)
    services = run.model["services"]
    if run.front is None:
        switched = [n for n in run.roles.app if n not in run.roles.single_instance
                    and not services[n].get("network_mode")]
        assert run.roles.proxy or not any(str(p.get("published") or "").isdigit()
                                          for n in switched for p in services[n].get("ports") or []), case
        return
    written = discover.front_path(run)
    assert written.read_text() == run.front.compose_text
    both = rendered(run.project, *run.compose_files, written)["services"]
    fronted = {u.service for u in run.front.upstreams}
    assert fronted <= set(run.roles.app) and not any(both[s].get("ports") for s in fronted), case
    held = {(p.get("host_ip") or "", p["published"]) for p in both[run.front.service]["ports"]}
    assert held == {(u.host_ip, u.host_port) for u in run.front.upstreams}, case
