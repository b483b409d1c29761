#!/usr/bin/env python3
"""watch_scale.py [PANES] [SECONDS] [RATE_BYTES_PER_S]: SPEC §6's fleet row for `watch`.

Starts `quant-session watch --format json DIR` (release build) over PANES pane logs
(default 1000) and appends worker-like output to them at RATE bytes per second in all
(default 1 MB/s, in bursts every 50 ms spread over the panes) for SECONDS (default 20).
Then it measures, from outside:
- the CPU the watch used while the fleet was writing (utime+stime from /proc/PID/stat),
  as a share of one core;
- its peak memory (VmHWM) and that divided by the panes;
- how long a finding takes to reach the JSON Lines: every second one pane gets a
  `TASK_COMPLETE` for a task it never started, and the time until its `task-not-started`
  diagnostic is read is recorded (median and worst).
Prints one line per figure. Targets (SPEC §6): under 10 % of a core, every finding within
1 s, at most 64 KiB per pane.
"""
import os, subprocess, sys, tempfile, threading, time, json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "quant-session")

PROSE = [
    b"Testing the 12-1 momentum hypothesis on the equity universe.\n",
    b"backtest: sharpe 1.21, max drawdown 8.4%, turnover 0.37\n",
    b"Reading what-works.md for the volatility regime notes.\n",
    b"  File \"strategies/momentum.py\", line 42, in rebalance\n",
]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    panes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    d = tempfile.mkdtemp(prefix="qs-watch-scale-")
    files = []
    for i in range(panes):
        p = os.path.join(d, f"pane-{i}.log")
        with open(p, "wb") as f:
            f.write(f"SESSION_START: researcher-2026-11-23T10:{i // 60 % 60:02d}:{i % 60:02d}.{i:06d}\n".encode())
            f.write(b"PATTERN_FILES_READ: what-works.md, what-fails.md\nTASK_START: h-1\n")
        files.append(open(p, "ab", buffering=0))
    watch = subprocess.Popen([BIN, "watch", "--format", "json", d],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pending = {}  # pane -> time the violation was written
    latencies = []
    lock = threading.Lock()

    def reader():
        for line in watch.stdout:
            try:
                v = json.loads(line)
            except ValueError:
                continue
            if v.get("rule") == "task-not-started":
                name = os.path.basename(v["file"])
                with lock:
                    t = pending.pop(name, None)
                if t is not None:
                    latencies.append(time.monotonic() - t)

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(2)  # the first read of every file
    start_ticks = cpu_ticks(watch.pid)
    start = time.monotonic()
    tick = 0.05
    per_tick = int(rate * tick)
    n = 0
    next_violation = start + 1
    while time.monotonic() - start < seconds:
        t0 = time.monotonic()
        written = 0
        while written < per_tick:
            line = PROSE[n % len(PROSE)]
            files[n % panes].write(line)
            written += len(line)
            n += 1
        if t0 >= next_violation:
            k = int(t0 * 1000) % panes
            with lock:
                pending[f"pane-{k}.log"] = time.monotonic()
            files[k].write(f"TASK_COMPLETE: never-{int(t0)}\n".encode())
            next_violation += 1
        time.sleep(max(0.0, tick - (time.monotonic() - t0)))
    elapsed = time.monotonic() - start
    ticks = cpu_ticks(watch.pid) - start_ticks
    time.sleep(1.5)
    hwm = hwm_kib(watch.pid)
    watch.terminate()
    watch.wait()
    hz = os.sysconf("SC_CLK_TCK")
    cpu = ticks / hz / elapsed
    latencies.sort()
    missed = len(pending)
    print(f"panes {panes}, {n} lines, {rate / 1e6:.2f} MB/s for {elapsed:.1f} s")
    print(f"cpu: {100 * cpu:.1f} % of one core (target < 10 %)")
    print(f"peak memory: {hwm / 1024:.1f} MiB, {hwm / panes:.1f} KiB per pane (target <= 64 KiB)")
    if latencies:
        med = latencies[len(latencies) // 2]
        print(f"finding latency: median {med * 1000:.0f} ms, worst {latencies[-1] * 1000:.0f} ms over {len(latencies)} (target < 1 s); not seen: {missed}")
    else:
        print(f"finding latency: no finding seen; not seen: {missed}")


if __name__ == "__main__":
    main()
