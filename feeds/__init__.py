"""feeds: turns a folder of news article records into RSS and Atom feeds.

The pipeline, one direction (assembled in `build.py`):

    records.read_folder   files -> raw records, or a problem per unreadable file   (I/O)
    validate.validate     raw record -> Article, or a rejection with its reason     (pure)
    collect.collect       Articles -> de-duplicated groups: all, topics, providers  (pure)
    render.render_files   group x format -> (path, bytes), through feedgen_writer   (pure)
    publish.publish       (path, bytes) -> files in output/, atomic, unchanged kept  (I/O)
    report.Report         what happened, as one line of text or as JSON
"""

from feeds._version import __version__
from feeds.build import build
from feeds.config import Config
from feeds.report import Report

__all__ = ["Config", "Report", "__version__", "build"]
