#!/usr/bin/python3
"""Summarises `perf sched timehist` for bench/serving/tail_sched.sh: per process (server, load
generator), the distribution of "sch delay" (wake-up to running, i.e. runnable but waiting for the
CPU) over its threads' switch-ins, and, for delays over 200 us, which other tasks ran on that CPU
in the meantime (their run time summed)."""
import sys
from collections import Counter, defaultdict

path, server_pid, client_pid = sys.argv[1], sys.argv[2], sys.argv[3]
names = {server_pid: "server", client_pid: "generator"}
rows = []  # (time s, cpu, task, pid, sch delay ms, run time ms)
for line in open(path):
    f = line.split()
    if len(f) < 6 or not f[1].startswith("[") or "[" not in f[2]:
        continue
    try:
        t, cpu = float(f[0]), int(f[1].strip("[]"))
        delay, run = float(f[-2]), float(f[-1])
    except ValueError:
        continue
    task = " ".join(f[2:-3])
    ids = task[task.rindex("[") + 1:-1]
    pid = ids.split("/")[-1]
    rows.append((t, cpu, task, pid, delay, run))

delays = defaultdict(list)
culprits = defaultdict(Counter)
for i, (t, cpu, task, pid, delay, run) in enumerate(rows):
    who = names.get(pid)
    if who is None:
        continue
    delays[who].append(delay * 1000)
    if delay * 1000 > 200:
        start = t - run / 1000 - delay / 1000  # when it was woken
        for (t2, cpu2, task2, pid2, _, run2) in rows[max(0, i - 200):i]:
            if cpu2 == cpu and pid2 != pid and t2 > start:
                culprits[who][task2.split("[")[0]] += min(run2, (t2 - start) * 1000) * 1000

for who in ("server", "generator"):
    d = sorted(delays[who])
    if not d:
        print(f"{who}: no switch-ins recorded")
        continue
    p = lambda q: d[min(len(d) - 1, int(q / 100 * len(d)))]
    over = lambda us: sum(x > us for x in d)
    print(f"{who}: {len(d)} switch-ins, sch delay us p50 {p(50):.0f} p90 {p(90):.0f} "
          f"p99 {p(99):.0f} p99.9 {p(99.9):.0f} max {d[-1]:.0f}; >200 us: {over(200)}, "
          f">1 ms: {over(1000)}; total {sum(d) / 1000:.1f} ms")
    top = ", ".join(f"{k} {v / 1000:.1f} ms" for k, v in culprits[who].most_common(5))
    if top:
        print(f"  ran meanwhile on that CPU during the >200 us delays: {top}")
