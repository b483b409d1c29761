#!/usr/bin/env python3
"""gen_stream.py OUT SIZE_MIB SEED: a Claude Code stream-json capture of many worker
sessions, the benchmark input of SPEC 6's stream-json row.

The mix of real captures: per session an init record, the worker's text with its
markers, per task a Task call to a subagent and its result, a Bash backtest whose output
(a CSV, from a few lines to a few MB) is in both the tool result and
`tool_use_result.stdout`, a Write call, and the completion block; once, half-way, a
50 MB Bash output on one line. Every session is clean, so a checker must report the
session count printed at the end and no finding. Deterministic for a seed.
"""
import json
import random
import sys


def main():
    out, size, seed = sys.argv[1], int(sys.argv[2]) << 20, int(sys.argv[3])
    rnd = random.Random(seed)
    words = ("momentum carry reversion sharpe drawdown lookback volatility regime spread "
             "fold turnover slippage universe rebalance signal").split()

    def dump(record):
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    def uid():
        return f"{rnd.getrandbits(128):032x}"

    def text(t):
        return dump({"type": "assistant", "message": {"id": f"msg_{rnd.getrandbits(40):x}", "role": "assistant",
                     "content": [{"type": "text", "text": t}]}, "parent_tool_use_id": None, "uuid": uid()})

    def call(name, tool_input, tid):
        return dump({"type": "assistant", "message": {"id": f"msg_{rnd.getrandbits(40):x}", "role": "assistant",
                     "content": [{"type": "tool_use", "id": tid, "name": name, "input": tool_input}]},
                     "parent_tool_use_id": None, "uuid": uid()})

    def result(tid, content, stdout=None):
        record = {"type": "user", "message": {"role": "user", "content": [
            {"tool_use_id": tid, "type": "tool_result", "content": content, "is_error": False}]},
            "parent_tool_use_id": None, "uuid": uid()}
        if stdout is not None:
            record["tool_use_result"] = {"stdout": stdout, "stderr": "", "interrupted": False}
        return dump(record)

    def prose(n):
        return " ".join(rnd.choice(words) for _ in range(n))

    def csv(rows):
        return "".join(f"2024-01-{1 + i % 28:02d},{rnd.random():.6f},{rnd.randrange(10**6)}\n" for i in range(rows))

    written, sessions, big_done = 0, 0, False
    with open(out, "wb") as f:
        while written < size:
            sessions += 1
            sid = f"researcher-2026-11-23T10:{sessions % 60:02d}:{sessions % 60:02d}.{sessions:06d}"
            records = [dump({"type": "system", "subtype": "init", "tools": ["Task", "Bash", "Read", "Write"]}),
                       text(f"SESSION_START: {sid}\nPATTERN_FILES_READ: what-works.md, what-fails.md")]
            tasks = rnd.randint(1, 4)
            for t in range(tasks):
                task = f"h-{sessions:05d}-{t}"
                records.append(text(f"TASK_START: {task}\nSUBAGENT_SPAWN: @quant-backtester\n{prose(30)}"))
                records.append(call("Task", {"subagent_type": "quant-backtester", "prompt": prose(50)}, f"t{sessions}-{t}"))
                records.append(result(f"t{sessions}-{t}", [{"type": "text", "text": prose(60)}]))
                rows = rnd.choice([5, 50, 500, 20000])
                if not big_done and written > size // 2:
                    rows, big_done = 800_000, True
                output = csv(rows)
                records.append(call("Bash", {"command": f"python3 backtest.py {task}"}, f"b{sessions}-{t}"))
                records.append(result(f"b{sessions}-{t}", output, output))
                records.append(call("Write", {"file_path": f"strategies/{task}.py", "content": "import numpy\n" * 30},
                                    f"w{sessions}-{t}"))
                records.append(result(f"w{sessions}-{t}", "File created"))
                records.append(text(f"SUBAGENT_COMPLETE: @quant-backtester\nFILES_CREATED: 1\nTASK_COMPLETE: {task}"))
            records.append(text("@sigma-distiller: Analyze this session and update pattern files"))
            records.append(text("DISTILLATION_COMPLETE\nPATTERNS_UPDATED: what-works.md (+1 entry)"))
            records.append(text(f"SESSION_COMPLETE: {sid}\nDURATION: {rnd.randint(5, 90)}m\nTASKS_COMPLETED: {tasks}\n"
                                f"FILES_CREATED: {tasks}\nSTRATEGIES_PRODUCED: 0\nHYPOTHESES_QUEUED: 0"))
            records.append(dump({"type": "result", "subtype": "success", "is_error": False, "num_turns": 4 * tasks + 4}))
            for r in records:
                f.write(r)
                written += len(r)
    print(json.dumps({"sessions": sessions, "bytes": written}))


if __name__ == "__main__":
    main()
