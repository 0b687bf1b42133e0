"""Is `feeds build` fast at 100,000 records? One command times it against a naive script and the
floors no build can beat, on the same synthetic corpus, and says which targets are met.

    python3 benchmarks/run.py                       # 10,000, 100,000 and 300,000 records (long)
    python3 benchmarks/run.py --sizes 1000000       # once, for the README: an hour or more
    python3 benchmarks/run.py --sizes 2000          # a quick run
    python3 benchmarks/run.py --sizes 10000 --json results.json --keep --workdir /tmp/bench
    python3 benchmarks/run.py --snapshot             # while someone is editing the package

For each size, a corpus is generated once (`feeds.synthetic`, seed 1), then these steps run, each
as its own process (wall time around the process; peak RSS from the kernel's accounting of that
process and every process it waited for):

    naive       benchmarks/naive.py: safe_load every file, group, feedgen newest 50, RSS and Atom
    parse floor benchmarks/floors.py parse: read + CSafeLoader every file, one process per core
    cold        feeds build, no cache, empty output
    no change   feeds build again
    stat all    benchmarks/floors.py stat: `stat` every record file (the no-change floor)
    +100        feeds build after 100 new records, the corpus's newest (dated after its last)
    edit/delete feeds build after 10 records were edited (title) and 10 others deleted
    filter      feeds build after one custom feed's filter changed (min_quality 50 -> 60)
    comment     feeds build after a comment was added to feeds.yaml (nothing to redo)

`no change` and `stat all` take a tenth of a second at 10,000 records: each runs three times
(`REPEATS`), fifteen when its median is under half a second (`QUICK`: at that length the
machine's own noise is a third of it), and the median run is shown. `+100` and `edit/delete`
take a second or two: each runs three times (`ROUNDS`), each round a change of its own (the next
100 records; 10 other edits and 10 other deletions), and the median round is shown, with the
files it wrote; the others' times are in the log.

Every build uses the same feeds.yaml, with two custom feeds (`BENCH_CONFIG`). After each
incremental step, the same corpus is built cold into a fresh output folder with a fresh cache,
and the two output trees are compared byte for byte, every file.

Memory is shown two ways: "peak RSS" is the largest single process (exact: the rusage of a tiny
wrapper process's children); "tree PSS" is the largest total of the step's whole process tree,
sampled from /proc every 50 ms: each process's PSS, which shares the pages forked workers have in
common with their parent among them (a sum of RSS would count those pages once per worker). The
RSS targets are judged on the larger of the two. "CPU s" is user + system time of the step's
processes; "other load" is how many cores other processes kept busy meanwhile (above 0.25 the
step's time is inflated by them: run again on a quiet machine). Every step runs with a warm page
cache: the corpus was just written.

The package's code is hashed before and after each step, as `feeds` does to key its cache: if it
changes during the run (someone is editing it), the cache is dropped and the "incremental" numbers
are really cold ones, so the table says so. `--snapshot` runs a copy of the package taken at the
start instead, its bytecode compiled as an installed package's is. The exit status is 1 when a
step failed or an output differed, else 0 (a missed target is a result, not an error).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import hashlib
import importlib.util
import itertools
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import Pool
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NEW_RECORDS_START = 10_000_000  # "+100 new records" are numbered far from the corpus
ADDED, EDITED, DELETED = 100, 10, 10
REPEATS = 3  # runs of the short steps (no change, stat all): the median is shown
ROUNDS = 3  # rounds of +100 and edit/delete, each with a change of its own: the median is shown
QUICK, QUICK_REPEATS = 0.5, 15  # a short step's median under QUICK s: run it this often
MB = 1024 * 1024
NOISE = 0.25  # cores busy with other work during a step above which its time is suspect
BENCH_CONFIG = """\
custom:
  - title: AI and robots
    topics: {any: [AI, Robotics]}
  - title: Quality picks
    min_quality: 50
"""
INCREMENTAL = ("+100", "edit/delete", "filter", "comment")


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss_mb: float  # the largest single process of the step (exact)
    sum_rss_mb: float | None  # the largest sampled PSS total of its process tree (None: no /proc)
    exit_code: int
    cpu_seconds: float = 0.0  # user + system time of all its processes
    other_load: float | None = None  # cores busy with other work meanwhile (noise if > 0.2)
    files: int | None = None  # output files afterwards (builds)
    # Output files the step wrote or removed (builds): what an incremental step's time is
    # proportional to, if it costs what changed.
    changed: int | None = None
    code: str = ""  # digest of the package's code after the step; "a>b" when it changed during it

    @property
    def rss_mb(self) -> float:
        """What the RSS targets are judged on."""
        return max(self.peak_rss_mb, self.sum_rss_mb or 0.0)


@dataclass
class Ratio:
    name: str
    value: float | None
    target: float
    unit: str = ""  # "" for a ratio, "s", "MB" or "%"

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.value <= self.target


@dataclass
class SizeResult:
    records: int
    generate_seconds: float
    steps: dict[str, Step] = field(default_factory=dict)
    identical: dict[str, bool] = field(default_factory=dict)  # step -> output == a cold build
    differences: list[str] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)


# --- measuring one process -------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, resident pages, state), for every process /proc shows. The state:
    "gone" (a zombie, or dead: it holds no memory), "exiting" (handing its memory back), else
    "running"."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                data = file.read()
        except OSError:
            continue  # gone meanwhile
        fields = data[data.rindex(b")") + 2 :].split()  # after "pid (comm) "
        if fields[0] in (b"Z", b"X", b"x"):
            state = "gone"
        elif int(fields[6]) & _PF_EXITING:
            state = "exiting"
        else:
            state = "running"
        table[int(entry.name)] = (int(fields[1]), int(fields[21]), state)
    return table


_PF_EXITING = 0x4  # <linux/sched.h>: in a process's flags (its stat's 9th field) while it exits

# Whether the kernel gives each process's PSS (`/proc/PID/smaps_rollup`, Linux 4.14 and later).
HAS_PSS = Path("/proc/self/smaps_rollup").exists()


def _living_descendants(table: dict[int, tuple[int, int, str]], root: int) -> list[int] | None:
    """The descendants of `root` that hold memory, in order; None while one is exiting."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        state = table[pid][2]
        if state == "exiting":
            return None
        if state == "running":
            found.append(pid)
    return sorted(found)


def _tree_memory_bytes(root: int) -> int | None:
    """The total memory of the descendants of `root` (not of `root` itself): each one's PSS,
    which splits the pages that forked workers share with their parent among them (RSS would
    count them once per process), or its RSS where the kernel gives no PSS. None when a process
    of the tree started, ended or was exiting while they were read: they are read one after
    the other, and a page read in one as shared by three and in the next as shared by two (a
    worker had ended meanwhile) counts more than once (a cold build at 1,000,000 records whose
    tree held 1,080 MB read 1,201 MB once in 4,700 samples)."""
    before = _proc_table()
    tree = _living_descendants(before, root)
    if tree is None:
        return None
    total = sum(_memory_bytes(pid, before[pid][1]) for pid in tree)
    if _living_descendants(_proc_table(), root) != tree:
        return None
    return total


def _memory_bytes(pid: int, resident_pages: int) -> int:
    """A process's PSS. Where the kernel gives PSS but not this process's, it is exiting (its
    memory is being handed back) or gone: 0, not the RSS read a moment before, which counts
    every page it shares with the build again (a worker ending while a cold build of 300,000
    records was sampled added 509 MB to a true peak of 670 MB)."""
    pss = _pss_bytes(pid)
    if pss is not None:
        return pss
    return 0 if HAS_PSS else resident_pages * os.sysconf("SC_PAGE_SIZE")


def _pss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as file:
            for line in file:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class TreeSampler(threading.Thread):
    """The largest total memory (PSS) of the descendants of a process, sampled until `stop()`."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(OSError, ValueError, IndexError):  # a process just ended
                self.peak = max(self.peak, _tree_memory_bytes(self.pid) or 0)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# Runs the step as its child and reports the child's wall time, exit code, CPU time and peak RSS:
# its own RUSAGE_CHILDREN holds only the step (and whatever the step waited for). Not measured
# from this process, because a child's ru_maxrss starts at the RSS of the process that forked it.
WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
with open(sys.argv[1], "w") as file:
    json.dump({"seconds": seconds, "maxrss": usage.ru_maxrss, "cpu": cpu, "exit": code}, file)
"""


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as file:
            fields = [int(x) for x in file.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(name: str, command: Sequence[str], cwd: Path, logs: Path, timeout: float) -> Step:
    """Run `command` as one step: its wall time, peak RSS, CPU time and the machine's other load."""
    logs.mkdir(parents=True, exist_ok=True)
    slug = name.replace(" ", "-").replace("/", "-").replace("+", "add")
    result = logs / f"{slug}.json"
    result.unlink(missing_ok=True)
    wrapped = [sys.executable, "-I", "-S", "-c", WRAPPER, str(result), *command]
    # What earlier steps wrote goes to disk first: else the kernel writes it out during this
    # step, which it slows (a cold build at 1,000,000 records leaves gigabytes behind it).
    os.sync()
    with open(logs / f"{slug}.out", "wb") as out, open(logs / f"{slug}.err", "wb") as err:
        busy = _busy_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        sampler = TreeSampler(proc.pid) if Path("/proc/self/stat").exists() else None
        if sampler:
            sampler.start()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the wrapper leads the step's process group
            proc.wait()
        outer = time.perf_counter() - started
        if sampler:
            sampler.stop()
        busy_after = _busy_seconds()
    if result.exists():
        measured = json.loads(result.read_text())
        seconds, code, cpu = measured["seconds"], measured["exit"], measured["cpu"]
        # ru_maxrss: KiB on Linux, bytes on macOS.
        peak = measured["maxrss"] / (MB if sys.platform == "darwin" else 1024)
    else:
        seconds, code, cpu, peak = outer, proc.returncode or -9, 0.0, 0.0
    other = None
    if busy is not None and busy_after is not None and outer > 0:
        other = max(0.0, busy_after - busy - cpu) / outer
    if code != 0:
        tail = (logs / f"{slug}.err").read_text(errors="replace")[-2000:]
        print(f"\n!! step {name!r} exited with {code}:\n{tail}", file=sys.stderr)
    sampled = sampler.peak / MB if sampler else None
    return Step(name, seconds, peak, sampled, code, cpu_seconds=cpu, other_load=other)


# --- the corpus ------------------------------------------------------------------------------


def _write_chunk(folder: str, count: int, seed: int, start: int, dated_from: int | None) -> int:
    from feeds.synthetic import write_corpus

    return len(write_corpus(Path(folder), count, seed, start, dated_from))


def generate(
    folder: Path, count: int, seed: int, start: int = 0, dated_from: int | None = None
) -> None:
    """`feeds.synthetic.write_corpus`, split over one process per core (same files, faster)."""
    processes = min(os.cpu_count() or 1, max(1, count // 1000))
    bounds = [start + count * i // processes for i in range(processes + 1)]
    chunks = [
        (str(folder), b - a, seed, a, None if dated_from is None else dated_from + a - start)
        for a, b in itertools.pairwise(bounds)
    ]
    with Pool(processes) as pool:
        written = sum(pool.starmap(_write_chunk, chunks))
    assert written == count, (written, count)


def edit_and_delete(seeds: Path, candidates: list[Path], seed: int) -> None:
    """Change the title of EDITED records and delete DELETED others, chosen at random among the
    `candidates` still there."""
    import yaml

    present = [path for path in candidates if path.exists()]
    chosen = random.Random(seed).sample(present, EDITED + DELETED)
    for path in chosen[:EDITED]:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        index = next(i for i, line in enumerate(lines) if line.startswith("title: "))
        title = yaml.safe_load(lines[index])["title"]
        lines[index] = f"title: {json.dumps('Edited: ' + str(title), ensure_ascii=False)}\n"
        path.write_text("".join(lines), encoding="utf-8")
    for path in chosen[EDITED:]:
        path.unlink()


def installed_package() -> Path:
    """The folder of the `feeds` package that `python -m feeds` runs (not imported here)."""
    spec = importlib.util.find_spec("feeds")
    if not spec or not spec.origin:
        sys.exit("the feeds package is not installed: pip install -e .")
    return Path(spec.origin).parent


def snapshot_package(package: Path, into: Path) -> Path:
    """A copy of the package, put first on PYTHONPATH so every step runs the same code; its
    bytecode compiled, as `pip install` does: with PYTHONDONTWRITEBYTECODE set, each step would
    compile every module it imports again (18 ms of a run with nothing to do at 10,000 records)."""
    shutil.copytree(package, into / "feeds", ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(into / "feeds", quiet=1)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(into), os.environ.get("PYTHONPATH")) if p
    )
    return into / "feeds"


def package_digest(package: Path) -> str:
    """What `feeds._version.CODE_DIGEST` will be: the cache is dropped when it changes, so a
    change to the package's code in the middle of a run makes the incremental numbers cold ones."""
    files = sorted(package.glob("*.py"))
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:16]


def record_files(seeds: Path) -> list[Path]:
    return sorted(p for p in seeds.rglob("*.md") if p.is_file())


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Each file under `folder` with its inode, size and mtime: a file written again (renamed
    over the old one) has another inode or mtime."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(path)
                found[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def compare_trees(a: Path, b: Path) -> list[str]:
    """Every relative path that is missing on one side or differs in bytes; [] when identical."""

    def tree(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    left, right = tree(a), tree(b)
    problems = [f"only in incremental: {p}" for p in sorted(left - right)]
    problems += [f"only in cold: {p}" for p in sorted(right - left)]
    problems += [
        f"bytes differ: {p}"
        for p in sorted(left & right)
        if (a / p).read_bytes() != (b / p).read_bytes()
    ]
    return problems


# --- one size --------------------------------------------------------------------------------


def run_size(
    count: int,
    seed: int,
    work: Path,
    package: Path,
    timeout: float,
    skip: set[str],
    say: Callable[[str], None],
) -> SizeResult:
    seeds = work / "seeds"
    logs = work / "logs"
    started = time.perf_counter()
    generate(seeds, count, seed)
    result = SizeResult(count, time.perf_counter() - started)
    say(f"  generated {count:,} records in {result.generate_seconds:.1f} s")
    py = sys.executable

    config = work / "feeds.yaml"
    config.write_text(BENCH_CONFIG)

    def feeds_build(output: Path, cache: Path) -> list[str]:
        return [py, "-m", "feeds", "build", "--seeds", str(seeds), "--output", str(output),
                "--cache", str(cache), "--config", str(config), "-q"]  # fmt: skip

    def step(
        name: str,
        command: list[str],
        output: Path | None = None,
        times: int = 1,
        change: Callable[[int], None] | None = None,
    ) -> Step:
        """Run the step `times` times; with a `change`, each run after a change of its own
        (`change(round)`), and what it wrote counted run by run."""
        before = package_digest(package)
        runs: list[Step] = []

        def run_once() -> None:
            if change:
                change(len(runs))
            files_before = listing(output) if output else {}
            run = measure(name, command, work, logs, timeout)
            files_after = listing(output) if output else {}
            changed = sum(files_before.get(path) != found for path, found in files_after.items())
            changed += len(files_before.keys() - files_after.keys())
            files = len(files_after) if output and output.exists() else None
            runs.append(replace(run, files=files, changed=changed if output else None))

        for _ in range(times):
            run_once()
        if not change and times > 1 and sorted(run.seconds for run in runs)[times // 2] < QUICK:
            for _ in range(QUICK_REPEATS - times):
                run_once()
        in_order = [run.seconds for run in runs]
        runs.sort(key=lambda run: run.seconds)
        failed = [run for run in runs if run.exit_code != 0]
        # The median: one run of a tenth of a second is noise. A failure is always shown.
        measured = failed[0] if failed else runs[len(runs) // 2]
        if not change:  # the same run again and again: what all of them wrote
            changed = [run.changed for run in runs if run.changed is not None]
            measured = replace(measured, changed=sum(changed) if changed else None)
        after = package_digest(package)
        digest = after if before == after else f"{before}>{after}"
        done = result.steps[name] = replace(measured, code=digest)
        rss = f"{done.peak_rss_mb:.0f} MB" + (
            f" (tree {done.sum_rss_mb:.0f} MB)" if done.sum_rss_mb else ""
        )
        shown = change and len(in_order) > 1
        rounds = f"  (rounds: {', '.join(f'{t:.2f}' for t in in_order)} s)" if shown else ""
        say(
            f"  {name:<12} {done.seconds:8.2f} s  {rss}{rounds}"
            + ("" if done.exit_code == 0 else f"  EXIT {done.exit_code}")
        )
        return done

    out, cache = work / "output", work / "cache"
    if "naive" not in skip:
        step("naive", [py, str(HERE / "naive.py"), str(seeds), str(work / "naive")], work / "naive")
    if "floor" not in skip:
        step("parse floor", [py, str(HERE / "floors.py"), "parse", str(seeds)])
    step("cold", feeds_build(out, cache), out)
    step("no change", feeds_build(out, cache), out, times=REPEATS)
    step("stat all", [py, str(HERE / "floors.py"), "stat", str(seeds)], times=REPEATS)

    originals = record_files(seeds)

    def add(r: int) -> None:
        # Named far from the corpus, dated right after its newest record: they fall in its
        # newest month and day, as a curator's new records do.
        generate(seeds, ADDED, seed, NEW_RECORDS_START + r * ADDED, dated_from=count + r * ADDED)

    def edit(r: int) -> None:
        edit_and_delete(seeds, originals, seed + r)

    def filter_changed(r: int) -> None:
        config.write_text(BENCH_CONFIG.replace("50", "60"))

    def comment(r: int) -> None:
        config.write_text("# feeds for the benchmark\n" + config.read_text())

    # Each change, given its round, and how many rounds: a step of a second or two runs several.
    changes: dict[str, tuple[Callable[[int], None], int]] = {
        "+100": (add, ROUNDS),
        "edit/delete": (edit, ROUNDS),
        "filter": (filter_changed, 1),
        "comment": (comment, 1),
    }
    for name, (change, rounds) in changes.items():
        step(name, feeds_build(out, cache), out, times=rounds, change=change)
        if "check" not in skip:
            same = result.identical[name] = check(result, name, feeds_build, out, work, timeout)
            say(f"  {name} output == cold build of the same corpus: {_ok(same)}")
    result.ratios = ratios(result)
    return result


def check(
    result: SizeResult,
    after: str,
    feeds_build: Callable[[Path, Path], list[str]],
    out: Path,
    work: Path,
    timeout: float,
) -> bool:
    """Build the current corpus cold into a fresh folder; is it byte for byte `out`?"""
    fresh = work / ("check-" + after.replace("/", "-").replace("+", "add"))
    shutil.rmtree(fresh, ignore_errors=True)
    command = feeds_build(fresh / "output", fresh / "cache")
    code = measure(f"check after {after}", command, work, work / "logs", timeout).exit_code
    if code != 0:
        result.differences.append(f"after {after}: the check build failed (exit {code})")
        return False
    problems = compare_trees(out, fresh / "output")
    result.differences += [f"after {after}: {p}" for p in problems]
    shutil.rmtree(fresh, ignore_errors=True)
    return not problems


def ratios(result: SizeResult) -> list[Ratio]:
    steps = result.steps

    def seconds(name: str) -> float | None:
        s = steps.get(name)
        return s.seconds if s and s.exit_code == 0 else None

    def div(a: float | None, b: float | None, scale: float = 1.0) -> float | None:
        return None if a is None or not b else a / b * scale

    cold, floor = seconds("cold"), seconds("stat all")
    rebuilds = [steps[n] for n in ("no change", *INCREMENTAL) if n in steps]
    return [
        Ratio("cold / naive", div(cold, seconds("naive")), 0.33),
        Ratio("cold / parse floor", div(cold, seconds("parse floor")), 2.5),
        Ratio("no change / stat all files", div(seconds("no change"), floor), 1.5),
        *(
            Ratio(f"{name} beyond stat", beyond_stat(result, name), 2.0, "s")
            for name in ("+100", "edit/delete")
        ),
        Ratio("peak memory cold", steps["cold"].rss_mb if "cold" in steps else None, 1000, "MB"),
        Ratio("peak memory rebuilds", max((s.rss_mb for s in rebuilds), default=None), 300, "MB"),
    ]


def beyond_stat(result: SizeResult, name: str) -> float | None:
    """The step's time beyond the scan every run makes (the `stat all` floor)."""
    step, floor = result.steps.get(name), result.steps.get("stat all")
    if not step or not floor or step.exit_code != 0:
        return None
    return max(0.0, step.seconds - floor.seconds)


def growth(results: Sequence[SizeResult]) -> list[Ratio]:
    """Does the work beyond the scan grow with the archive? The largest size against the
    smallest, for each incremental step (target: at most 1.3 times)."""
    if len(results) < 2:
        return []
    small, large = min(results, key=lambda r: r.records), max(results, key=lambda r: r.records)
    ratios = []
    for name in ("+100", "edit/delete"):
        a, b = beyond_stat(small, name), beyond_stat(large, name)
        value = None if a is None or b is None or not a else b / a
        label = f"{name} beyond stat, {large.records // 1000}k / {small.records // 1000}k"
        ratios.append(Ratio(label, value, 1.3))
    return ratios


# --- printing --------------------------------------------------------------------------------


def _ok(flag: bool | None) -> str:
    return {True: "OK", False: "DIFFERENT", None: "not checked"}[flag]


def _value(ratio: Ratio) -> str:
    if ratio.value is None:
        return "n/a"
    if ratio.unit == "s":
        return f"{ratio.value:.2f} s"
    if ratio.unit == "%":
        return f"{ratio.value:.1f} %"
    if ratio.unit == "MB":
        return f"{ratio.value:.0f} MB"
    return f"{ratio.value:.2f}"


def _target(ratio: Ratio) -> str:
    number = f"{ratio.target:g}"
    return f"<= {number} {ratio.unit}".rstrip()


def code_changed(result: SizeResult) -> bool:
    """Did the package's code change between or during the feeds steps (so the cache was lost)?"""
    floors = ("naive", "parse floor")
    return len({s.code for name, s in result.steps.items() if name not in floors}) > 1


def table(result: SizeResult) -> str:
    lines = [
        f"== {result.records:,} records (generated in {result.generate_seconds:.1f} s) ==",
        f"{'step':<14}{'seconds':>10}{'CPU s':>9}{'peak RSS MB':>13}{'tree PSS MB':>12}"
        f"{'files':>8}{'changed':>9}{'other load':>12}  exit",
    ]
    for s in result.steps.values():
        summed = f"{s.sum_rss_mb:.0f}" if s.sum_rss_mb is not None else "-"
        files = "" if s.files is None else str(s.files)
        changed = "" if s.changed is None else str(s.changed)
        other = "-" if s.other_load is None else f"{s.other_load:.2f}"
        lines.append(
            f"{s.name:<14}{s.seconds:>10.2f}{s.cpu_seconds:>9.2f}{s.peak_rss_mb:>13.0f}"
            f"{summed:>12}{files:>8}{changed:>9}{other:>12}  {s.exit_code}"
        )
    noisy = [s.name for s in result.steps.values() if (s.other_load or 0) > NOISE]
    if noisy:
        lines.append(
            f"WARNING: other processes kept more than {NOISE} of a core busy during: "
            + ", ".join(noisy)
            + " (their times are inflated)"
        )
    lines.append("")
    lines.append(f"{'ratio':<28}{'value':>12}{'target':>12}  result")
    for r in result.ratios:
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[r.passed]
        lines.append(f"{r.name:<28}{_value(r):>12}{_target(r):>12}  {verdict}")
    for name, flag in result.identical.items():
        label = f"{name} output == cold"
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[flag]
        lines.append(f"{label:<28}{_ok(flag):>12}{'identical':>12}  {verdict}")
    if code_changed(result):
        lines.append(
            "WARNING: the package's code changed during this run (cache dropped): "
            + ", ".join(f"{s.name}: {s.code}" for s in result.steps.values())
        )
    lines += [f"  {d}" for d in result.differences[:20]]
    if len(result.differences) > 20:
        lines.append(f"  ... and {len(result.differences) - 20} more differences")
    return "\n".join(lines)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(HERE.parent), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> dict[str, Any]:
    import yaml

    try:
        from feeds import __version__ as version
    except Exception:  # the package may be mid-change; the numbers still mean something
        version = "?"
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no", "--", "feeds"):
        commit += "+changes"  # feeds/ differs from the commit
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "feeds_version": version,
        "commit": commit or None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def to_json(info: dict[str, Any], results: list[SizeResult]) -> dict[str, Any]:
    sizes = {}
    for r in results:
        sizes[str(r.records)] = {
            "records": r.records,
            "generate_seconds": round(r.generate_seconds, 3),
            "steps": {name: {**asdict(s), "rss_mb": s.rss_mb} for name, s in r.steps.items()},
            "code_changed_during_run": code_changed(r),
            "identical": r.identical,
            "differences": r.differences,
            "ratios": [{**asdict(x), "passed": x.passed} for x in r.ratios],
        }
    return {"machine": info, "sizes": sizes}


# --- the command -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where corpora and outputs go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the working folders")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per step")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["naive", "floor", "check"],
        help="steps to leave out (check: the cold build after each incremental step that its "
        "output is compared with; at 1,000,000 records each takes a quarter of an hour)",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="run a copy of the package taken at the start (for when it is being edited)",
    )
    args = parser.parse_args(argv)

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        root = args.workdir.resolve()
    else:
        root = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    package = installed_package()
    info = machine()
    if args.snapshot:
        shutil.rmtree(root / "snapshot", ignore_errors=True)
        package = snapshot_package(package, root / "snapshot")
    info["package"] = str(package)
    info["package_digest"] = package_digest(package)
    print(
        f"feeds {info['feeds_version']} ({info['commit']}, code {info['package_digest']} "
        f"in {package}), Python {info['python']}, {info['cpus']} CPUs, "
        f"libyaml {'yes' if info['libyaml'] else 'NO'}; working in {root}",
        flush=True,
    )

    def say(line: str) -> None:
        print(line, flush=True)

    results: list[SizeResult] = []
    try:
        for count in args.sizes:
            work = root / f"n{count}"
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
            say(f"\n-- {count:,} records --")
            try:
                results.append(
                    run_size(count, args.seed, work, package, args.timeout, set(args.skip), say)
                )
            finally:
                if not args.keep:
                    shutil.rmtree(work, ignore_errors=True)
            print("\n" + table(results[-1]), flush=True)
            if args.json:
                args.json.write_text(json.dumps(to_json(info, results), indent=2) + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(root / "snapshot" if args.workdir else root, ignore_errors=True)

    if len(results) > 1:
        print("\n== all sizes ==")
        for r in results:
            print("\n" + table(r))
        print(f"\n{'across sizes':<28}{'value':>12}{'target':>12}  result")
        for ratio in growth(results):
            verdict = {True: "PASS", False: "MISS", None: "n/a"}[ratio.passed]
            print(f"{ratio.name:<28}{_value(ratio):>12}{_target(ratio):>12}  {verdict}")
    different = any(flag is False for res in results for flag in res.identical.values())
    failed = any(s.exit_code != 0 for res in results for s in res.steps.values())
    return 1 if failed or different else 0  # a missed target is a result, not an error


if __name__ == "__main__":
    sys.exit(main())
