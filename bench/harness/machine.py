"""The machine description and run header of a results file.

Contract: reads /proc and the command line; returns Markdown text.
"""

import os
import platform
import time


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def mem_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024.0 ** 2
    return 0.0


def header(a, notes, sizes, command):
    lines = ["## Results %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "",
             "* Command: `%s`" % command,
             "* Machine: %d cores (%s), %.0f GiB RAM, Linux %s; load average "
             "before %s, after %s" % (os.cpu_count(), cpu_model(), mem_gib(),
                                      platform.release(), notes["load_before"],
                                      notes["load_after"]),
             "* Load generator: sider-loadgen, %d clients, %d I/O thread(s), "
             "%d run(s) per figure: median (min–max)" % (a.clients, a.threads, a.runs)]
    for system, (version, settings) in notes.get("clusters", {}).items():
        lines.append("* %s: %s; %s" % (system, version, settings))
    if sizes.get("sider", 3) < 3:
        lines.append("* **Sider ran as a single node** (this build has no "
                     "--bootstrap-expect/--join); etcd and ZooKeeper ran 3 members.")
    return "\n".join(lines) + "\n\n"
