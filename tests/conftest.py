import socket

import pytest
from hypothesis import settings

from procedures import redact
from testkit import disposable, module_order
from testkit.fault_matrix import Recorder

# Hypothesis fails an example slower than 200 ms by default: on a busy machine that is a verdict on the
# machine, not on the code (test_group_files_recovers_what_was_written failed so under a full run).
settings.register_profile("opsuite", deadline=None)
settings.load_profile("opsuite")

_faults = Recorder()


@pytest.fixture(autouse=True, scope="module")
def _registered_secrets_stay_in_their_module():
    """Forget what a module registered as secret once it ends. The registry is the process's, and the
    real-world files register their own (lemmy's POSTGRES_PASSWORD=password): a later module in the same
    worker then saw `password_changed` masked, so its verdict hung on which modules ran before it."""
    with redact._lock:
        saved = (set(redact._secrets), set(redact._identifiers))
    yield
    with redact._lock:
        redact._secrets.clear(), redact._secrets.update(saved[0])
        redact._identifiers.clear(), redact._identifiers.update(saved[1])


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(items):
    """Modules longest first (testkit/module_order.py), after every other plugin's ordering (pytest-order's
    within each module stays): xdist hands whole modules out in this order with --no-loadscope-reorder."""
    yield
    items[:] = [items[i] for i in module_order.ordered([item.nodeid for item in items], module_order.load())]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    fault = item.get_closest_marker("fault")
    if fault is not None:
        report.user_properties.append(("fault", fault.args[0]))


def pytest_runtest_logreport(report):
    """Fault rows are recorded where reports arrive: the controller when xdist runs workers (their
    reports carry the fault in user_properties), the one process otherwise."""
    for key, value in report.user_properties:
        if key == "fault":
            _faults.add(value, report.nodeid, report.outcome)


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # an xdist worker's rows reach the controller
        _faults.write()


def _teardown(request, stack, nodes):
    if any(getattr(node, "rep_call", None) is not None and node.rep_call.failed for node in nodes):
        print(f"--- logs of {stack.project} ---\n{stack.ctx.compose.logs(tail=80)}")
    disposable.destroy(stack)


@pytest.fixture
def fresh_stack(request, tmp_path):
    """A disposable example stack, configured but not started (destructive tests)."""
    stack = disposable.create(tmp_path)
    yield stack
    _teardown(request, stack, [request.node])


@pytest.fixture(scope="module")
def running_stack(request, tmp_path_factory):
    """A disposable example stack installed at 1.0.0 and ready, shared by a module's tests."""
    stack = disposable.create(tmp_path_factory.mktemp("stack"))
    try:
        disposable.bring_up(stack)
    except Exception:
        print(stack.ctx.compose.logs(tail=80))
        disposable.destroy(stack)
        raise
    yield stack
    _teardown(request, stack, [i for i in request.session.items if i.path == request.path])


@pytest.fixture(scope="module")
def backup_stack(running_stack):
    """The running stack with its `gdrive:` remote (and a `gdrive-crypt:` over it) on the SFTP stand-in."""
    running_stack.crypt_password = "crypt-" + running_stack.password
    disposable.configure_offsite(running_stack, running_stack.crypt_password)
    return running_stack


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that is bound but not listening: connections are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()
