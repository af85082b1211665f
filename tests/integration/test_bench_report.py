"""Unit checks of the benchmark harness's table arithmetic (bench/harness/
report.py): medians, min–max, ratios, blanks. No server is started."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench", "harness"))

import report  # noqa: E402


def test_median_min_max_and_ratio():
    t = report.Table("T")
    for v in (100.0, 300.0, 200.0):
        t.add("register", "ops/s", "sider", v)
    for v in (50.0, 100.0, 150.0):
        t.add("register", "ops/s", "etcd", v)
    out = t.render(["sider", "etcd"])
    assert "| register | ops/s | 200.0 (100.0–300.0) | 100.0 (50.00–150.0) | 2.00 |" in out


def test_blank_cells_for_missing_and_signed_figures():
    t = report.Table("T")
    t.add("heartbeat", "ops/s", "sider", 10.0)
    t.add("heartbeat", "ops/s", "zk", None)
    t.add("K=1", "p50 ms", "sider", -3.0)
    t.add("K=1", "p50 ms", "zk", 2.0)
    lines = t.render(["sider", "zk"]).splitlines()
    assert "| heartbeat | ops/s | 10.00 |  |  |" in lines
    assert "| K=1 | p50 ms | -3.00 | 2.00 |  |" in lines


def test_single_run_has_no_range():
    t = report.Table("T")
    t.add("a", "b", "sider", 0.25)
    assert "| a | b | 0.25 |" in t.render(["sider"])
