"""Fixtures for the Sider integration suite.

The suite runs the real `sider` binary named by $SIDER_BIN. If that is unset
or not an executable file, every test FAILS (errors) with a clear message:
the suite never skips silently.
"""

import os

import pytest

import cluster_lib
import sider_testlib as lib


def _resolve_bin():
    raw = os.environ.get("SIDER_BIN", "")
    if not raw:
        return None, ("SIDER_BIN is not set. Run the suite as "
                      "`make integration` or "
                      "`SIDER_BIN=/path/to/sider /usr/bin/python3 -m pytest tests/integration`.")
    path = os.path.abspath(raw)
    if not os.path.isfile(path):
        return None, "SIDER_BIN=%s: no such file (build it with `make release`)." % raw
    if not os.access(path, os.X_OK):
        return None, "SIDER_BIN=%s is not executable." % raw
    return path, None


@pytest.fixture(scope="session", autouse=True)
def sider_bin():
    """Path to the sider binary. Fails (not skips) every test when missing."""
    path, err = _resolve_bin()
    if err:
        pytest.fail(err, pytrace=False)
    return path


@pytest.fixture(scope="session", autouse=True)
def _no_consul_env():
    """python-consul reads CONSUL_HTTP_* from the environment and would
    silently talk to another agent; make sure it cannot."""
    saved = {}
    for k in list(os.environ):
        if k.startswith("CONSUL_HTTP_"):
            saved[k] = os.environ.pop(k)
    yield
    os.environ.update(saved)


def _make_server(sider_bin, tmp_path_factory, name):
    base = tmp_path_factory.mktemp(name)
    return lib.SiderServer(sider_bin, base / "data", base / "sider.log", name=name)


@pytest.fixture(scope="module")
def server(sider_bin, tmp_path_factory, request):
    """One running `sider dev` shared by the tests of a module. Tests use
    unique service names (lib.uniq) so they do not see each other."""
    srv = _make_server(sider_bin, tmp_path_factory,
                       "sider-" + request.module.__name__.split(".")[-1])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def api(server):
    return server.api


@pytest.fixture
def fresh_server(sider_bin, tmp_path_factory, request):
    """A `sider dev` of this test's own (clean state, own data dir)."""
    srv = _make_server(sider_bin, tmp_path_factory, "sider-" + request.node.name[:40])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server_factory(sider_bin, tmp_path_factory):
    """Create (not start) servers; all are stopped by PID at teardown."""
    made = []

    def make(name="sider-x"):
        srv = _make_server(sider_bin, tmp_path_factory, name)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
def http_target():
    t = lib.StatusHTTPServer()
    yield t
    t.close()


@pytest.fixture
def https_target(tmp_path):
    t = lib.StatusHTTPServer(tls_cert=lib.self_signed_cert(tmp_path))
    yield t
    t.close()


@pytest.fixture
def tcp_target():
    t = lib.TCPListener()
    yield t
    t.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On any failure, attach the tail of every live server's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for srv in list(lib.ACTIVE_SERVERS):
            report.sections.append(("sider log: %s" % srv.name, srv.log_tail()))


# Clusters of real `sider server` processes (cluster_lib), stopped at the
# end of the test.
@pytest.fixture
def make_cluster(sider_bin, tmp_path):
    made = []

    def make(n=3, **kw):
        c = cluster_lib.Cluster(sider_bin, tmp_path / ("c%d" % len(made)), n,
                                **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop_all()
