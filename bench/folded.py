"""A py-spy profile in its raw (folded) form, summed up: where a process spent its samples.

`py-spy record -f raw` writes one line per distinct stack, `frame;frame;... COUNT`. This prints
the functions that took the most samples, by self time (the innermost frame) and inclusive time
(anywhere on the stack), as percentages of all samples.

    python -m bench.folded sidecar.folded [--top 30]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path


def summarize(text: str) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """(total samples, self samples by frame, inclusive samples by frame)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, n = stack.split(";"), int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return total, own, inclusive


def report(name: str, text: str, top: int = 30) -> str:
    total, own, inclusive = summarize(text)
    lines = []
    for title, table in (("self", own), ("inclusive", inclusive)):
        lines.append(f"== {name}: {total} samples; {title} time by function")
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
