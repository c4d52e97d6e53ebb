#!/usr/bin/env python3
"""Medians per variant from cold-start.sh's raw lines.

Usage: cold_start_summary.py bench/results/<timestamp>-cold-start.txt [VARIANT...]

Wall-clock figures (time to first answer, round trips/s, seconds for 5000 connections) are what a client sees; the
server's CPU per unit of work (ms to first answer, us per round trip, s per 5000 connections) is what the JVM spent,
and moves much less than the rates when other processes share the cores.
"""
import re
import statistics
import sys


def load(path):
    runs, current = [], None
    for line in open(path):
        kv = dict(re.findall(r'(\w+)=(\S+)', line))
        if line.startswith('round='):
            current = kv
            runs.append(current)
        elif current is not None and line.split()[:1] in (['cold'], ['warm']):
            current[line.split()[0]] = kv
    return runs


def rate(run, phase):
    """echo: round trips/s; conns: seconds until 5000 connections had their Welcome."""
    r = run.get(phase, {})
    if run['workload'] == 'echo':
        return float(r['round_trips_per_s']) if 'round_trips_per_s' in r else None
    if 'accept_s' in r:
        return float(r['accept_s'])
    per_s = float(r.get('connect_per_s', 0))  # runs before conns reported accept_s
    return int(r['connections']) / per_s if per_s > 0 else None


def cpu(run, phase):
    """Server CPU over the generator's measured window: echo, us per round trip; conns, s for the 5000."""
    r = run.get(phase, {})
    pct = float(r.get('server_cpu_pct', -1))
    if run['workload'] == 'echo':
        trips = int(r.get('round_trips', 0))
        return pct / 100 * int(r['duration_s']) * 1e6 / trips if trips > 0 and pct >= 0 else None
    if 'accept_s' in r and pct >= 0:
        return pct / 100 * float(r['accept_s'])
    return int(r['server_cpu_ms']) / 1000 if 'server_cpu_ms' in r else None  # earlier runs: the whole pass


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float('nan')


def main():
    runs = load(sys.argv[1])
    variants = sys.argv[2:] or list(dict.fromkeys(r['variant'] for r in runs))
    print('medians per variant; first answer: process start -> first answer of GET /index, over every run')
    print(f"\n  {'variant':12} {'first ms':>8} {'CPU ms':>7} {'RSS MB':>7} {'PSI %':>6}   first ms of each run")
    for v in variants:
        rs = [r for r in runs if r['variant'] == v]
        firsts = [int(r['first_answer_ms']) for r in rs]
        print(f"  {v:12} {med(firsts):8.0f} {med(int(r.get('first_answer_cpu_ms', -1)) for r in rs):7.0f}"
              f" {med(int(r['rss_first_kb']) for r in rs) / 1024:7.0f} {med(float(r['psi_some_pct']) for r in rs):6.1f}"
              f"   {', '.join(map(str, firsts))}")
    for workload, unit, cpu_unit, fmt in (('echo', 'round trips/s over 10 s', 'server CPU us/round trip', '.0f'),
                                          ('conns', 's to open 5000', 'server CPU s', '.2f')):
        rows = [r for r in runs if r['workload'] == workload]
        if not rows:
            continue
        print(f"\n{workload}: {unit}; {cpu_unit}")
        print(f"  {'variant':12} {'cold':>8} {'warm':>8} {'cold CPU':>9} {'warm CPU':>9}   cold of each round")
        for v in variants:
            rs = [r for r in rows if r['variant'] == v]
            if not rs:
                continue
            each = ', '.join(format(x, fmt) if x is not None else '-' for x in (rate(r, 'cold') for r in rs))
            print(f"  {v:12} {med(rate(r, 'cold') for r in rs):8{fmt}} {med(rate(r, 'warm') for r in rs):8{fmt}}"
                  f" {med(cpu(r, 'cold') for r in rs):9.2f} {med(cpu(r, 'warm') for r in rs):9.2f}   {each}")


if __name__ == '__main__':
    main()
