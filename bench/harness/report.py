"""Collects figures per (section, row, metric, system) over runs and renders
Markdown: the median of the runs, then (min–max) when there was more than
one, and Sider/peer ratios of the medians.

Contract: pure functions of the recorded values; no I/O except render().
A figure of None (not applicable) renders as a blank cell, and so does a
ratio unless both medians are positive.
"""

import statistics

SYSTEM_TITLES = {"sider": "Sider", "etcd": "etcd", "zk": "ZooKeeper",
                 "floor": "floor"}


def fmt(v):
    if v is None:
        return ""
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


class Table:
    def __init__(self, title, columns_note="", systems=None):
        self.title, self.note = title, columns_note
        self.systems = systems  # Its own columns, else render()'s.
        self.rows = {}  # (row, metric) -> {system: [values]}
        self.order = []

    def add(self, row, metric, system, value):
        key = (row, metric)
        if key not in self.rows:
            self.rows[key] = {}
            self.order.append(key)
        self.rows[key].setdefault(system, []).append(value)

    def median(self, key, system):
        vals = [v for v in self.rows[key].get(system, []) if v is not None]
        return statistics.median(vals) if vals else None

    def cell(self, key, system):
        vals = [v for v in self.rows[key].get(system, []) if v is not None]
        if not vals:
            return ""
        med = fmt(statistics.median(vals))
        if len(vals) > 1:
            return "%s (%s–%s)" % (med, fmt(min(vals)), fmt(max(vals)))
        return med

    def render(self, systems):
        systems = self.systems or systems
        peers = [s for s in systems if s != "sider"]
        head = ["workload", "metric"] + [SYSTEM_TITLES[s] for s in systems]
        if "sider" in systems:
            head += ["Sider/%s" % SYSTEM_TITLES[p] for p in peers]
        lines = ["### " + self.title, ""]
        if self.note:
            lines += [self.note, ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for key in self.order:
            cells = [key[0], key[1]] + [self.cell(key, s) for s in systems]
            if "sider" in systems:
                a = self.median(key, "sider")
                for p in peers:
                    b = self.median(key, p)
                    # A ratio of signed times (fan-out) says nothing.
                    ok = a is not None and b is not None and a > 0 and b > 0
                    cells.append("%.2f" % (a / b) if ok else "")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
