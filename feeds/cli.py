"""The `feeds` command: a thin layer over `feeds.build`; outcomes become text and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feeds._version import __version__
from feeds.build import build, check
from feeds.config import DEFAULT_BASE_URL, Config, absolute_url, load_config
from feeds.errors import ConfigError, LockHeld, OutputError, WorkerDied
from feeds.model import Level, one_line
from feeds.progress import ProgressBar
from feeds.report import Report, count

if TYPE_CHECKING:
    from feeds.collect import Collection

# Exit codes (documented in the README).
OK = 0
REJECTED = 1  # some records were rejected: `feeds check` always, `feeds build` with --strict
USAGE = 2  # configuration or usage error (argparse uses 2 as well)
OUTPUT = 3  # the output folder cannot be written
LOCKED = 4  # another build is writing to the same output folder
INTERNAL = 70  # a bug in feeds (EX_SOFTWARE): never 1, which tells cron that records were rejected
TRY_AGAIN = 75  # a worker was killed, most likely for memory (EX_TEMPFAIL): nothing was published


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    progress = None if args.quiet or not sys.stderr.isatty() else ProgressBar(sys.stderr)
    try:
        config = _config(args)
        if args.command == "serve":
            return _serve(config, args)
        if args.command == "list":
            return _list(check(config).collection, config, as_json=args.json)
        if args.command == "check":
            report = check(config, progress=progress).report
        else:
            report = build(config, progress=progress)
    except LockHeld as e:
        print(one_line(f"feeds: {e}"), file=sys.stderr)
        return LOCKED
    except ConfigError as e:
        print(one_line(f"feeds: {e}"), file=sys.stderr)
        return USAGE
    except OutputError as e:
        print(one_line(f"feeds: output not writable: {e}"), file=sys.stderr)
        return OUTPUT
    except WorkerDied as e:
        print(one_line(f"feeds: {e}"), file=sys.stderr)
        return TRY_AGAIN
    except Exception as e:  # a bug: one line for cron's mail, the traceback on request
        if args.verbose:
            import traceback  # here: a run that goes well never needs it

            traceback.print_exc()
        hint = "" if args.verbose else "; run again with -v for the details"
        what = f"{type(e).__name__}: {e}"
        print(one_line(f"feeds: internal error (a bug in feeds): {what}{hint}"), file=sys.stderr)
        return INTERNAL
    finally:
        if progress:
            progress.close()
    failed = bool(report.rejected) and (args.command == "check" or args.strict)
    _tell(report, args, failed=failed)
    return REJECTED if failed else OK


def _config(args: argparse.Namespace) -> Config:
    if args.base_url is not None:
        absolute_url(args.base_url, "--base-url", base=True)
    return load_config(args.config).with_overrides(
        seeds=getattr(args, "path", None) or args.seeds,
        output=args.output,
        base_url=args.base_url,
        cache=getattr(args, "cache", None),
    )


def _serve(config: Config, args: argparse.Namespace) -> int:
    """Build, then serve the output on 127.0.0.1; with --watch, build again on every change."""
    if args.base_url is None and config.base_url == DEFAULT_BASE_URL:
        # Feeds link to themselves: build them for the address they are served at.
        config = config.with_overrides(base_url=f"http://localhost:{args.port}/")

    from feeds.serve import serve  # only this command needs the HTTP server

    def rebuild() -> None:
        _tell(build(config), args)

    rebuild()
    watching = args.watch
    try:
        serve(
            config.output,
            args.port,
            rebuild=rebuild if watching else None,
            watch=config.seeds if watching else None,
        )
    except OSError as e:
        print(f"feeds: cannot serve on port {args.port}: {e.strerror or e}", file=sys.stderr)
        return USAGE
    return OK


def _list(collection: Collection, config: Config, *, as_json: bool) -> int:
    rows: list[dict[str, Any]] = [
        {
            "kind": group.kind.value,
            "name": group.name,
            "slug": group.slug,
            "items": len(group.articles),
            "newest": group.articles[0].published.isoformat() if group.articles else None,
            "urls": {fmt: config.url(group.file(fmt)) for fmt in config.formats},
        }
        for group in collection.groups
    ]
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return OK
    width = max((len(row["name"]) for row in rows), default=4)
    print(f"{'KIND':<9} {'NAME':<{width}} {'ITEMS':>6}  {'NEWEST':<16}  URL")
    for row in rows:
        newest = (row["newest"] or "-")[:16].replace("T", " ")
        url = row["urls"][config.formats[0]]
        print(f"{row['kind']:<9} {row['name']:<{width}} {row['items']:>6}  {newest:<16}  {url}")
    return OK


def _tell(report: Report, args: argparse.Namespace, *, failed: bool = False) -> None:
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    out = sys.stderr if args.json else sys.stdout
    # Exit 1 says "records were rejected", and cron mails what was printed: such a run names
    # every rejection, also those of files unchanged since the run that said them. Others say
    # what they read; the rest was said when its files were read.
    said = report.rejections if args.quiet and failed else report.recent
    for problem in said:
        if not args.quiet or problem.level is Level.ERROR:
            print(problem, file=out)
    if report.earlier and not args.quiet:
        print(
            f"feeds: {count(report.earlier, 'warning or rejection', 'warnings and rejections')}"
            " of unchanged files not repeated (`feeds check` lists them all)",
            file=out,
        )
    for notice in report.notices if not args.quiet else ():
        print(one_line(f"feeds: warning: {notice}"), file=out)
    if report.hub_problem:
        print(one_line(f"feeds: warning: {report.hub_problem}"), file=out)
    for path in report.refused:
        print(
            f"{path}: warning: not written: a file or link feeds did not make holds its place "
            "or its folder's (remove it to let feeds manage it)",
            file=out,
        )
    builds = args.command in ("build", "serve")
    if args.verbose and builds:
        for path in report.written:
            print(f"wrote {path}", file=out)
        for path in report.removed:
            print(f"removed {path}", file=out)
    if not args.quiet:
        print(report.summary() if builds else report.records_line(), file=out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeds",
        description="Turn a folder of news article records into RSS, Atom and JSON feeds.",
    )
    parser.add_argument("--version", action="version", version=f"feeds {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build_cmd = commands.add_parser("build", help="build every feed (the default command)")
    check_cmd = commands.add_parser("check", help="validate the records only; write nothing")
    list_cmd = commands.add_parser("list", help="every feed, its items, newest item and URL")
    serve_cmd = commands.add_parser("serve", help="build, then preview output/ on localhost")
    check_cmd.add_argument(
        "path", nargs="?", type=Path, help="a folder of records (--seeds), or one record file"
    )
    for sub in (parser, build_cmd, check_cmd, list_cmd, serve_cmd):
        _common_options(sub, with_output=sub in (parser, build_cmd, serve_cmd))
    serve_cmd.add_argument("--port", type=_port, default=8000, help="port on 127.0.0.1")
    serve_cmd.add_argument("--watch", action="store_true", help="rebuild when records change")
    list_cmd.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS)
    parser.set_defaults(
        command="build",
        cache=None,
        seeds=None,
        config=None,
        output=None,
        base_url=None,
        strict=False,
        quiet=False,
        verbose=False,
        json=False,
    )
    return parser


def _port(text: str) -> int:
    """`--port`, checked before anything is built: the build links the feeds to this port, so
    0 (any free port) will not do either."""
    try:
        port = int(text)
    except ValueError:
        port = 0  # refused below, with the same message
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 65535, not {text!r}")
    return port


def _common_options(parser: argparse.ArgumentParser, *, with_output: bool) -> None:
    # SUPPRESS keeps a subcommand's unset option from hiding the same option given before it.
    d = argparse.SUPPRESS
    parser.add_argument("--seeds", type=Path, metavar="DIR", default=d, help="records (seeds/)")
    parser.add_argument("--config", type=Path, metavar="FILE", default=d, help="YAML configuration")
    if with_output:
        parser.add_argument("--output", type=Path, metavar="DIR", default=d, help="feeds (output/)")
        parser.add_argument("--base-url", metavar="URL", default=d, help="public URL of output/")
        parser.add_argument("--strict", action="store_true", default=d, help="exit 1 on rejections")
        parser.add_argument("--cache", type=Path, metavar="DIR", default=d, help="cache folder")
    parser.add_argument("-q", "--quiet", action="store_true", default=d, help="only rejections")
    parser.add_argument("-v", "--verbose", action="store_true", default=d, help="more detail")
    parser.add_argument("--json", action="store_true", default=d, help="JSON report on stdout")
