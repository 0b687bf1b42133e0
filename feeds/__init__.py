"""feeds: turns a folder of news article records into RSS, Atom and JSON feeds.

The pipeline, one direction (assembled in `build.py`):

    ingest.scan / ingest  files -> each file's outcome: read (records.py) and validated
                          (validate.py), or taken from the cache when the file is unchanged
    collect.collect       Articles -> de-duplicated groups: all, topics, providers, custom  (pure)
    render.plan           group pages x format -> fingerprinted outputs, made by
                          feedgen_writer.py / jsonfeed.py from items serialized once (kept
                          between runs by itemstore.py); site.py adds index.html, feeds.opml
    publish.Publisher     outputs -> files in output/: staged, atomic, unchanged ones kept (I/O)
    report.Report         what happened, as one line of text or as JSON
"""

from feeds._version import __version__
from feeds.build import build
from feeds.config import Config
from feeds.report import Report

__all__ = ["Config", "Report", "__version__", "build"]
