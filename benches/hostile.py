#!/usr/bin/env python3
"""Worst cases of every stage (SPEC §6's hostile rows, issue 14): generates each input,
runs the release binary on it, and prints wall time, throughput and peak anonymous
memory (RssAnon, sampled) beside the target.

usage: benches/hostile.py [--size MIB] [--runs N] [CASE...]
  --size MIB   size of the "open session, malformed on every line" input (default 1024,
               as SPEC §6 has it; smaller runs faster and shows the same memory)
  --runs N     timed runs per case, the best kept (default 3)
  CASE         any of the names below (default: all)

Inputs are written to $TMPDIR (default /tmp) as qs-hostile-*.{log,json} and kept for
re-runs; delete them to regenerate. Times are best of N, memory from one more sampled
run (the sampler takes a core; see compare.py).
"""
import os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_pipeline  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = os.environ.get("TMPDIR", "/tmp")
START = b"SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\n"


def generate(name, write):
    path = os.path.join(TMP, f"qs-hostile-{name}")
    if not os.path.exists(path):
        with open(path + ".part", "wb") as f:
            write(f)
        os.rename(path + ".part", path)
    return path


def open_malformed(mib):
    def write(f):
        f.write(START)
        block = b"FILES_CREATED: x\n" * 4096
        for _ in range(mib * 1024 * 1024 // len(block)):
            f.write(block)
    return generate(f"open-malformed-{mib}.log", write)


def long_malformed(f):
    f.write(START)
    line = b"TASK_START: " + b"ab " * 20000 + b"\n"
    for _ in range(8000):
        f.write(line)


def million(keyword, fmt):
    def write(f):
        f.write(START)
        if keyword == b"SUBAGENT_SPAWN":
            f.write(b"TASK_START: h-1\n")
        for i in range(1_000_000):
            f.write(keyword + b": " + (fmt % i) + b"\n")
    return write


def cut_off_sessions(f):
    for i in range(1_000_000):
        f.write(b"SESSION_START: r-2026-11-23T10:15:30\nTASK_START: t\n")


def checkpoint_16mib(f):
    f.write(b'{"state": {"worker_type": "researcher", "tasks_completed": 3, "start_time": "')
    # Just under the 16 MiB cap, which a larger file would hit before any repair.
    f.write(b"x" * ((16 << 20) - 200))


def dash_ids(f):
    # Under the 64 KiB head of a line: a longer line is cut, and never parsed.
    line = b"SESSION_START: " + b"a-" * 32_000 + b"\n"
    for _ in range(300):
        f.write(line)


def near_miss(f):
    line = b"A_" * 32_000 + b":\n"
    for _ in range(300):
        f.write(line)


def no_blank_line(mib):
    """Text without a blank line: file mode's blocks are cut at blank lines, so every
    block merges into the first (was quadratic: each block's start searched to the end)."""
    def write(f):
        f.write(START)
        block = b"worker output with some words and no marker at all 0123456789\n" * 4096
        for _ in range(mib * 1024 * 1024 // len(block)):
            f.write(block)
    return generate(f"no-blank-line-{mib}.log", write)


def one_long_line(mib):
    """One line of `mib` MiB after the session's start (no newline in it at all)."""
    def write(f):
        f.write(START)
        chunk = b"x" * (1 << 20)
        for _ in range(mib):
            f.write(chunk)
    return generate(f"one-long-line-{mib}.log", write)


def measure(argv, stdin_path=None, n=3):
    stages = [["cat", stdin_path], argv] if stdin_path else [argv]
    watch = 1 if stdin_path else 0
    seconds = min(run_pipeline(stages)[0] for _ in range(n))
    peak = run_pipeline(stages, watch)[1] or 0
    return seconds, peak / 1024


def row(name, argv, target, path, stdin=False, runs=3):
    size = os.path.getsize(path) / (1 << 20)
    seconds, mib = measure(argv, path if stdin else None, runs)
    print(f"{name:<34} {size:8.1f} MiB  {seconds:7.3f} s  {size / seconds:8.1f} MiB/s  "
          f"{mib:6.1f} MiB   {target}")


def main():
    args = sys.argv[1:]
    size = 1024
    if "--size" in args:
        i = args.index("--size")
        size = int(args[i + 1])
        del args[i:i + 2]
    runs = 3
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    wanted = set(args)
    os.chdir(ROOT)
    subprocess.run(["cargo", "build", "--release", "-q"], check=True)
    qs = os.path.join(ROOT, "target/release/quant-session")
    pane0 = os.path.join(ROOT, "fixtures/postmortem/pane-0.log")
    cases = [
        ("open-malformed-json", lambda p: [qs, "check", "--format", "json", p],
         "<= 32 MiB", lambda: open_malformed(size), False),
        ("open-malformed-sarif", lambda p: [qs, "check", "--format", "sarif", p],
         "<= 32 MiB", lambda: open_malformed(size), False),
        ("long-malformed-json", lambda p: [qs, "check", "--format", "json", p],
         "bounded (was 476 MB)", lambda: generate("long-malformed.log", long_malformed), False),
        ("million-tasks", lambda p: [qs, "check", "--format", "json", p],
         "bounded (was 671 MB)", lambda: generate("million-tasks.log", million(b"TASK_START", b"t-%d")), False),
        ("million-subagents", lambda p: [qs, "check", "--format", "json", p],
         "bounded", lambda: generate("million-subagents.log", million(b"SUBAGENT_SPAWN", b"@quant-%d")), False),
        ("million-cut-off-sessions-sarif", lambda p: [qs, "check", "--format", "sarif", p],
         "bounded (was > 24 GB)", lambda: generate("cut-off-sessions.log", cut_off_sessions), False),
        ("checkpoint-cut-in-16mib-string", lambda p: [qs, "postmortem", "--checkpoint", p, pane0],
         "well under 1 s", lambda: generate("checkpoint-16mib.json", checkpoint_16mib), False),
        ("dash-session-ids-file", lambda p: [qs, "check", "--format", "json", p],
         ">= 100 MiB/s", lambda: generate("dash-ids.log", dash_ids), False),
        ("dash-session-ids-pipe", lambda p: [qs, "check", "--format", "json"],
         ">= 100 MiB/s", lambda: generate("dash-ids.log", dash_ids), True),
        ("near-miss-words-file", lambda p: [qs, "check", "--format", "json", p],
         ">= 100 MiB/s", lambda: generate("near-miss.log", near_miss), False),
        ("near-miss-words-pipe", lambda p: [qs, "check", "--format", "json"],
         ">= 100 MiB/s", lambda: generate("near-miss.log", near_miss), True),
        ("no-blank-line-file", lambda p: [qs, "check", "--exit-zero", "--format", "json", p],
         "as fast as the pipe (linear)", lambda: no_blank_line(size // 2), False),
        ("no-blank-line-pipe", lambda p: [qs, "check", "--exit-zero", "--format", "json"],
         "the yardstick", lambda: no_blank_line(size // 2), True),
        ("one-long-line-file", lambda p: [qs, "check", "--exit-zero", "--format", "json", p],
         "as fast as the pipe (linear)", lambda: one_long_line(size // 2), False),
        ("one-long-line-pipe", lambda p: [qs, "check", "--exit-zero", "--format", "json"],
         "the yardstick", lambda: one_long_line(size // 2), True),
    ]
    print(f"{'case':<34} {'input':>12}  {'time':>9}  {'throughput':>13}  {'RssAnon':>10}   target")
    for name, argv, target, make, stdin in cases:
        if wanted and name not in wanted:
            continue
        path = make()
        row(name, argv(path), target, path, stdin, runs)


if __name__ == "__main__":
    main()
