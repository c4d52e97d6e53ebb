#!/usr/bin/env python3
"""Table of medians per server and Squall/peer ratios from compare.sh's RESULT lines.

Usage: summarize.py bench/results/<timestamp>.txt
"""
import statistics
import sys
from collections import defaultdict

# (workload, metric, better): the figure each target of issue 3 is about.
METRICS = [
    ("fanout", "delivered_per_s", "higher"),
    ("fanout", "p99_ms", "lower"),
    ("fanout-rate", "p99_ms", "lower"),
    ("fanout-rate-warm", "p99_ms", "lower"),
    ("fanout-channel", "delivered_per_s", "higher"),
    ("fanout-channel", "p99_ms", "lower"),
    ("fanout-channel-rate", "p99_ms", "lower"),
    ("fanout-channel-rate", "p50_ms", "lower"),
    ("echo", "round_trips_per_s", "higher"),
    ("echo", "p99_ms", "lower"),
    ("echo-warm", "round_trips_per_s", "higher"),
    ("echo-warm", "p99_ms", "lower"),
    ("wrk", "req_per_s", "higher"),
    ("wrk-warm", "req_per_s", "higher"),
    ("conns", "bytes_per_conn", "lower"),
    ("conns", "live_heap_bytes_per_conn", "lower"),
    ("conns", "accept_s", "lower"),
    ("conns-warm", "bytes_per_conn", "lower"),        # RSS growth from before the warm-up
    ("conns-warm", "live_heap_bytes_per_conn", "lower"),
    ("conns-warm", "accept_s", "lower"),
    ("burst15k", "p99_ms", "lower"),
    ("burst15k", "lost", "lower"),
    ("burst15k-1pub", "p99_ms", "lower"),
    ("burst15k-1pub", "lost", "lower"),
    # redis-nodes.sh (issue 10): one node, one node on Redis, two nodes on one Redis
    ("fanout", "cpu_us_per_delivery", "lower"),
    ("fanout-1pub", "delivered_per_s", "higher"),
    ("fanout-1pub", "p99_ms", "lower"),
    ("fanout-1pub", "cpu_us_per_delivery", "lower"),
    ("fanout-rate", "cpu_us_per_delivery", "lower"),
    ("fanout", "p50_ms", "lower"),
    ("fanout", "redis_cpu_us_per_publish", "lower"),
    ("fanout", "redis_evalsha_usec_per_call", "lower"),
    ("fanout-rate", "p50_ms", "lower"),
    ("fanout-rate", "publish_rtt_p50_ms", "lower"),
    ("publish-seq", "publish_us_per_op", "lower"),
    ("publish-seq", "publish_rtt_p50_ms", "lower"),
    ("publish-seq", "publish_rtt_p99_ms", "lower"),
    ("publish-seq", "redis_cpu_us_per_publish", "lower"),
    ("publish-seq", "redis_evalsha_usec_per_call", "lower"),
    ("publish-conc", "publish_us_per_op", "lower"),
    ("publish-conc", "publish_rtt_p50_ms", "lower"),
    ("publish-conc", "publish_rtt_p99_ms", "lower"),
    ("publish-conc", "redis_cpu_us_per_publish", "lower"),
    ("publish-conc", "redis_evalsha_usec_per_call", "lower"),
]
# Generator and server CPU, to show which side was saturated.
CPU = ["gen_loop_max_pct", "gen_cpu_pct", "server_cpu_pct", "nodeB_cpu_pct", "redis_cpu_pct"]
# Machine-wide CPU pressure (PSI some avg10) at the end of each run: other load on the shared machine.
PRESSURE = "cpu_pressure_avg10"
PEERS = ["node-ws", "go-gorilla", "tornado", "squall-before", "squall-alt"]   # squall/squall-before: after/before of one change
# Pairs of servers other than squall compared with each other: (numerator, denominator).
PAIRS = [("squall-history", "squall-nohistory"),
         ("redis-1", "memory"), ("redis-2", "memory"), ("redis-2", "redis-1"),
         ("memory", "memory-h0"), ("redis-1", "redis-1-h0")]


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT "):
                rows.append(with_derived(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)))
    return rows


def with_derived(row):
    """Adds cpu_us_per_delivery: the nodes' CPU (the server, plus a second node if watched) per delivered message.

    On a machine where other load takes CPU from the server, throughput falls with the share the server got, but
    the CPU it spent per delivery moves much less: it says what a configuration costs, not how much CPU it got.
    """
    try:
        delivered = float(row.get("delivered_per_s", 0))
        cpu = float(row["server_cpu_pct"]) + max(float(row.get("nodeB_cpu_pct", 0)), 0)
        if delivered > 0 and float(row["server_cpu_pct"]) >= 0:
            row["cpu_us_per_delivery"] = f"{cpu / 100 * 1e6 / delivered:.2f}"
    except (KeyError, ValueError):
        pass
    return row


def median(values):
    return statistics.median(values) if values else None


def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def main():
    rows = parse(sys.argv[1])
    values = defaultdict(list)
    servers = []
    for r in rows:
        if r.get("mode") == "failed":
            continue
        server = r["server"]
        if server not in servers:
            servers.append(server)
        for key, v in r.items():
            try:
                values[(r["workload"], key, server)].append(float(v))
            except ValueError:
                pass
    failed = [f'{r.get("workload")}/{r["server"]}#{r.get("round")}' for r in rows if r.get("mode") == "failed"]
    servers.sort(key=lambda s: (s != "squall", s))
    peers = [p for p in PEERS if p in servers]
    pairs = [(a, b) for a, b in PAIRS if a in servers and b in servers]
    header = (["workload", "metric"] + servers + ["n"] + ([f"squall/{p}" for p in peers] if "squall" in servers else [])
              + [f"{a}/{b}" for a, b in pairs])
    table = [header]
    for workload, metric, better in METRICS:
        medians = {s: median(values.get((workload, metric, s), [])) for s in servers}
        if all(v is None for v in medians.values()):
            continue
        n = max(len(values.get((workload, metric, s), [])) for s in servers)
        row = [workload, f"{metric} ({better})"] + [fmt(medians[s]) for s in servers] + [str(n)]
        if "squall" in servers:
            for p in peers:
                a, b = medians.get("squall"), medians.get(p)
                row.append(f"{a / b:.2f}" if a is not None and b else "-")
        for a_name, b_name in pairs:
            a, b = medians.get(a_name), medians.get(b_name)
            row.append(f"{a / b:.2f}" if a is not None and b else "-")
        table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print()
    cpu_lines = []
    for workload in sorted({w for (w, _, _) in values}):
        cells = []
        for s in servers:
            cpu = [median(values.get((workload, c, s), [])) for c in CPU]
            while cpu and cpu[-1] is None:
                cpu.pop()                    # the second node and Redis appear only in redis-nodes.sh runs
            if cpu:
                cells.append(f"{s} " + "/".join(fmt(v) for v in cpu))
        if cells:
            cpu_lines.append(f"  {workload}: " + ";  ".join(cells))
    if cpu_lines:
        print("CPU during the measured window, % of one core (median): generator busiest loop / generator / server"
              " [/ second node / redis-server]")
        print("\n".join(cpu_lines))
    pressure = [v for (w, k, s), vs in values.items() if k == PRESSURE for v in vs]
    if pressure:
        print(f"\nCPU pressure (PSI some avg10, %) at the end of the runs: median {median(pressure):.0f}, "
              f"max {max(pressure):.0f}")
    if failed:
        print("\nfailed runs: " + ", ".join(failed))


if __name__ == "__main__":
    main()
