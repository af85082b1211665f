"""Three-member (or one-member) clusters of Sider, etcd and ZooKeeper on
loopback, each in its own temp directory with ports picked at start.

Contract: a Cluster is created stopped; start() returns once every member
serves and a leader is known, or raises RuntimeError with the tail of the
logs; stop() stops the members by PID (through Procs). Settings that differ
between systems are listed by settings() for the report. fsync stays on for
all three (their defaults: libraft fsyncs its log, etcd's WAL fsyncs,
ZooKeeper's forceSync=yes).
"""

import json
import os
import socket
import subprocess
import time
import urllib.request

from procs import free_port, wait_until

HOST = "127.0.0.1"


def http(method, url, body=None, timeout=5.0):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode(), dict(r.headers)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Member:
    def __init__(self, name, client_port, data_dir, log):
        self.name, self.client_port = name, client_port
        self.data_dir, self.log = data_dir, log
        self.proc, self.extra = None, {}

    @property
    def pid(self):
        return self.proc.pid


class Cluster:
    system = ""

    def __init__(self, procs, workdir, size):
        self.procs, self.size = procs, size
        self.dir = os.path.join(workdir, "%s-%d" % (self.system, time.monotonic_ns()))
        os.makedirs(self.dir)
        self.members = []

    def endpoints(self):
        return ",".join("%s:%d" % (HOST, m.client_port)
                        for m in self.members if m.proc is not None)

    def live(self):
        return [m for m in self.members if m.proc is not None]

    def pids(self):
        return [m.pid for m in self.live()]

    def stop(self):
        for m in self.live():
            self.procs.stop(m.proc)
            m.proc = None

    def kill9(self, member):
        self.procs.kill9(member.proc)
        member.proc = None

    def _fail(self, why):
        logs = "\n".join("--- %s\n%s" % (m.log, tail(m.log)) for m in self.members)
        self.stop()
        raise RuntimeError("%s: %s\n%s" % (self.system, why, logs))


class SiderCluster(Cluster):
    """`sider server` members. Three members need the clustering flags
    (--bootstrap-expect, --join); a build without them runs one member
    (`--bootstrap`), and `size` says which one ran."""
    system = "sider"
    log_level = "warn"  # bench/snapshot_stall.py wants the info lines.

    def __init__(self, procs, workdir, size, binary):
        self.binary = binary
        if size > 1 and not self.supports_join(binary):
            size = 1
        super().__init__(procs, workdir, size)

    @staticmethod
    def supports_join(binary):
        out = subprocess.run([binary, "server", "--help"], capture_output=True,
                             text=True, timeout=10).stdout
        return "--bootstrap-expect" in out and "--join" in out

    def version(self):
        return subprocess.run([self.binary, "version"], capture_output=True,
                              text=True, timeout=10).stdout.strip()

    def settings(self):
        return ("%d member(s); libraft log fsync on; election timeout 300 ms, "
                "heartbeat 30 ms; snapshot threshold 16384, trailing 8192"
                % self.size)

    def start(self):
        for i in range(self.size):
            d = os.path.join(self.dir, "s%d" % i)
            m = Member("s%d" % i, free_port(), d, d + ".log")
            m.extra["raft_port"] = free_port()
            self.members.append(m)
        for m in self.members:
            self._spawn(m)
        self._await_ready()

    def _spawn(self, m):
        argv = [self.binary, "server", "--node", m.name, "--data-dir", m.data_dir,
                "--http-addr", "%s:%d" % (HOST, m.client_port),
                "--raft-addr", "%s:%d" % (HOST, m.extra["raft_port"]),
                "--log-level", self.log_level]
        if self.size == 1:
            argv.append("--bootstrap")
        else:
            argv += ["--bootstrap-expect", str(self.size)]
            for other in self.members:
                if other is not m:
                    argv += ["--join", "%s:%d" % (HOST, other.client_port)]
        m.proc = self.procs.start(argv, m.log)

    def restart(self):
        for m in self.members:
            self._spawn(m)
        self._await_ready()

    def _await_ready(self):
        def ready():
            for m in self.live():
                if m.proc.poll() is not None:
                    self._fail("%s exited" % m.name)
                _, body, _ = http("GET", "http://%s:%d/v1/status/leader"
                                  % (HOST, m.client_port))
                if json.loads(body) == "":
                    return False
            return True
        try:
            wait_until(ready, 60, desc="a Sider leader")
        except RuntimeError as e:
            self._fail(str(e))

    def leader(self):
        m0 = self.live()[0]
        _, body, _ = http("GET", "http://%s:%d/v1/status/leader" % (HOST, m0.client_port))
        port = int(json.loads(body).rsplit(":", 1)[1])
        return next(m for m in self.members if m.extra["raft_port"] == port)

    def snapshot_bytes(self):
        """Size of the newest snapshot file of each member (libraft names
        them snapshot-*; the .meta files are excluded)."""
        sizes = []
        for m in self.members:
            snaps = [os.path.join(root, f) for root, _, files in os.walk(m.data_dir)
                     for f in files if f.startswith("snapshot-") and not f.endswith(".meta")]
            if snaps:
                sizes.append(os.path.getsize(max(snaps, key=os.path.getmtime)))
        return max(sizes) if sizes else 0


class EtcdCluster(Cluster):
    """etcd 3.4 members; clients use the v3 JSON gateway on the client port."""
    system = "etcd"
    QUOTA = 8 * 1024 ** 3

    def version(self):
        out = subprocess.run(["etcd", "--version"], capture_output=True,
                             text=True, timeout=10).stdout
        return out.splitlines()[0] if out else "etcd ?"

    def settings(self):
        return ("%d members; WAL fsync on (default); heartbeat 100 ms, election "
                "1000 ms (defaults); snapshot-count 100000 (default); "
                "quota-backend-bytes 8 GiB" % self.size)

    def start(self):
        for i in range(self.size):
            d = os.path.join(self.dir, "e%d" % i)
            m = Member("e%d" % i, free_port(), d, d + ".log")
            m.extra["peer_port"] = free_port()
            self.members.append(m)
        initial = ",".join("%s=http://%s:%d" % (m.name, HOST, m.extra["peer_port"])
                           for m in self.members)
        for m in self.members:
            client = "http://%s:%d" % (HOST, m.client_port)
            peer = "http://%s:%d" % (HOST, m.extra["peer_port"])
            argv = ["etcd", "--name", m.name, "--data-dir", m.data_dir,
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", initial, "--initial-cluster-state", "new",
                    "--initial-cluster-token", os.path.basename(self.dir),
                    "--quota-backend-bytes", str(self.QUOTA),
                    "--logger", "zap", "--log-level", "warn"]
            m.proc = self.procs.start(argv, m.log)
        try:
            wait_until(lambda: self._leader_id() is not None, 60, desc="an etcd leader")
        except RuntimeError as e:
            self._fail(str(e))

    def _status(self, m):
        _, body, _ = http("POST", "http://%s:%d/v3/maintenance/status" % (HOST, m.client_port), "{}")
        return json.loads(body)

    def _leader_id(self):
        for m in self.live():
            if m.proc.poll() is not None:
                self._fail("%s exited" % m.name)
            st = self._status(m)
            if not st.get("leader") or st["leader"] == "0":
                return None
        return st["leader"]

    def leader(self):
        for m in self.live():
            st = self._status(m)
            if st.get("leader") == st["header"]["member_id"]:
                return m
        raise RuntimeError("etcd: no leader")


class ZkCluster(Cluster):
    """ZooKeeper 3.8 ensemble members run as QuorumPeerMain with Debian's jar
    (its manifest carries the class path), one zoo.cfg and myid each."""
    system = "zk"
    JAR = "/usr/share/java/zookeeper.jar"
    HEAP = "-Xmx2g"

    def version(self):
        return "ZooKeeper " + subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "zookeeper"],
            capture_output=True, text=True, timeout=10).stdout

    def settings(self):
        return ("%d members; forceSync=yes (default); tickTime 2000 ms, "
                "initLimit 10, syncLimit 5; snapCount 100000 (default); "
                "maxClientCnxns 0; JVM %s" % (self.size, self.HEAP))

    def start(self):
        for i in range(self.size):
            d = os.path.join(self.dir, "z%d" % (i + 1))
            m = Member("z%d" % (i + 1), free_port(), d, d + ".log")
            m.extra.update(quorum=free_port(), election=free_port())
            self.members.append(m)
        servers = "".join("server.%d=%s:%d:%d\n" % (i + 1, HOST, m.extra["quorum"], m.extra["election"])
                          for i, m in enumerate(self.members))
        for i, m in enumerate(self.members):
            os.makedirs(m.data_dir)
            with open(os.path.join(m.data_dir, "myid"), "w") as f:
                f.write("%d\n" % (i + 1))
            cfg = os.path.join(m.data_dir, "zoo.cfg")
            with open(cfg, "w") as f:
                f.write("tickTime=2000\ninitLimit=10\nsyncLimit=5\n"
                        "dataDir=%s\nclientPort=%d\nclientPortAddress=%s\n"
                        "maxClientCnxns=0\nadmin.enableServer=false\n"
                        "4lw.commands.whitelist=srvr,ruok\nforceSync=yes\n%s"
                        % (m.data_dir, m.client_port, HOST,
                           servers if self.size > 1 else ""))
            argv = ["java", self.HEAP, "-cp", self.JAR,
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
            m.proc = self.procs.start(argv, m.log)
        try:
            wait_until(lambda: all(self._mode(m) in ("leader", "follower", "standalone")
                                   for m in self.live()), 90, interval=0.3,
                       desc="a ZooKeeper quorum")
        except RuntimeError as e:
            self._fail(str(e))

    def _mode(self, m):
        if m.proc.poll() is not None:
            self._fail("%s exited" % m.name)
        with socket.create_connection((HOST, m.client_port), timeout=2) as s:
            s.sendall(b"srvr")
            out = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        for line in out.decode(errors="replace").splitlines():
            if line.startswith("Mode:"):
                return line.split()[1]
        return None

    def leader(self):
        for m in self.live():
            if self._mode(m) in ("leader", "standalone"):
                return m
        raise RuntimeError("zk: no leader")


SYSTEMS = ("sider", "etcd", "zk")


def make(system, procs, workdir, size, sider_bin):
    if system == "sider":
        return SiderCluster(procs, workdir, size, sider_bin)
    if system == "etcd":
        return EtcdCluster(procs, workdir, size)
    if system == "zk":
        return ZkCluster(procs, workdir, size)
    raise ValueError("unknown system %r" % system)
