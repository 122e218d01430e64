"""Summarise py-spy's ``--format raw`` output (collapsed stacks): where the samples went.

    .venv/bin/python bench/profile_summary.py PROFILE.txt [--top 25]

Prints the functions holding most samples on their own (self) and including what they call
(inclusive), each as a share of all samples taken.  ``bench/run --profile DIR`` writes one
such file per gateway row.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

# py-spy frames look like "function (path/to/file.py:123)"; the line number is dropped so
# that a function counts once however many lines of it were sampled.
_LINE = re.compile(r":\d+\)$")


def frame_name(frame: str) -> str:
    if frame.startswith("process "):  # --subprocesses: one root frame per process
        return "(a gateway process)"
    name = _LINE.sub(")", frame.strip())
    return re.sub(r"\(.*?/site-packages/", "(", name).replace(str(Path.cwd()) + "/", "")


def summarise(text: str) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for name in set(frames):
            inclusive[name] += samples
    return total, own, inclusive


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    total, own, inclusive = summarise(args.profile.read_text())
    if not total:
        raise SystemExit("no samples in the file")
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"-- {title} ({total} samples)")
        for name, samples in counter.most_common(args.top):
            print(f"{100 * samples / total:6.1f}%  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
