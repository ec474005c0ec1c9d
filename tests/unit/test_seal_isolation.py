"""What the rehearsal's seal reads as loosening a container's isolation from the host (pure)."""

import pytest

from procedures.release import seal
from procedures.release.seal_isolation import isolation_lines, loosens, reaches_docker_api

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("option", ["seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined",
                                    "label=disable", "label:disable", "label=type:spc_t", "no-new-privileges=false",
                                    "no-new-privileges:false", "systempaths=unconfined", " Seccomp = Unconfined "])
def test_options_that_switch_a_confinement_off_loosen(option):
    assert loosens(option)


@pytest.mark.parametrize("option", ["no-new-privileges", "no-new-privileges:true", "seccomp=/etc/profile.json",
                                    "apparmor=docker-default", "label=level:s0:c100,c200"])
def test_options_that_tighten_are_kept(option):
    assert not loosens(option)


@pytest.mark.parametrize("source", ["/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run/", "/var", "/",
                                    "/var/run/../run/docker.sock"])
def test_a_bind_of_the_socket_or_a_folder_holding_it_reaches_the_api(source):
    assert reaches_docker_api({"type": "bind", "source": source, "target": "/x", "read_only": True})


@pytest.mark.parametrize("mount", [{"type": "bind", "source": "/srv/data", "target": "/x"},
                                   {"type": "bind", "source": "/var/run-other", "target": "/x"},
                                   {"type": "volume", "source": "docker.sock", "target": "/var/run/docker.sock"}])
def test_other_mounts_do_not(mount):
    assert not reaches_docker_api(mount)


def test_a_service_that_keeps_its_isolation_gets_no_line():
    assert isolation_lines({"image": "x", "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]}) == ([], [])


def test_the_overlay_drops_a_socket_only_service_mounts_and_says_so():
    model = {"services": {"agent": {"image": "x", "volumes": [
        {"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock", "read_only": True}]}}}
    sealed = seal.seal(model, "opsuite-restore-p-rehearsal-1", own_volumes={}, environment={}, service_env={},
                       skip_env=set(), probe_image="probe", labels={})
    assert '    volumes: !override []' in sealed.text
    assert sealed.dropped == ("agent: bind mount of /var/run/docker.sock (reaches the Docker API)",)
