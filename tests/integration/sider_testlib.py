"""Helpers for the Sider integration suite: start/stop the real binary,
talk to its HTTP API, poll with bounded deadlines, local probe targets.

Everything here binds to 127.0.0.1 only.
"""

import http.client
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid

import requests

# Every HTTP call made by the suite carries a timeout; blocking queries add
# their own wait on top of this.
HTTP_TIMEOUT = 10.0
READY_DEADLINE = 30.0
STOP_GRACE = 10.0

# Servers currently alive, so that the failure hook in conftest.py can attach
# their logs to the report of a failing test.
ACTIVE_SERVERS = []


def free_port():
    """A port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uniq(prefix):
    """A unique service/check name so tests can share one server."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def wait_until(fn, timeout, interval=0.1, desc="condition"):
    """Call fn() until it returns a truthy value; return that value.

    Bounded both in time and in number of attempts. On timeout raise
    AssertionError quoting the last value fn() returned (or raised)."""
    deadline = time.monotonic() + timeout
    max_attempts = int(timeout / interval) + 50
    last = None
    for _ in range(max_attempts):
        try:
            last = fn()
        except (requests.RequestException, ValueError, KeyError) as e:
            last = "raised %r" % (e,)
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s; last value: %r"
                         % (timeout, desc, last))


def index_of(resp):
    """The X-Consul-Index header as an int; asserts it is present and > 0."""
    raw = resp.headers.get("X-Consul-Index")
    assert raw is not None, (
        "X-Consul-Index missing on %s %s -> %d"
        % (resp.request.method, resp.request.url, resp.status_code))
    assert raw.isdigit(), "X-Consul-Index not an unsigned integer: %r" % raw
    value = int(raw)
    assert value > 0, "X-Consul-Index must never be 0 (%s)" % resp.request.url
    return value


class Api:
    """Thin wrapper over requests for one server's HTTP address.

    No shared Session: blocking queries run in threads, and a fresh
    connection per call keeps them independent."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.base = "http://%s:%d" % (host, port)

    def url(self, path):
        return self.base + path

    def request(self, method, path, timeout=HTTP_TIMEOUT, **kw):
        return requests.request(method, self.url(path), timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # ---- convenience wrappers for frequent calls -------------------------

    def ok_json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, "GET %s -> %d %s" % (path, r.status_code, r.text)
        return r.json()

    def register_service(self, body, expect=200):
        r = self.put("/v1/agent/service/register", json=body)
        assert r.status_code == expect, (
            "register %r -> %d %s" % (body, r.status_code, r.text))
        return r

    def deregister_service(self, service_id, expect=200):
        r = self.put("/v1/agent/service/deregister/%s" % service_id)
        assert r.status_code == expect, (
            "deregister %s -> %d %s" % (service_id, r.status_code, r.text))
        return r

    def check_pass(self, check_id, note=None, verb="pass"):
        params = {"note": note} if note is not None else None
        r = self.put("/v1/agent/check/%s/%s" % (verb, check_id), params=params)
        assert r.status_code == 200, (
            "%s %s -> %d %s" % (verb, check_id, r.status_code, r.text))
        return r

    def agent_checks(self):
        return self.ok_json("/v1/agent/checks")

    def agent_services(self):
        return self.ok_json("/v1/agent/services")

    def check(self, check_id):
        """The agent's view of one check (dict) or None."""
        return self.agent_checks().get(check_id)

    def check_status(self, check_id):
        c = self.check(check_id)
        return c and c.get("Status")

    def health_ids(self, name, passing=False, **kw):
        path = "/v1/health/service/%s" % name + ("?passing" if passing else "")
        return sorted(e["Service"]["ID"] for e in self.ok_json(path, **kw))

    def node_name(self):
        return self.ok_json("/v1/agent/self")["Config"]["NodeName"]


class SiderServer:
    """One `sider dev` process on loopback with its own data dir and ports."""

    def __init__(self, binary, data_dir, log_path, name="sider"):
        self.binary = binary
        self.data_dir = str(data_dir)
        self.log_path = str(log_path)
        self.name = name
        self.http_port = free_port()
        self.raft_port = free_port()
        while self.raft_port == self.http_port:
            self.raft_port = free_port()
        self.proc = None
        self._log = None
        self.api = Api("127.0.0.1", self.http_port)
        self.starts = 0
        # Extra command-line flags (e.g. ["--session-ttl-min", "1s"]).
        self.extra_args = []

    # ---- lifecycle --------------------------------------------------------

    def argv(self):
        return [self.binary, "dev",
                "--data-dir", self.data_dir,
                "--http-addr", "127.0.0.1:%d" % self.http_port,
                "--raft-addr", "127.0.0.1:%d" % self.raft_port] + list(self.extra_args)

    def start(self, wait=True):
        assert self.proc is None, "already running"
        os.makedirs(self.data_dir, exist_ok=True)
        self.starts += 1
        self._log = open(self.log_path, "ab")
        self._log.write(("\n===== start #%d: %s =====\n"
                         % (self.starts, " ".join(self.argv()))).encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv(), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.data_dir)
        if self not in ACTIVE_SERVERS:
            ACTIVE_SERVERS.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, deadline=READY_DEADLINE):
        """Poll GET /v1/status/leader until it is a non-empty JSON string."""
        end = time.monotonic() + deadline
        last = None
        for _ in range(int(deadline / 0.05) + 10):
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(
                    "sider exited with status %d before becoming ready\n%s"
                    % (rc, self.log_tail()))
            try:
                r = self.api.get("/v1/status/leader", timeout=2)
                last = (r.status_code, r.text[:200])
                if r.status_code == 200:
                    leader = r.json()
                    if isinstance(leader, str) and leader:
                        return leader
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            if time.monotonic() >= end:
                break
            time.sleep(0.05)
        raise AssertionError("sider not ready (leader elected) within %.0fs; "
                             "last /v1/status/leader: %r\n%s"
                             % (deadline, last, self.log_tail()))

    def terminate(self, grace=STOP_GRACE):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status
        and how long the process took to exit after SIGTERM."""
        if self.proc is None:
            return None, 0.0
        t0 = time.monotonic()
        rc = self.proc.poll()
        if rc is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                rc = self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=grace)
                rc = "killed after SIGTERM timeout"
        took = time.monotonic() - t0
        self._closed()
        return rc, took

    def kill9(self):
        """SIGKILL by PID: no chance to flush or clean up."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_GRACE)
        self._closed()

    def restart_after_kill9(self):
        """kill -9 the server, then start it again on the same data dir and
        the same ports, and wait until it has a leader."""
        self.kill9()
        # The old listening sockets die with the process; the ports stay ours.
        return self.start(wait=True)

    def _closed(self):
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def stop(self):
        try:
            self.terminate()
        finally:
            if self in ACTIVE_SERVERS:
                ACTIVE_SERVERS.remove(self)

    # ---- diagnostics ------------------------------------------------------

    def log_tail(self, max_bytes=20000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - max_bytes))
                data = f.read()
        except OSError as e:
            return "(no log: %s)" % e
        text = data.decode("utf-8", "replace")
        return "----- %s (%s), last %d bytes -----\n%s" % (
            self.name, self.log_path, len(data), text)


# ---- probe targets for active checks -------------------------------------

class StatusHTTPServer:
    """A local HTTP server whose response status can be switched at runtime;
    target for HTTP checks."""

    def __init__(self, status=200, body=b"probe ok", tls_cert=None):
        """tls_cert: (certfile, keyfile) to serve https instead."""
        self.status = status
        self.body = body
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                payload = outer.body
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/health" % self.port
        if tls_cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls_cert)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            self.url = "https://127.0.0.1:%d/health" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def self_signed_cert(directory):
    """A throwaway self-signed certificate for 127.0.0.1 and localhost
    (openssl CLI); returns (certfile, keyfile)."""
    cert = os.path.join(str(directory), "cert.pem")
    key = os.path.join(str(directory), "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TCPListener:
    """A listening socket that accepts and immediately closes connections;
    target for TCP checks."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            conn.close()

    def close(self):
        self._stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def raw_request(host, port, method, path, body=b"", headers=None, timeout=15):
    """Send a request with http.client, tolerating the server closing the
    connection while we are still sending a large body, then read the reply.
    Returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path)
        hdrs = {"Content-Type": "application/json",
                "Content-Length": str(len(body))}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        view = memoryview(body)
        try:
            for off in range(0, len(body), 65536):
                conn.send(view[off:off + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # server answered early and closed; read its answer below
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def park_until(api, path, index, pred, wait="30s", overall=40.0, params=None):
    """Blocking-query loop on `path`: park with ?index=&wait=, and re-park on
    wake-ups whose body does not yet satisfy pred(json). Bounded in count and
    time. Returns (response, seconds since the call started, wake-ups)."""
    t0 = time.monotonic()
    resp = None
    for n in range(1, 51):
        q = dict(params or {})
        q.update({"index": index, "wait": wait})
        resp = api.get(path, params=q, timeout=overall + 15)
        assert resp.status_code == 200, "%s -> %d %s" % (path, resp.status_code, resp.text)
        if pred(resp.json()):
            return resp, time.monotonic() - t0, n
        index = index_of(resp)
        if time.monotonic() - t0 > overall:
            break
    raise AssertionError("blocking query on %s never satisfied the predicate "
                         "within %.0fs; last body %r" % (path, overall, resp and resp.text))


def dumps(obj):
    return json.dumps(obj).encode()


# ---- coordination (KV, sessions) -----------------------------------------

def create_session(api, expect=200, **body):
    """PUT /v1/session/create with `body` (Consul field names); returns the ID."""
    r = api.put("/v1/session/create", json=body)
    assert r.status_code == expect, "session create %r -> %d %s" % (body, r.status_code, r.text)
    return r.json()["ID"] if expect == 200 else r


def kv_entry(api, key):
    """The KV entry dict for `key`, or None when it is absent."""
    r = api.get("/v1/kv/%s" % key)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, "GET kv %s -> %d %s" % (key, r.status_code, r.text)
    return r.json()[0]


def acquire(api, key, session, data=b"", **params):
    """PUT ?acquire=; returns True/False as the server answered."""
    params["acquire"] = session
    r = api.put("/v1/kv/%s" % key, data=data, params=params)
    assert r.status_code == 200, "acquire %s -> %d %s" % (key, r.status_code, r.text)
    return r.json()
