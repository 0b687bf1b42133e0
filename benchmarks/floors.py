"""What no build can beat, timed by `run.py` as separate processes:

    python3 benchmarks/floors.py parse SEEDS   # list, read, parse every record; a process per core
    python3 benchmarks/floors.py stat SEEDS    # list and `stat` every record file

`parse` reads each file and parses its front matter with `yaml.load(..., Loader=CSafeLoader)` in a
`multiprocessing` pool of `os.cpu_count()` processes: the least a cold build must do. `stat` is the
least a build with no change must do to know that nothing changed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from multiprocessing import Pool

import yaml

SUFFIXES = (".md", ".markdown", ".txt")
LOADER = yaml.CSafeLoader


def record_files(seeds: str) -> Iterator[str]:
    for folder, dirs, files in os.walk(seeds):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(SUFFIXES) and not name.startswith("."):
                yield os.path.join(folder, name)


def parse(path: str) -> int:
    with open(path, encoding="utf-8") as file:
        text = file.read()
    front = text.split("---\n", 2)[1]
    data = yaml.load(front, Loader=LOADER)  # CSafeLoader: the safe loader, in C
    return len(data)


def parse_all(seeds: str) -> int:
    paths = list(record_files(seeds))
    processes = os.cpu_count() or 1
    chunk = max(1, min(256, len(paths) // (processes * 8)))
    with Pool(processes) as pool:
        parsed = sum(1 for _ in pool.imap_unordered(parse, paths, chunksize=chunk))
    return parsed


def stat_all(seeds: str) -> int:
    count = 0
    for path in record_files(seeds):
        st = os.stat(path)
        count += st.st_size >= 0
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["parse", "stat"])
    parser.add_argument("seeds")
    args = parser.parse_args()
    count = parse_all(args.seeds) if args.what == "parse" else stat_all(args.seeds)
    print(f"{args.what}: {count} files", file=sys.stderr)


if __name__ == "__main__":
    main()
