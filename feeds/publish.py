"""Own the output folder: write files atomically, leave unchanged ones alone, remove stale ones.

- Atomic: new bytes go to a temporary file in the same folder, which is then renamed over the
  old one; a reader sees the old file or the new one, never a part.
- Unchanged: a file whose bytes did not change is not rewritten, so its mtime, HTTP caches and
  rsync stay quiet.
- Owned files only: the manifest (`.feeds-manifest.json`) lists the files this tool wrote. Files
  of groups that disappeared are removed; a file the tool did not write is never touched, even if
  its name looks like one of ours. A manifest entry that is not a name feeds writes
  (`paths.is_output_path`) is ignored with a warning: a manifest is only a file, anyone may have
  written it. Nothing is written into, or removed from, a folder of the output that a link (which
  may lead out of it) or a file took the place of (`_real_folder`).

The protocol, in steps that each land on disk before the next begins, so that a run killed at any
moment leaves every file old or new, and the next run finishes the job:

1. Read the manifest and the journal a killed run may have left: the files owned, and the
   tokens of runs that may have left temporary files. The manifest the last run left (its
   digest is given, from the cache) is taken as it is; any other is checked name by name. A
   name is checked again before its file is removed, whatever vouched for it.
2. `claim` every path this run produces (`refused` when a file the tool did not write holds it).
3. `begin`: before any file is written, write the journal (`.feeds-runs.json`, in the
   manifest's format) listing this run's token and every path owned or claimed that the manifest
   does not list: a run killed after renaming a new file into place has already said the file is
   its own. Not the manifest itself: a big site's manifest names hundreds of thousands of files,
   and the common run (a few feeds change) claims none it does not own.
4. Stage each new file beside its target as `.<name>.feeds-<token>.tmp` (in worker
   processes too).
5. `finish`: flush each staged file to disk, then rename it over its target (a few thousand
   files: each its own `fsync` then its rename, sixteen files at once; a cold build's many
   files: one `syncfs` of the output's file system, given a head start in the background while
   the files are made, `files.Writeback`, then every rename); remove the owned files not
   produced now; remove the temporary files of this run and of killed runs, found by the
   tokens the manifest and journal list (a hidden file whose name merely looks like ours
   carries no token of ours: it stays); write the final manifest, which lists exactly the
   files produced (unless it already does, with no run's token: then it is not touched), then
   remove the journal.

A run that fails (a full disk, a write error) removes its own temporary files, wherever a worker
made them, and leaves every published file as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Collection, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path

from feeds import files
from feeds.errors import OutputError
from feeds.paths import MANIFEST_PATH, RUNS_PATH, is_output_path

_MANIFEST_TEMPORARY = ".feeds-manifest.json.tmp"
_RUNS_TEMPORARY = ".feeds-runs.json.tmp"


@dataclass(frozen=True, slots=True)
class Published:
    written: tuple[str, ...] = ()
    unchanged: int = 0  # files left as they were: a big site's hundreds of thousands
    removed: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # paths held by files this tool did not write
    notices: tuple[str, ...] = ()  # what the curator should know about the output folder
    manifest: str | None = None  # the digest of the manifest left, which lists only our names


@dataclass(frozen=True, slots=True)
class Stager:
    """Writes a file's new bytes beside it, ready to be renamed over it: what a worker process
    needs of the publisher (it is inherited, not sent). Files are known by their paths in the
    output folder, joined to it as text when they are written: a cold build of 300,000 records
    stages a quarter of a million files, and a `Path` for each target and each temporary file
    (about 300 bytes each), held until they were renamed, took tens of megabytes in the build's
    process, and more in the workers that sent the temporary files' names back."""

    output: str  # the output folder, ending with a separator
    mode: int  # of new files: what the umask allows
    token: str  # this run's: marks its temporary files as its own

    def target(self, path: str) -> str:
        return self.output + path

    def temporary(self, path: str) -> str:
        """Where `path`'s new bytes are staged: beside its file, one name per target and run."""
        folder, slash, name = path.rpartition("/")
        return f"{self.output}{folder}{slash}.{name}.feeds-{self.token}.tmp"

    def stage(self, path: str, data: bytes) -> bool:
        """Write `data` beside the file of `path` (`temporary`); False, writing nothing, when
        the file already holds exactly `data`."""
        target = self.target(path)
        try:
            if _same_chunks(target, [data]):
                return False
            os.makedirs(os.path.dirname(target), exist_ok=True)
            files.stage(self.temporary(path), (data,), mode=self.mode)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror or e}") from e
        return True


@dataclass
class Publisher:
    output: Path
    # What the cache says this tool wrote, with each file's fingerprint, size and mtime: when
    # the manifest is missing or damaged, a file that still has them is recognized as ours.
    recorded: Mapping[str, tuple[bytes, int, int]] = field(default_factory=dict)
    # The digest of the manifest the last run left (`Published.manifest`): a manifest with it
    # is the one that run wrote or checked, and its names are not checked one by one again.
    trusted: str | None = None
    # The tokens of runs the cache says began and did not finish (`runs`): a killed run's
    # temporary files are swept even when the journal that named it is gone.
    begun: Iterable[object] = ()
    stager: Stager = field(init=False)
    _owned: frozenset[str] = frozenset()
    _runs: tuple[str, ...] = ()  # tokens of runs whose temporary files may be left
    # A damaged manifest or journal may have named a run: temporary files of any run are swept.
    _any_run: bool = False
    _produced: dict[str, None] = field(default_factory=dict)  # ordered set
    # Set by `keep_recorded`: every owned file is produced too, but these; `_produced` then
    # holds only the others (a delta run's few), not a big site's hundreds of thousands.
    _kept_but: Set[str] | None = None
    _written: list[str] = field(default_factory=list)
    _unchanged: int = 0
    _refused: list[str] = field(default_factory=list)
    _begun: bool = False  # `begin` was called: files may be staged from then on
    _staged: list[str] = field(default_factory=list)  # paths whose new bytes are staged
    _notices: list[str] = field(default_factory=list)
    _on_disk: frozenset[str] = frozenset()  # the files the manifest lists
    _listing: tuple[str, ...] = ()  # the same, in its order (sorted, when feeds wrote it)
    _as_listed: bool = False  # the manifest lists exactly `_owned`, and no run's token
    _digest: str | None = None  # of the manifest on disk, when it lists only names feeds writes
    _writeback: files.Writeback = field(init=False)  # a head start for the final flush
    _folders: dict[str, bool] = field(default_factory=dict)  # `_real_folder`'s answers

    def __post_init__(self) -> None:
        umask = os.umask(0)
        os.umask(umask)
        folder = os.path.join(os.fspath(self.output), "")
        self.stager = Stager(folder, 0o666 & ~umask, secrets.token_hex(8))
        self._writeback = files.Writeback(folder)
        manifest = read_manifest(self.output, trusted=self.trusted)
        self._digest = manifest.digest
        journal = read_manifest(self.output, RUNS_PATH)  # left by a run that did not finish
        self._on_disk = self._owned = frozenset(manifest.files)
        self._listing = manifest.files
        if journal.files:
            self._owned |= frozenset(journal.files)
        begun = (r for r in self.begun if isinstance(r, str) and _is_token(r))
        self._runs = tuple(dict.fromkeys((*manifest.runs, *journal.runs, *begun)))
        self._any_run = bool(manifest.problems or journal.problems)
        self._as_listed = manifest.found and not (
            manifest.problems or manifest.runs or journal.files or journal.problems
        )
        self._notices.extend((*manifest.problems, *journal.problems))
        if not manifest.found or manifest.problems or journal.problems:
            self._owned |= _recognized(self.output, self.recorded)
        if not manifest.found and not self._owned and _has_visible_entries(self.output):
            self._notices.append(
                f"{self.output} already holds files that feeds did not write: they are left "
                "alone, and a feed whose file name one of them takes is not written"
            )

    def write(self, path: str, data: bytes) -> None:
        if self.claim(path):
            self.add(path, self.stager.stage(path, data))

    def keep_recorded(self, but: Set[str]) -> None:
        """Every recorded file (the last run's) stays as it is, but those in `but` (what a delta
        run may make again or remove); before any file is claimed. When the manifest names as
        many files as were recorded, they are the same ones (the run that left them wrote
        both): they are kept at once, not taken one by one."""
        if len(self._owned) == len(self.recorded) and not self._produced:
            self._kept_but = but
            self._unchanged += len(self._owned) - sum(path in self._owned for path in but)
            return
        for path in self.recorded:
            if path not in but:
                self.keep(path)

    def keep(self, path: str) -> bool:
        """`path` is still produced, and known to be up to date: leave it as it is (False when
        it is refused)."""
        if not self._take(path):
            return False
        self._unchanged += 1
        return True

    def claim(self, path: str) -> bool:
        """`path` is produced by this run: whether to write it (False when a file this tool did
        not write holds the place: it is left alone, and reported)."""
        return self._take(path)

    def _kept(self) -> list[str]:
        """The owned files `keep_recorded` kept. In the manifest's order: a manifest written
        again is then sorted in one pass over names already in order (from scratch, 0.15 s at
        420,000 names)."""
        but = self._kept_but
        if but is None:
            return []
        ordered = self._as_listed and len(self._listing) == len(self._owned)  # no repeats
        return [p for p in (self._listing if ordered else self._owned) if p not in but]

    def _is_produced(self, path: str) -> bool:
        but = self._kept_but
        return path in self._produced or (
            but is not None and path in self._owned and path not in but
        )

    def _take(self, path: str) -> bool:
        # Names joined as text: a run that keeps tens of thousands of files would spend more on
        # `pathlib` than on the rest of keeping them.
        if self._is_produced(path):
            raise AssertionError(f"two outputs share the path {path}")  # a slug bug, not bad input
        if not self._real_folder(path.rpartition("/")[0]):
            self._refused.append(path)
            return False
        if path not in self._owned:  # owned names were checked as they were read
            if not is_output_path(path):
                raise AssertionError(f"not a name feeds writes: {path!r}")  # a bug, not bad input
            if os.path.lexists(os.path.join(self.output, path)):
                self._refused.append(path)
                return False
        self._produced[path] = None
        return True

    def _real_folder(self, folder: str) -> bool:
        """Whether `folder` (in the output folder; "" for itself) and every folder above it is
        a folder, or is not there yet (it is made when a file is written in it). A link there
        leads anywhere, out of the output folder too, and a file that took a folder's place is
        not ours: nothing is written into, nor removed from, either. The output folder itself
        may be a link: where it is, is the curator's choice."""
        if not folder:
            return True
        found = self._folders.get(folder)
        if found is None:
            above = folder.rpartition("/")[0]
            found = self._real_folder(above) and _folder_or_nothing(self.stager.target(folder))
            self._folders[folder] = found
            if not found and self._real_folder(above):
                self._notices.append(
                    f"{self.stager.target(folder)} is a link or a file (or cannot be looked "
                    "at), not a folder: feeds neither writes nor removes anything through it, "
                    "and the feeds whose files go there are not published (remove it to let "
                    "feeds make the folder)"
                )
        return found

    @property
    def runs(self) -> tuple[str, ...]:
        """The tokens of the runs whose temporary files may be left once this one begins: to be
        kept (in the cache) before it does, and forgotten once it finished."""
        return (*self._runs, self.stager.token)

    def begin(self) -> None:
        """Say, before writing any file, that every claimed path is ours (step 3): in the
        journal, with this run's token, each owned or claimed path the manifest does not list."""
        self._begun = True
        # A list, not a set: a cold build claims every path (a set of 440,000 took 16 MB).
        unlisted = [path for path in self._produced if path not in self._on_disk]
        if self._owned is not self._on_disk:  # a killed run's journal named more
            unlisted += [p for p in self._owned - self._on_disk if p not in self._produced]
        unlisted.sort()
        self._write(RUNS_PATH, _RUNS_TEMPORARY, _ManifestText(unlisted, self.runs))

    def add(self, path: str, staged: bool) -> None:
        """The claimed `path`, `staged` by `Stager.stage` (here or in another process): put in
        place by `finish`; else its bytes were unchanged."""
        if staged:
            self._staged.append(path)
            self._writeback.wrote()
        else:
            self._unchanged += 1

    @property
    def staged(self) -> tuple[str, ...]:
        """The paths whose new bytes are staged, to be put in place by `finish`."""
        return tuple(self._staged)

    def abort(self) -> None:
        """Drop every staged file, a worker's too: the output stays as it was. Before `begin`
        none was staged: nothing to do."""
        if not self._begun:
            return
        self._writeback.wait()
        self._staged.clear()
        with contextlib.suppress(OutputError):  # the failure that stopped the run is the one said
            self._sweep((self.stager.token,))

    def finish(self) -> Published:
        """Put the staged files in place, remove owned files that were not produced this time,
        then record what is owned now (step 5)."""
        stager = self.stager
        self._writeback.wait()
        if len(self._staged) <= files.FSYNC_EACH_MAX:
            # Each file's new bytes on disk before it takes its real name, sixteen files at once:
            # one after another, each rename over an old file waits its turn at the file
            # system's journal (here, 2,000 files: 0.44 s against 0.25 to 0.33 s on a
            # quiet machine; 1,000 files while a build wrote beside: 2.0 to 2.6 s against 0.2 to
            # 0.3 s). Not for a cold build's many new names: renamed after one `syncfs`, one
            # after another, they cost little.
            files.at_once(self._flush_and_rename, self._staged)
        else:
            try:  # the new bytes on disk before any takes its real name
                files.flush(_Temporaries(stager, self._staged))
            except OSError as e:
                raise OutputError(f"cannot write to {self.output}: {e.strerror or e}") from e
            for path in self._staged:
                self._rename(path)
        self._written, self._staged = self._staged, []
        # The renames on disk: a crash now keeps the new files.
        self._flush_folders({os.path.dirname(stager.target(path)) for path in self._written})
        # First: a vanished group's folder may hold a killed run's temporary file, and must end
        # empty, and go. This run's own are renamed by now (a failure to stage or rename one
        # aborts the run, `abort`): with no killed run on record, no folder is looked through.
        emptied = self._sweep(self._runs, any_run=self._any_run)
        removed, gone = [], sorted(self._not_produced())
        for path in gone:
            # Checked again before acting on it: a manifest taken as it is (`trusted`) was
            # checked when it was written, unless the cache that vouches for it was planted too.
            if not is_output_path(path) or not self._real_folder(path.rpartition("/")[0]):
                continue
            target = self.output / path
            try:
                target.unlink(missing_ok=True)
                emptied.add(_remove_empty_parents(target.parent, self.output))
            except OSError as e:
                raise OutputError(f"cannot remove {target}: {e.strerror or e}") from e
            removed.append(path)
        # The removals on disk before the manifest (and the journal) stop naming what they
        # removed: a file that came back after a power cut would be owned by no record, so
        # never removed, and its name refused to a group that comes back.
        self._flush_folders({_still_there(folder, self.output) for folder in emptied})
        # The manifest stays when it lists exactly the files produced: none gone, none new.
        if not (self._as_listed and not gone and self._produced.keys() <= self._owned):
            self._write_manifest([*self._kept(), *self._produced], ())
        try:
            (self.output / RUNS_PATH).unlink(missing_ok=True)  # its runs' files are swept
        except OSError as e:
            raise OutputError(f"cannot remove {self.output / RUNS_PATH}: {e.strerror or e}") from e
        return Published(
            tuple(self._written),
            self._unchanged,
            tuple(removed),
            tuple(self._refused),
            tuple(self._notices),
            self._digest,
        )

    def _flush_and_rename(self, path: str) -> None:
        """The staged file of `path` flushed to disk, then renamed over its target."""
        try:
            files.flush_file(self.stager.temporary(path))
        except OSError as e:
            raise OutputError(f"cannot write to {self.output}: {e.strerror or e}") from e
        self._rename(path)

    def _rename(self, path: str) -> None:
        stager = self.stager
        try:
            os.replace(stager.temporary(path), stager.target(path))
        except OSError as e:
            raise OutputError(f"cannot write {stager.target(path)}: {e.strerror or e}") from e

    def _not_produced(self) -> Set[str]:
        """The owned files not produced now: to be removed."""
        but = self._kept_but
        if but is None:
            return self._owned - self._produced.keys()
        return {path for path in but if path in self._owned and path not in self._produced}

    def _flush_folders(self, folders: Collection[str | Path]) -> None:
        """Wait until the renames and removals in `folders` are on disk; a file system that
        cannot is said, not a reason to stop (the files themselves are in place)."""
        try:
            files.flush(folders)
        except OSError as e:
            self._notices.append(
                f"the changes in {self.output} could not be flushed to disk "
                f"({e.strerror or e}): a power cut now could undo some of them"
            )

    def _sweep(self, tokens: Iterable[str], any_run: bool = False) -> set[Path]:
        """Remove the temporary files that runs with these tokens (or `any_run`, any run of
        this tool) left, in every folder where it writes; the folders it removed some from."""
        marks = tuple(f".feeds-{token}." for token in tokens)
        swept: set[Path] = set()
        if not (marks or any_run):
            return swept
        # Each name checked, as above: a trusted manifest's names reach `_produced` too.
        every = (*self._owned, *self._produced)
        folders = {path.rpartition("/")[0] for path in every if is_output_path(path)}
        for folder in sorted(folders | {""}):
            if not self._real_folder(folder):
                continue
            try:
                with os.scandir(self.output / folder) as listing:
                    names = [
                        e.name
                        for e in listing
                        if e.name[:1] == "." and e.name[-4:] == ".tmp" and not e.is_dir()
                    ]
            except OSError:
                continue
            for name in names:
                if any(mark in name for mark in marks) or (any_run and _TEMPORARY.search(name)):
                    leftover = self.output / folder / name
                    try:
                        leftover.unlink(missing_ok=True)
                    except OSError as e:  # its run stays on record: the next run tries again
                        raise OutputError(f"cannot remove {leftover}: {e.strerror or e}") from e
                    swept.add(self.output / folder)
        return swept

    def _write_manifest(self, owned: Iterable[str], runs: Iterable[str]) -> None:
        chunks = _ManifestText(sorted(owned), runs)
        self._write(MANIFEST_PATH, _MANIFEST_TEMPORARY, chunks)
        self._digest = _digest(chunks)

    def _write(self, name: str, temporary_name: str, chunks: Iterable[bytes]) -> None:
        target = self.output / name
        try:
            if not _same_chunks(target, chunks):
                # A fixed temporary name, reserved like every `.feeds-` name: a killed run's is
                # simply overwritten by the next, never left behind. Durable: later steps rely
                # on the manifest and journal being on disk.
                temporary = target.with_name(temporary_name)
                mode = self.stager.mode
                files.replace(target, chunks, mode=mode, temporary=temporary, durable=True)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror or e}") from e


class _Temporaries(Collection[str]):
    """The temporary names of the files staged, each made when asked: `files.flush` looks at
    one when there are many (it flushes their file system), and a cold build of 1,000,000
    records stages 440,000 files, and their names made at once took about 35 MB more."""

    def __init__(self, stager: Stager, staged: list[str]) -> None:
        self._stager, self._staged = stager, staged

    def __len__(self) -> int:
        return len(self._staged)

    def __iter__(self) -> Iterator[str]:
        return map(self._stager.temporary, self._staged)

    def __contains__(self, name: object) -> bool:
        return any(name == temporary for temporary in self)


class _ManifestText(Iterable[bytes]):
    """The manifest's (or the journal's) bytes, in pieces made again each time they are gone
    through (compared with the file there, written, digested): at 1,000,000 records it names
    440,000 files; the whole text made at once, then encoded, would be four copies of 17 MB,
    and its pieces held together were one, at the build's biggest."""

    def __init__(self, files: list[str], runs: Iterable[str]) -> None:
        self._files, self._runs = files, list(runs)

    def __iter__(self) -> Iterator[bytes]:
        yield b'{\n "files": '
        yield from _listed(self._files)
        yield b',\n "runs": '
        yield from _listed(self._runs)
        yield b"\n}\n"


def _listed(names: list[str], per_chunk: int = 4096) -> Iterator[bytes]:
    """`json.dumps(names, indent=1)` as the manifest nests it. The names feeds writes (and
    tokens) are printable ASCII without a quote or a backslash, which JSON leaves as they are:
    those are joined as they are (at 440,000 names, 50 ms against 80 ms for the encoder in C
    and a tenth of a second per hundred thousand for the one in Python that `indent` takes).
    Any other name, which only a damaged manifest or journal could bring, is encoded."""
    if not names:
        yield b"[]"
        return
    yield b"[\n  "
    for start in range(0, len(names), per_chunk):
        if start:
            yield b",\n  "
        chunk = names[start : start + per_chunk]
        whole = "".join(chunk)
        if whole.isascii() and whole.isprintable() and '"' not in whole and "\\" not in whole:
            yield ('"' + '",\n  "'.join(chunk) + '"').encode()
        else:  # a newline is only ever between two names: JSON escapes those in a name
            yield json.dumps(chunk, indent=1)[3:-2].replace("\n ", "\n  ").encode()
    yield b"\n ]"


@dataclass(frozen=True, slots=True)
class Manifest:
    files: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    found: bool = False
    problems: tuple[str, ...] = ()  # entries ignored, and why
    digest: str | None = None  # of its bytes, when it lists only names feeds writes


def read_manifest(output: Path, name: str = MANIFEST_PATH, trusted: str | None = None) -> Manifest:
    """The files the manifest (or the journal, `name`) says feeds owns, keeping only names feeds
    writes; and the tokens of runs that may have left temporary files. A manifest whose digest
    is `trusted` (one that feeds wrote or checked) is taken as it is: a big site's lists
    hundreds of thousands of names, and checking each took most of the time spent reading it."""
    path = output / name
    try:
        raw = path.read_bytes()
        digest = _digest([raw])
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        return Manifest()
    except (OSError, ValueError) as e:
        return Manifest(found=True, problems=(f"{path} cannot be read ({e}); it is ignored",))
    files = data.get("files") if isinstance(data, dict) else None
    runs = data.get("runs", []) if isinstance(data, dict) else None
    if not isinstance(files, list) or not isinstance(runs, list):
        return Manifest(found=True, problems=(f"{path} is not a feeds manifest; it is ignored",))
    kept: list[str] = []
    foreign: list[object] = []
    if trusted is not None and digest == trusted:
        kept = [f for f in files if type(f) is str]  # what feeds wrote, unless planted too
    else:
        for f in files:  # one pass: a big archive's manifest lists a hundred thousand files
            if isinstance(f, str) and is_output_path(f):
                kept.append(f)
            else:
                foreign.append(f)
    problems: tuple[str, ...] = ()
    if foreign:
        shown = ", ".join(repr(f)[:80] for f in foreign[:3]) + (" …" if len(foreign) > 3 else "")
        problems = (
            f"{path} lists {len(foreign)} name(s) that feeds never writes ({shown}); "
            "they are ignored and their files left alone",
        )
    tokens = tuple(r for r in runs if isinstance(r, str) and _is_token(r))
    if len(tokens) < len(runs):
        problems += (f"{path} names a run that is no run of feeds; it is ignored",)
    return Manifest(tuple(kept), tokens, True, problems, None if problems else digest)


def _digest(chunks: Iterable[bytes]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _recognized(output: Path, recorded: Mapping[str, tuple[bytes, int, int]]) -> frozenset[str]:
    """The recorded files that still have the size and mtime this tool left them with."""
    found = set()
    for path, (_, size, mtime) in recorded.items():
        try:
            st = os.stat(output / path, follow_symlinks=False)
        except OSError:
            continue
        if is_output_path(path) and (st.st_size, st.st_mtime_ns) == (size, mtime):
            found.add(path)
    return frozenset(found)


# A temporary file of a run of this tool: `.<name>.feeds-<its token>.tmp` (`Stager`).
_TEMPORARY = re.compile(r"^\..+\.feeds-[0-9a-f]{16}\.tmp$")


def _is_token(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdef" for c in text)


def _has_visible_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as listing:
            return any(not entry.name.startswith(".") for entry in listing)
    except OSError:
        return False


def _same_chunks(target: Path | str, chunks: Iterable[bytes]) -> bool:
    """Whether `target` holds exactly these bytes, compared piece by piece."""
    try:
        st = os.stat(target)
        if st.st_size != sum(map(len, chunks)) or not stat.S_ISREG(st.st_mode):
            return False
        with open(target, "rb") as file:
            return all(file.read(len(chunk)) == chunk for chunk in chunks)
    except FileNotFoundError:
        return False


def _folder_or_nothing(path: str) -> bool:
    """Whether `path` is a folder (not a link to one), or nothing yet."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:  # cannot be looked at: not to be written through either
        return False


def _still_there(folder: Path, output: Path) -> Path:
    """`folder`, or its nearest parent up to `output` that was not removed since."""
    while folder != output and folder.is_relative_to(output) and not folder.is_dir():
        folder = folder.parent
    return folder


def _remove_empty_parents(folder: Path, output: Path) -> Path:
    """Remove `folder` and its parents up to `output` while they are empty; the folder left,
    whose listing changed."""
    while folder != output and folder.is_relative_to(output):
        try:
            folder.rmdir()
        except OSError:
            return folder  # not empty
        folder = folder.parent
    return folder
