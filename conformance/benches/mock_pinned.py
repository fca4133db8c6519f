#!/usr/bin/env python3
"""Requests per second and server CPU per request of two builds of the mock, pinned to a core
each: a wall-clock figure to set beside mock_instructions.py's instruction counts.

    python3 conformance/benches/mock_pinned.py BASE_BIN NEW_BIN recharge|chargily get|post ROUNDS

Run from the workspace root after `cargo build --release -p conformance --example load`. Each
round starts each binary (the order alternating between rounds) as `taskset -c 1 BIN mock
--workers 1 --no-rate-limit`, waits 4 s (the validators' warm-up), runs the load example on
core 0 against it for 5 s, and reads the server's user and system time from /proc/PID/stat
before and after (the load example's 0.5 s warm-up falls inside that window, so CPU per
request divides by req/s × 5.5 s). Prints each run, then the medians, then the median of the
rounds' new/base ratios (each round runs both builds back to back, so a slow spell of the host
hits both) with a 90% bootstrap interval. Ports are 21000 and up, below Linux's
ephemeral range (a client connecting to a port no server holds there can connect to itself).
Needs Linux, taskset and python3.
"""
import os, random, subprocess, sys, time, statistics, re
base, new, api, phase, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
load = "target/release/examples/load"
prefix = "/recharge" if api == "recharge" else "/chargily/test/api/v2"
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) / tick, int(f[12]) / tick)  # utime, stime (fields 14, 15)
def one(binp, port):
    p = subprocess.Popen(["taskset", "-c", "1", binp, "mock", "--listen", f"127.0.0.1:{port}", "--no-rate-limit", "--workers", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    c0 = cpu(p.pid)
    out = subprocess.run(["taskset", "-c", "0", load, "--api", api, "--only", phase, "--seconds", "5",
                          "--target", f"127.0.0.1:{port}", "--prefix", prefix], capture_output=True, text=True).stdout
    c1 = cpu(p.pid)
    user, system = c1[0] - c0[0], c1[1] - c0[1]
    p.terminate(); p.wait()
    m = re.search(r"([\d,]+(?:\.\d+)?) req/s", out)
    rps = float(m.group(1).replace(",", "")) if m else float("nan")
    n = rps * 5.5 if rps == rps and rps > 0 else float("nan")
    return rps, (user + system) / n * 1e6, user / n * 1e6, system / n * 1e6
res = {"base": [], "new": []}
for i in range(rounds):
    order = [("base", base), ("new", new)] if i % 2 == 0 else [("new", new), ("base", base)]
    for name, b in order:
        rps, us, uu, su = one(b, 21000 + i * 2 + (name == "new"))
        res[name].append((rps, us, uu, su))
        print(f"round {i} {name}: {rps:,.0f} req/s, {us:.1f} us CPU/request (user {uu:.1f}, system {su:.1f})", flush=True)
for name in res:
    r = [x[0] for x in res[name]]; u = [x[1] for x in res[name]]
    uu = [x[2] for x in res[name]]; su = [x[3] for x in res[name]]
    print(f"{name}: median {statistics.median(r):,.0f} req/s (min {min(r):,.0f}, max {max(r):,.0f}); median CPU {statistics.median(u):.1f} us/request (user {statistics.median(uu):.1f}, system {statistics.median(su):.1f})")
def paired(index, label):
    ratios = [n[index] / b[index] for b, n in zip(res["base"], res["new"])]
    rng = random.Random(1)
    boot = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    lo, hi = boot[len(boot) // 20], boot[len(boot) * 19 // 20]
    print(f"new/base {label}, paired by round: median {statistics.median(ratios) - 1:+.1%} (90% interval {lo - 1:+.1%} to {hi - 1:+.1%}; rounds {min(ratios) - 1:+.1%} to {max(ratios) - 1:+.1%})")
paired(0, "req/s")
paired(1, "CPU per request")
