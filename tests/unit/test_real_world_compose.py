"""Issue 24's features on compose files no one here wrote (tests/fixtures/real-world/, sources in its
INDEX.md): each app's model rendered by the real compose CLI, sealed, and the sealed project rendered
again. Whatever the app's file says (a fixed-name default network, an internal and an external network,
a top-level `name:`, container names on every service, bind-mounted data, env files), the rehearsal
has one internal network of its own, only throwaway volumes, read-only binds and no shared name."""

import pytest

from procedures.guards import THROWAWAY_VOLUME_PREFIX
from procedures.release import seal
from testkit.real_world import CASES, CORPUS, PLAIN, files, rendered

pytestmark = pytest.mark.compose
REAL_WORLD = CORPUS
STACKS = CASES
LABELS = {"io.opsuite.role": "restore-test"}


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in PLAIN:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=STACKS)
def sealed(request, tmp_path):
    app_files = files(request.param)
    project = f"{THROWAWAY_VOLUME_PREFIX}{request.param}-rehearsal-0a0b0c"
    live = rendered(project, *app_files)
    made = seal.seal(live, project, own_volumes={}, environment={"JOBS_ENABLED": "false"}, service_env={},
                     skip_env=set(), probe_image="opsuite-local/backup:pg15", labels=LABELS)
    overlay = tmp_path / "rehearsal.yml"
    overlay.write_text(made.text)
    return live, rendered(project, *app_files, overlay), made, project


def test_the_corpus_holds_the_shapes_that_once_reached_the_live_stack():
    """So the tests below can fail: the files carry what a naive overlay would have shared."""
    texts = {name: "\n".join(f.read_text() for f in files(name)) for name in STACKS}
    assert "name: wger_network" in texts["wger"] and "internal: true" in texts["mastodon"]
    assert "container_name: immich_server" in texts["immich"] and "./export:" in texts["paperless-sqlite"]
    assert "name: mattermost" in texts["mattermost"] and "external: true" in texts["tandoor"]
    assert "include:" in texts["statbus"] and "profiles:" in (CORPUS / "statbus" / "docker-compose.app.yml").read_text()
    assert len(STACKS) >= 30


def test_one_internal_network_of_the_rehearsals_own_and_no_shared_name(sealed):
    live, model, made, project = sealed
    assert model["networks"] == {"default": {
        "name": f"{project}_sealed", "driver": "bridge", "internal": True, "ipam": {},
        "driver_opts": dict(seal.SEALED_NETWORK_OPTIONS), "labels": LABELS}}
    live_networks = {n.get("name") for n in (live.get("networks") or {}).values()}
    assert made.network not in live_networks
    for name, service in model["services"].items():
        assert service["networks"] == {"default": None}, name
        for key in ("container_name", "hostname", "network_mode", "ports", "extra_hosts", "links", "external_links"):
            assert not service.get(key), (name, key)


def test_only_throwaway_volumes_and_read_only_binds(sealed):
    live, model, made, project = sealed
    assert set(model.get("volumes") or {}) == set(live.get("volumes") or {})
    for key, volume in (model.get("volumes") or {}).items():
        assert volume["external"] and volume["name"].startswith(project), (key, volume)
    for name, service in model["services"].items():
        for mount in service.get("volumes") or []:
            if mount["type"] == "bind":
                assert mount["read_only"] and not mount.get("bind", {}).get("create_host_path"), (name, mount)
            else:
                assert mount["type"] in ("volume", "tmpfs") and (mount["type"] == "tmpfs" or mount["source"]), (name, mount)
    binds = {f"{n}:{m['target']}": m["source"] for n, s in live["services"].items() for m in s.get("volumes") or []
             if m["type"] == "bind"}
    # a bind of the Docker socket (or a folder holding it) is dropped, never mounted, even read-only
    dropped = {bind for bind, source in binds.items()
               if f"{bind.split(':', 1)[0]}: bind mount of {source} (reaches the Docker API)" in made.dropped}
    assert set(binds) - dropped <= set(made.read_only_binds)
    assert all("docker.sock" not in m["source"] for s in model["services"].values() for m in s.get("volumes") or []
               if m["type"] == "bind")


def test_the_rehearsal_environment_reaches_every_service(sealed):
    live, model, made, project = sealed
    assert set(model["services"]) == {*live["services"], seal.PROBE_SERVICE}
    for name in live["services"]:
        assert model["services"][name]["environment"]["JOBS_ENABLED"] == "false", name


def test_discovery_on_mastodon_flags_its_bind_mounted_data_and_no_setting_as_a_weak_secret(tmp_path):
    """Issue 24's discovery flags on a file no one here wrote: the media web and sidekiq write to ./public/system
    (no volume backup sees it); POSTGRES_HOST_AUTH_METHOD=trust is a setting, not a short password."""
    from procedures.adopt import discover
    run = discover.discover([str(REAL_WORLD / "mastodon" / "docker-compose.yml")],
                            proposal_path=tmp_path / "proposal.toml")
    text = "\n".join(r.what for r in run.risks)
    system = REAL_WORLD / "mastodon" / "public" / "system"
    assert f"data in {system} (web: /mastodon/public/system) is a bind mount and not backed up" in text
    assert f"data in {system} (sidekiq: /mastodon/public/system) is a bind mount and not backed up" in text
    assert "weak secrets" not in text and "AUTH_METHOD" not in text


def test_no_app_label_reaches_a_rehearsal_container(sealed):
    """Labels are read by other containers: a live Traefik (miniflux-traefik, freshrss), ofelia or
    watchtower would act on a rehearsal container that kept them."""
    live, model, made, project = sealed
    labelled = {n for n, s in live["services"].items() if s.get("labels")}
    for name in live["services"]:
        assert model["services"][name].get("labels") == LABELS, name
    if project.startswith(f"{THROWAWAY_VOLUME_PREFIX}miniflux-traefik-"):
        assert any(k.startswith("traefik.") for n in labelled for k in live["services"][n]["labels"])
