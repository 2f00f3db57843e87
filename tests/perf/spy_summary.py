"""Sum up a py-spy recording in collapsed ("raw") form: where the app's samples went.

    python tests/perf/spy_summary.py FILE threads        share of samples per thread
    python tests/perf/spy_summary.py FILE self [N]       the N functions with the most samples of their own
    python tests/perf/spy_summary.py FILE incl [TEXT]    inclusive share per function (those containing TEXT)

Record one with `BENCH_PY_SPY=DIR python tests/perf/bench.py ...` (every thread of the app's process).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def _function(frame: str) -> str:
    """'name (path:line)' -> 'name (path)': lines of one function count together."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def summarise(path: Path, mode: str, arg: str | None) -> list[str]:
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        threads[frames[0]] += count
        own[frames[-1]] += count
        for function in {_function(frame) for frame in frames}:
            inclusive[function] += count
    lines = [f"{total:,} samples"]
    if mode == "threads":
        lines += [f"{n / total:6.1%} {name}" for name, n in threads.most_common(10)]
    elif mode == "self":
        lines += [f"{n / total:6.1%} {name}" for name, n in own.most_common(int(arg or 40))]
    else:
        wanted = [(name, n) for name, n in inclusive.most_common() if arg is None or arg in name]
        lines += [f"{n / total:6.1%} {name}" for name, n in wanted]
    return lines


if __name__ == "__main__":
    print("\n".join(summarise(Path(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
