#!/usr/bin/env python3
"""Whole-program benchmark (SPEC §6 / issue 7): times quant-session against the reference
commands on the same input in the same run, and samples its peak anonymous memory.

usage: benches/compare.py [SIZE_MIB] [--input FILE] [--stream FILE] [--long-line MIB] [--pairs N]
Builds the release binary, generates the inputs with the project's own generators
(`examples/gen_transcript.rs` for text, `benches/gen_stream.py` for Claude Code
stream-json) unless given, warms the page cache, checks every command exits 0 and that
the pipe filter passes every byte, runs each comparison as N pairs in turn (A B A B ...,
default 9) and prints the median ratio with its spread (saying when the machine is too
noisy for it), and peak RssAnon, for every row of SPEC 6: the pipe filter against cat|cat|cat,
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


def run_pipeline(stages, watch=None, check=True):
    """Runs stages (lists of argv) as a pipeline; returns (seconds, peak KiB of stage
    `watch`). Every stage must exit 0 (`check`): a command that failed is no
    measurement."""
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
    if check:
        for argv, p in zip(stages, procs):
            if p.returncode != 0:
                sys.exit(f"benchmark aborted: `{' '.join(argv)}` exited {p.returncode}")
    return elapsed, (peak[0] if peak else None)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def paired(a, b, pairs):
    """Runs a and b alternately (A B A B ...) `pairs` times: the median ratio a/b with
    its spread (min, max), and the median times. Pairing keeps the ratio meaningful when
    the machine's speed drifts."""
    ratios, ta, tb = [], [], []
    run_pipeline(a)
    run_pipeline(b)  # warm-up, not counted
    for _ in range(pairs):
        x = run_pipeline(a)[0]
        y = run_pipeline(b)[0]
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return median(ratios), min(ratios), max(ratios), median(ta), median(tb)


def verdict(name, ratio, lo, hi, target):
    spread = (hi - lo) / ratio
    noisy = " — the machine is too noisy for this figure (spread over 25 %): run again" if spread > 0.25 else ""
    ok = "meets" if ratio <= target else "MISSES"
    return f"{name}: median {ratio:.2f}x (spread {lo:.2f}-{hi:.2f}), {ok} the target {target:.2f}x{noisy}"


def peak(stages, watch):
    """One more run, sampling stage `watch`'s peak RssAnon (not during the timed runs:
    the sampler would take a core from the tool on a 2-core machine)."""
    return (run_pipeline(stages, watch, check=False)[1] or 0) / 1024


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

    pairs = int(args[args.index("--pairs") + 1]) if "--pairs" in args else 9
    # The pipe filter must pass every byte: counted once, outside the timing.
    passed = subprocess.run(f"cat {big} | {qs} check 2>/dev/null | wc -c", shell=True,
                            capture_output=True, text=True, check=True).stdout.strip()
    if int(passed) != os.path.getsize(big):
        sys.exit(f"benchmark aborted: check passed {passed} bytes of {os.path.getsize(big)}")
    pipe = [["cat", big], [qs, "check"], ["cat"]]
    r, lo, hi, ta, tb = paired(pipe, [["cat", big], ["cat"], ["cat"]], pairs)
    print(f"pipe:  cat|quant-session check|cat {ta:.3f}s vs cat|cat|cat {tb:.3f}s ({pairs} pairs, medians; "
          f"all {passed} bytes passed through), peak RssAnon {peak(pipe, 1):.1f} MiB")
    print("       " + verdict("pipe ratio", r, lo, hi, 1.25) + " (SPEC goal 1.10x)")
    filemode = [[qs, "check", "--format", "json", big]]
    rg = shutil.which("rg")
    if rg:
        pattern = r"^[ \t]*(\x1b\[[0-9;]*m)*(" + "|".join(KEYWORDS) + ")"
        r, lo, hi, ta, tb = paired(filemode, [[rg, "-c", pattern, big]], pairs)
        print(f"file:  quant-session check --format json {ta:.3f}s vs rg -c {tb:.3f}s ({pairs} pairs), "
              f"peak RssAnon {peak(filemode, 0):.1f} MiB")
        print("       " + verdict("file ratio", r, lo, hi, 0.60))
    else:
        t = median([run_pipeline(filemode)[0] for _ in range(3)])
        print(f"file:  quant-session check --format json {t:.3f}s, peak RssAnon {peak(filemode, 0):.1f} MiB "
              "(install ripgrep for the comparison: cargo install ripgrep)")

    stream = args[args.index("--stream") + 1] if "--stream" in args else None
    if stream is None:
        stream = os.path.join(os.environ.get("TMPDIR", "/tmp"), "qs-bench-256.jsonl")
        if not os.path.exists(stream):
            subprocess.run([sys.executable, "benches/gen_stream.py", stream, "256", "7"], check=True)
    subprocess.run(["cat", stream], stdout=subprocess.DEVNULL, check=True)
    js = [[qs, "check", "--format", "json", stream]]
    js_t = median([run_pipeline(js)[0] for _ in range(3)])
    js_rss = peak(js, 0) * 1024
    report = subprocess.run([qs, "check", "--format", "json", stream], capture_output=True, text=True).stdout
    summary = report.strip().splitlines()[-1]
    line = (f"stream-json: quant-session check --format json {js_t:.3f}s, peak RssAnon {js_rss / 1024:.1f} MiB"
            f" ({summary})")
    jq = shutil.which("jq")
    if jq:
        jqc = [[jq, "-c", 'select(.type=="assistant") | .message.content[] | select(.type=="text") | .text',
                stream]]
        r, lo, hi, _, jq_t = paired(js, jqc, pairs)
        line += f" vs jq {jq_t:.3f}s; " + verdict("ratio", r, lo, hi, 0.25)
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
    lp = [["cat", long], [qs, "check"], ["cat"]]
    lf = [[qs, "check", "--format", "json", long]]
    lp_t = median([run_pipeline(lp, check=False)[0] for _ in range(3)])
    lf_t = median([run_pipeline(lf, check=False)[0] for _ in range(3)])
    lp_rss, lf_rss = peak(lp, 1) * 1024, peak(lf, 0) * 1024
    print(f"{long_mib} MiB line without a newline: pipe {lp_t:.3f}s, peak RssAnon {lp_rss / 1024:.1f} MiB; "
          f"file {lf_t:.3f}s, peak RssAnon {lf_rss / 1024:.1f} MiB (target <= 16 MiB)")


if __name__ == "__main__":
    main()
