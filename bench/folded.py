"""A py-spy profile in its raw (folded) form, summed up: where a process spent its samples.

`py-spy record -f raw` writes one line per distinct stack, `frame;frame;... COUNT`. This prints
the functions that took the most samples, by self time (the innermost frame) and inclusive time
(anywhere on the stack), as percentages of all samples; a profile recorded with `--threads`
(each stack starts with a frame `thread (TID): NAME`) also gets its samples by thread.

    python -m bench.folded sidecar.folded [--top 30]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

Counts = collections.Counter[str]


def summarize(text: str) -> tuple[int, Counts, Counts, Counts]:
    """(total samples, self samples by frame, inclusive samples by frame, samples by thread)."""
    own: Counts = collections.Counter()
    inclusive: Counts = collections.Counter()
    threads: Counts = collections.Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, n = stack.split(";"), int(count)
        if frames[0].startswith("thread (") and len(frames) > 1:  # `thread (TID): NAME`
            tid, _, thread_name = frames[0].partition(": ")
            threads[thread_name or tid] += n
            frames = frames[1:]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return total, own, inclusive, threads


def report(name: str, text: str, top: int = 30) -> str:
    total, own, inclusive, threads = summarize(text)
    lines = []
    tables = [("thread", threads)] if threads else []
    tables += [("function, self", own), ("function, inclusive", inclusive)]
    for title, table in tables:
        lines.append(f"== {name}: {total} samples; time by {title}")
        lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in table.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.folded")
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    print(report(args.path, Path(args.path).read_text(), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
