#!/usr/bin/env python3
"""gen_open_tasks.py OUT [SESSIONS] [TASKS]: the worst case of the pictures (SPEC 6):
SESSIONS sessions (default 10), each starting TASKS tasks (default 20 000) that never
complete, and each session left without its SESSION_COMPLETE. Every task is a bar that
overlaps all the others of its session (and a finding), which is what made the
pictures grow without bound per input. 10 x 20 000 is 7.3 MB.
"""
import sys


def main():
    out = sys.argv[1]
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    tasks = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
    with open(out, "w") as f:
        for s in range(sessions):
            f.write(f"SESSION_START: researcher-2026-11-23T10:00:{s % 60:02d}.{s:06d}\n")
            for t in range(tasks):
                f.write(f"TASK_START: h-{s:02d}-{t:05d}\nbacktest run\n")
    print(out)


if __name__ == "__main__":
    main()
