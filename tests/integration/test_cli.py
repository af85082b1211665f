"""The `sider` command line: version, help, bad flags, clean shutdown."""

import re
import subprocess

import sider_testlib as lib


def run(sider_bin, *args, timeout=15):
    return subprocess.run([sider_bin, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def test_version_exits_zero_and_prints_a_version(sider_bin):
    p = run(sider_bin, "version")
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    assert re.search(r"\d+\.\d+(\.\d+)?", out), "no version number in %r" % out


def test_help_exits_zero_and_lists_dev_subcommand(sider_bin):
    p = run(sider_bin, "--help")
    assert p.returncode == 0, p.stderr
    assert "dev" in (p.stdout + p.stderr)


def test_dev_help_exits_zero_and_documents_its_flags(sider_bin):
    p = run(sider_bin, "dev", "--help")
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    for flag in ("--data-dir", "--http-addr", "--raft-addr"):
        assert flag in out, "%s not documented in `sider dev --help`:\n%s" % (flag, out)


def test_unknown_flag_exits_nonzero_with_a_message(sider_bin):
    p = run(sider_bin, "--no-such-flag")
    assert p.returncode != 0
    assert (p.stdout + p.stderr).strip(), "no message for a bad flag"


def test_unknown_dev_flag_exits_nonzero_with_a_message(sider_bin, tmp_path):
    p = run(sider_bin, "dev", "--data-dir", str(tmp_path), "--no-such-flag")
    assert p.returncode != 0
    assert (p.stdout + p.stderr).strip(), "no message for a bad flag"


def test_bad_raft_timing_flags_exit_2_with_a_message(sider_bin, tmp_path):
    base = ["server", "--node", "n1", "--data-dir", str(tmp_path), "--bootstrap"]
    for flag, value in (("--raft-election-timeout", "soon"),
                        ("--raft-election-timeout", "0s"),
                        ("--raft-leader-loss-stagger", "-5ms"),
                        ("--raft-leader-loss-stagger", "fast")):
        p = run(sider_bin, *base, flag, value)
        assert p.returncode == 2, (flag, value, p.returncode, p.stderr)
        assert flag in p.stderr and "invalid duration" in p.stderr, p.stderr
    assert not any(tmp_path.iterdir()), "a refused start wrote data"


def test_leader_loss_stagger_is_documented_in_server_help(sider_bin):
    p = run(sider_bin, "server", "--help")
    assert "--raft-leader-loss-stagger" in p.stdout + p.stderr


def test_sigterm_shuts_down_cleanly_with_status_zero_promptly(server_factory):
    srv = server_factory("sider-sigterm")
    srv.start()
    r = srv.api.put("/v1/agent/service/register", json={"Name": "before-term", "Port": 1})
    assert r.status_code == 200, r.text
    rc, took = srv.terminate(grace=10)
    assert rc == 0, "exit status after SIGTERM: %r\n%s" % (rc, srv.log_tail())
    assert took < 10
    # And the port is released: nothing answers any more.
    try:
        srv.api.get("/v1/status/leader", timeout=2)
        answered = True
    except lib.requests.RequestException:
        answered = False
    assert not answered, "HTTP still answering after the process exited"
