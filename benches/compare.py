#!/usr/bin/env python3
"""Whole-program benchmark (SPEC §6 / issue 7): times quant-session against the reference
commands on the same input in the same run, and samples its peak anonymous memory.

usage: benches/compare.py [SIZE_MIB] [--input FILE] [--stream FILE] [--long-line MIB]
Builds the release binary, generates the inputs with the project's own generators
(`examples/gen_transcript.rs` for text, `benches/gen_stream.py` for Claude Code
stream-json) unless given, warms the page cache, and prints best-of-3 wall times,
ratios and peak RssAnon for every row of SPEC 6: the pipe filter against cat|cat|cat,
file mode against ripgrep (`rg`, when on PATH), stream-json against jq (when on PATH),
and a line of --long-line MiB (default 512) without a newline, in both modes.
"""
import os, shutil, subprocess, sys, threading, time

KEYWORDS = ["SESSION_START", "PATTERN_FILES_READ", "QUEUE_DEPTH", "TASK_START",
            "SUBAGENT_SPAWN", "SUBAGENT_COMPLETE", "FILES_CREATED", "TASK_COMPLETE",
            "@sigma-distiller", "DISTILLATION_COMPLETE", "PATTERNS_UPDATED",
            "SESSION_COMPLETE", "DURATION", "TASKS_COMPLETED", "STRATEGIES_PRODUCED",
            "HYPOTHESES_QUEUED"]


def peak_rss_anon(pid, stop, out):
    peak = 0
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            break
        time.sleep(0.002)
    out.append(peak)


def run_pipeline(stages, watch=None):
    """Runs stages (lists of argv) as a pipeline; returns (seconds, peak KiB of stage `watch`)."""
    start = time.perf_counter()
    procs, prev = [], None
    for i, argv in enumerate(stages):
        last = i == len(stages) - 1
        p = subprocess.Popen(argv, stdin=prev, stdout=subprocess.DEVNULL if last else subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        if prev is not None:
            prev.close()
        prev = p.stdout
        procs.append(p)
    peak, stop, t = [], threading.Event(), None
    if watch is not None:
        t = threading.Thread(target=peak_rss_anon, args=(procs[watch].pid, stop, peak))
        t.start()
    for p in procs:
        p.wait()
    elapsed = time.perf_counter() - start
    stop.set()
    if t:
        t.join()
    return elapsed, (peak[0] if peak else None)


def best(stages, watch=None, n=3):
    """Best-of-n wall time, measured without sampling (the sampler would take a core
    from the tool on a 2-core machine); then one more run sampling stage `watch`'s
    peak RssAnon."""
    seconds = min(run_pipeline(stages)[0] for _ in range(n))
    peak = run_pipeline(stages, watch)[1] if watch is not None else None
    return seconds, (peak or 0)


def main():
    args = sys.argv[1:]
    size = int(args[0]) if args and args[0].isdigit() else 1024
    big = args[args.index("--input") + 1] if "--input" in args else None
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    subprocess.run(["cargo", "build", "--release", "-q", "--example", "gen_transcript"], check=True)
    subprocess.run(["cargo", "build", "--release", "-q"], check=True)
    qs = os.path.join(root, "target/release/quant-session")
    if big is None:
        big = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"qs-bench-{size}.log")
        if not os.path.exists(big):
            subprocess.run(["target/release/examples/gen_transcript", big, str(size), "7"], check=True)
    subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    mib = os.path.getsize(big) / (1 << 20)
    print(f"input: {big} ({mib:.0f} MiB), {os.cpu_count()} cores")

    cat3, _ = best([["cat", big], ["cat"], ["cat"]])
    pipe, pipe_rss = best([["cat", big], [qs, "check"], ["cat"]], watch=1)
    print(f"pipe:  cat|quant-session check|cat {pipe:.3f}s vs cat|cat|cat {cat3:.3f}s "
          f"= {pipe / cat3:.2f}x (target <= 1.10x), peak RssAnon {pipe_rss / 1024:.1f} MiB")
    file_t, file_rss = best([[qs, "check", "--format", "json", big]], watch=0)
    line = f"file:  quant-session check --format json {file_t:.3f}s, peak RssAnon {file_rss / 1024:.1f} MiB"
    rg = shutil.which("rg")
    if rg:
        pattern = r"^[ \t]*(\x1b\[[0-9;]*m)*(" + "|".join(KEYWORDS) + ")"
        rg_t, _ = best([[rg, "-c", pattern, big]])
        line += f" vs rg -c {rg_t:.3f}s = {file_t / rg_t:.2f}x (target <= 0.60x)"
    else:
        line += " (install ripgrep for the comparison)"
    print(line)

    stream = args[args.index("--stream") + 1] if "--stream" in args else None
    if stream is None:
        stream = os.path.join(os.environ.get("TMPDIR", "/tmp"), "qs-bench-256.jsonl")
        if not os.path.exists(stream):
            subprocess.run([sys.executable, "benches/gen_stream.py", stream, "256", "7"], check=True)
    subprocess.run(["cat", stream], stdout=subprocess.DEVNULL, check=True)
    js_t, js_rss = best([[qs, "check", "--format", "json", stream]], watch=0)
    report = subprocess.run([qs, "check", "--format", "json", stream], capture_output=True, text=True).stdout
    summary = report.strip().splitlines()[-1]
    line = (f"stream-json: quant-session check --format json {js_t:.3f}s, peak RssAnon {js_rss / 1024:.1f} MiB"
            f" ({summary})")
    jq = shutil.which("jq")
    if jq:
        jq_t, _ = best([[jq, "-c", 'select(.type=="assistant") | .message.content[] | select(.type=="text") | .text',
                         stream]])
        line += f" vs jq {jq_t:.3f}s = {js_t / jq_t:.2f}x (target <= 0.25x)"
    print(line)

    long_mib = int(args[args.index("--long-line") + 1]) if "--long-line" in args else 512
    long = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"qs-bench-line-{long_mib}.log")
    if not os.path.exists(long) or os.path.getsize(long) != long_mib << 20:
        with open(long, "wb") as f:
            f.write(b"SESSION_START: researcher-2026-11-23T10:15:30 ")
            block = b"x" * (1 << 20)
            for _ in range(long_mib):
                f.write(block)
            f.truncate(long_mib << 20)
    subprocess.run(["cat", long], stdout=subprocess.DEVNULL, check=True)
    lp_t, lp_rss = best([["cat", long], [qs, "check"], ["cat"]], watch=1)
    lf_t, lf_rss = best([[qs, "check", "--format", "json", long]], watch=0)
    print(f"{long_mib} MiB line without a newline: pipe {lp_t:.3f}s, peak RssAnon {lp_rss / 1024:.1f} MiB; "
          f"file {lf_t:.3f}s, peak RssAnon {lf_rss / 1024:.1f} MiB (target <= 16 MiB)")


if __name__ == "__main__":
    main()
