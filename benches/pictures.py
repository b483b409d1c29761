#!/usr/bin/env python3
"""The pictures' row of SPEC 6: for 10 sessions each with 20 000 TASK_START lines never
completed (7.3 MB, `benches/gen_open_tasks.py`), each picture report (`--report
html=`, `otlp=`, `perfetto=`) against the check alone (`check --format json FILE
>/dev/null`): time (median of N pairs run in turn, A B A B ..., and the ratio), bytes
written, and peak RssAnon (sampled on one more run, as compare.py does). Targets: <= 64
MiB RssAnon, <= 16 MB written, <= 3x the time of the check alone; and, when a Chromium
is on PATH, the HTML page opens (headless, --dump-dom) within 15 s.

The replay's row (issue 31): the HTML report of an agent transcript keeps what the worker
said and did (messages, tool inputs, results, capped); on a stream-json run of
`benches/gen_stream.py` (--stream-mib MiB, a 50 MB line among some hundreds of sessions)
the same targets hold: <= 3x the check alone, <= 16 MB written, <= 64 MiB RssAnon.

usage: benches/pictures.py [--sessions N] [--tasks N] [--pairs N] [--input FILE]
                           [--stream-mib N] [--stream FILE]
"""
import os, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import peak_rss_anon, median  # noqa: E402


def run(argv, watch=False):
    """Runs argv (stdout to /dev/null); returns (seconds, peak RssAnon KiB or None). Exit
    0 or 1 (findings) is a run; anything else aborts."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, stop, t = [], threading.Event(), None
    if watch:
        t = threading.Thread(target=peak_rss_anon, args=(p.pid, stop, peak))
        t.start()
    p.wait()
    elapsed = time.perf_counter() - start
    stop.set()
    if t:
        t.join()
    if p.returncode not in (0, 1):
        sys.exit(f"benchmark aborted: `{' '.join(argv)}` exited {p.returncode}")
    return elapsed, (peak[0] if peak else None)


def arg(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def main():
    args = sys.argv[1:]
    sessions, tasks = int(arg(args, "--sessions", 10)), int(arg(args, "--tasks", 20_000))
    pairs = int(arg(args, "--pairs", 5))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    subprocess.run(["cargo", "build", "--release", "-q"], check=True)
    qs = os.path.join(root, "target/release/quant-session")
    tmp = tempfile.mkdtemp(prefix="qs-pictures-")
    big = arg(args, "--input", None)
    if big is None:
        big = os.path.join(tmp, f"open-tasks-{sessions}x{tasks}.log")
        subprocess.run([sys.executable, "benches/gen_open_tasks.py", big, str(sessions), str(tasks)],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    print(f"input: {big} ({os.path.getsize(big) / 1e6:.1f} MB, {sessions} sessions x {tasks} open tasks), "
          f"{os.cpu_count()} cores, {pairs} pairs")
    alone = [qs, "check", "--format", "json", big]
    run(alone)  # warm-up
    alone_t = []
    rows = []
    for kind in ("html", "otlp", "perfetto"):
        out = os.path.join(tmp, f"picture.{kind}")
        with_report = alone + ["--report", f"{kind}={out}"]
        run(with_report)  # warm-up
        ta, tb, ratios = [], [], []
        for _ in range(pairs):
            a = run(with_report)[0]
            b = run(alone)[0]
            ta.append(a)
            tb.append(b)
            ratios.append(a / b)
        alone_t += tb
        rss = (run(with_report, watch=True)[1] or 0) / 1024
        size = os.path.getsize(out)
        rows.append((kind, median(ta), median(tb), median(ratios), min(ratios), max(ratios), size, rss, out))
    # The replay: the HTML report of a stream-json run, against the check alone.
    stream = arg(args, "--stream", None)
    if stream is None:
        mib = arg(args, "--stream-mib", "64")
        stream = os.path.join(tmp, f"stream-{mib}.jsonl")
        subprocess.run([sys.executable, "benches/gen_stream.py", stream, mib, "7"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cat", stream], stdout=subprocess.DEVNULL, check=True)
    out = os.path.join(tmp, "replay.html")
    stream_alone = [qs, "check", "--format", "json", stream]
    with_replay = stream_alone + ["--report", f"html={out}"]
    run(with_replay)  # warm-up
    ta, tb, ratios = [], [], []
    for _ in range(pairs):
        a = run(with_replay)[0]
        b = run(stream_alone)[0]
        ta.append(a)
        tb.append(b)
        ratios.append(a / b)
    rss = (run(with_replay, watch=True)[1] or 0) / 1024
    print(f"stream: {stream} ({os.path.getsize(stream) / 1e6:.1f} MB)")
    rows.append(("replay", median(ta), median(tb), median(ratios), min(ratios), max(ratios),
                 os.path.getsize(out), rss, out))
    alone_rss = (run(alone, watch=True)[1] or 0) / 1024
    print(f"check alone: check --format json FILE >/dev/null  {median(alone_t):.3f}s, "
          f"peak RssAnon {alone_rss:.1f} MiB")
    ok_all = True
    for kind, a, b, r, lo, hi, size, rss, out in rows:
        ok = r <= 3.0 and size <= 16_000_000 and rss <= 64
        ok_all &= ok
        print(f"{kind:9} {a:.3f}s vs {b:.3f}s alone: {r:.2f}x (spread {lo:.2f}-{hi:.2f}), "
              f"{size / 1e6:.2f} MB written, peak RssAnon {rss:.1f} MiB: "
              f"{'meets' if ok else 'MISSES'} the targets (<= 3x, <= 16 MB, <= 64 MiB)")
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    html = rows[0][8]
    if browser:
        start = time.perf_counter()
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                        f"file://{html}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        t = time.perf_counter() - start
        ok_all &= t <= 15
        print(f"html in {browser} (headless, --dump-dom): {t:.1f}s (target <= 15 s)")
    else:
        print("html in Chromium: not measured (no chromium on PATH)")
    sys.exit(0 if ok_all else 1)


if __name__ == "__main__":
    main()
