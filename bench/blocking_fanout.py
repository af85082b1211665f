#!/usr/bin/python3
"""Parks K blocking queries on one service, changes it once, and reports how
long the last one took to answer after the write was acknowledged, plus the
server's RSS before and after parking.

Usage: blocking_fanout.py HOST PORT SERVER_PID [K]
Bounded: every connection has a 60 s deadline; the run stops by itself.
"""
import asyncio
import json
import resource
import sys
import time
import urllib.request

HOST, PORT, PID = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
K = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
SERVICE = "fanout"


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def http(method, path, body=None):
    req = urllib.request.Request(f"http://{HOST}:{PORT}{path}", method=method,
                                 data=body.encode() if body else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("X-Consul-Index"), r.read()


async def park(index, parked, answered):
    reader, writer = await asyncio.open_connection(HOST, PORT)
    writer.write((f"GET /v1/health/service/{SERVICE}?index={index}&wait=60s "
                  f"HTTP/1.1\r\nHost: x\r\n\r\n").encode())
    await writer.drain()
    parked.append(1)
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 90)
    answered.append(time.monotonic())
    writer.close()


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, K + 1024), hard))
    http("PUT", "/v1/agent/service/register",
         json.dumps({"Name": SERVICE, "ID": f"{SERVICE}-0", "Port": 1}))
    index, _ = http("GET", f"/v1/health/service/{SERVICE}")
    before = rss_mib(PID)
    parked, answered = [], []
    tasks = []
    for i in range(K):
        tasks.append(asyncio.create_task(park(index, parked, answered)))
        if i % 500 == 499:
            await asyncio.sleep(0.05)
    deadline = time.monotonic() + 60
    while len(parked) < K and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # Let the server read every request.
    after = rss_mib(PID)
    t0 = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(
        None, http, "PUT", "/v1/agent/service/register",
        json.dumps({"Name": SERVICE, "ID": f"{SERVICE}-1", "Port": 2}))
    t_ack = time.monotonic()
    await asyncio.wait(tasks, timeout=60)
    lat = sorted((t - t_ack) * 1000 for t in answered)
    if not lat:
        print("RESULT fanout: no watcher answered")
        return 1
    print(f"RESULT fanout k={K} parked={len(parked)} answered={len(lat)} "
          f"write_ms={(t_ack - t0) * 1000:.1f} "
          f"p50_ms={lat[len(lat) // 2]:.1f} p99_ms={lat[int(len(lat) * 0.99) - 1]:.1f} "
          f"max_ms={lat[-1]:.1f} rss_before_mib={before:.1f} "
          f"rss_parked_mib={after:.1f} growth_mib={after - before:.1f}")
    return 0 if len(lat) == K else 1


sys.exit(asyncio.run(main()))
