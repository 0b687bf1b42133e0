"""The `feeds` command: a thin layer over `feeds.build`; outcomes become text and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from feeds._version import __version__
from feeds.build import build, check
from feeds.config import Config, ConfigError, load_config
from feeds.lock import LockHeld
from feeds.progress import ProgressBar
from feeds.publish import OutputError
from feeds.report import Report

# Exit codes (documented in the README).
OK = 0
REJECTED = 1  # some records were rejected: `feeds check` always, `feeds build` with --strict
USAGE = 2  # configuration or usage error (argparse uses 2 as well)
OUTPUT = 3  # the output folder cannot be written
LOCKED = 4  # another build is writing to the same output folder


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    progress = None if args.quiet or not sys.stderr.isatty() else ProgressBar(sys.stderr)
    try:
        config = _config(args)
        if args.command == "check":
            report = check(config, progress=progress).report
        else:
            report = build(config, progress=progress)
    except LockHeld as e:
        print(f"feeds: {e}", file=sys.stderr)
        return LOCKED
    except ConfigError as e:
        print(f"feeds: {e}", file=sys.stderr)
        return USAGE
    except OutputError as e:
        print(f"feeds: output not writable: {e}", file=sys.stderr)
        return OUTPUT
    finally:
        if progress:
            progress.close()
    _tell(report, args)
    failed = report.rejected and (args.command == "check" or args.strict)
    return REJECTED if failed else OK


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config).with_overrides(
        seeds=getattr(args, "path", None) or args.seeds,
        output=args.output,
        base_url=args.base_url,
        cache=getattr(args, "cache", None),
    )


def _tell(report: Report, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    out = sys.stderr if args.json else sys.stdout
    problems = report.rejections if args.quiet else report.problems + report.duplicate_notes
    for problem in problems:
        print(problem, file=out)
    if report.hub_problem:
        print(f"feeds: warning: {report.hub_problem}", file=out)
    for path in report.refused:
        print(
            f"{path}: warning: not replaced: feeds did not write this file (remove it to let "
            "feeds manage it)",
            file=out,
        )
    if args.verbose and args.command == "build":
        for path in report.written:
            print(f"wrote {path}", file=out)
        for path in report.removed:
            print(f"removed {path}", file=out)
    if not args.quiet:
        print(report.summary() if args.command == "build" else report.records_line(), file=out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeds",
        description="Turn a folder of news article records into RSS and Atom feeds.",
    )
    parser.add_argument("--version", action="version", version=f"feeds {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build_cmd = commands.add_parser("build", help="build every feed (the default command)")
    check_cmd = commands.add_parser("check", help="validate the records only; write nothing")
    check_cmd.add_argument("path", nargs="?", type=Path, help="records to check (--seeds)")
    for sub in (parser, build_cmd, check_cmd):
        _common_options(sub, with_output=sub is not check_cmd)
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
