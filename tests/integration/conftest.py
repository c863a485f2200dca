"""Fixtures: makarad servers on 127.0.0.1 with signed clients.

* ``api``      a client of one server shared by the whole session. Tests that
               use it create what they need under unique names and never
               assume a collection is empty.
* ``shared``   that server's Appliance (data dir, CLI, credentials).
* ``fresh``    a new server on a new data directory, for tests that need
               empty collections or change global state (keys, API switch,
               presets, restarts).
* ``appliance_factory``  makes more of those, with options.

The binary is ``$MAKARAD`` (default: target/debug/makarad). A failed test's
report carries the tail of the log of every server it used.
"""

import atexit
import signal

import pytest

import hmp
import kraken

atexit.register(kraken.stop_all_servers)


class Appliance:
    """A data directory, its API key and (once started) its server."""

    def __init__(self, base_dir, *, with_key=True, extra_args=(), env=None, start=True):
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.creds = kraken.create_key(self.data_dir) if with_key else None
        self.server = kraken.Server(self.data_dir, base_dir, extra_args, env)
        self.client = None
        if start:
            self.start()

    def start(self):
        self.server.start()
        if self.client is None:
            self.client = kraken.Client(self.server, self.creds)
        return self.client

    def restart(self, sig=signal.SIGTERM):
        self.server.restart(sig)
        return self.client

    def new_client(self, creds=None):
        return kraken.Client(self.server, creds or self.creds)

    def cli(self, *args, **kw):
        return kraken.cli(self.data_dir, *args, **kw)

    def close(self):
        if self.client is not None:
            self.client.close()
        self.server.stop()


_SHARED = {}


@pytest.fixture(scope="session")
def shared(tmp_path_factory):
    app = Appliance(tmp_path_factory.mktemp("shared"))
    _SHARED["app"] = app
    yield app
    app.close()


@pytest.fixture(scope="session")
def api(shared):
    return shared.client


@pytest.fixture
def appliance_factory(tmp_path):
    made = []

    def make(**kw):
        app = Appliance(tmp_path / f"app{len(made)}", **kw)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()


@pytest.fixture
def fresh(appliance_factory):
    return appliance_factory()


@pytest.fixture
def hmp_box(fresh):
    """A fresh server with an HMP user of each role (``admin``, ``op``,
    ``view``, password ``hmp.PASSWORD``) and a cookie-keeping HMP client,
    not logged in, as ``.hmp``."""
    hmp.add_user(fresh.data_dir, "admin", "administrator")
    hmp.add_user(fresh.data_dir, "op", "operator")
    hmp.add_user(fresh.data_dir, "view", "viewer")
    fresh.hmp = hmp.Hmp(fresh.server)
    yield fresh
    fresh.hmp.close()


@pytest.fixture(autouse=True)
def _makara_logs(request):
    kraken.TEST_SERVERS.clear()
    if {"api", "shared"} & set(request.fixturenames) and "app" in _SHARED:
        kraken.TEST_SERVERS.append(_SHARED["app"].server)
    request.node._makara_servers = kraken.TEST_SERVERS
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in list(getattr(item, "_makara_servers", [])):
            report.sections.append(
                (f"makarad log ({server.log_path})", server.log_tail(60)))
