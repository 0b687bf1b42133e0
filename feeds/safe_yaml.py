"""Limits that keep one YAML file, a record or the configuration, from hurting the build.

YAML has two ways to make a small file costly: nesting (libyaml's composer recurses in C, and a
few thousand levels crash the process; PyYAML's Python composer raises RecursionError) and
aliases (`&a [*a, *a]` repeated: a few hundred bytes describe billions of values, "billion
laughs"). Both are checked before anything is built from the document; and a file larger than
`MAX_FILE_BYTES` is not read at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024  # a record or a configuration is a few KB: more is a mistake or worse
MAX_DEPTH = 64  # a record nests 3 or 4 levels, a configuration 5

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DEEP_INDENT = re.compile(rf"^[ \t]{{{2 * MAX_DEPTH + 1}}}", re.MULTILINE)


def too_deep(text: str) -> bool:
    """Whether the document nests more than `MAX_DEPTH` levels (syntax errors are left to the
    real parse, which reports them with their line)."""
    return _may_be_deep(text) and _nesting_depth(text) > MAX_DEPTH


def _may_be_deep(text: str) -> bool:
    """A cheap pre-check: a level of nesting takes a bracket (`[`, `{`), a block indicator that
    can stand on one line with the next (`- - x`, `? ? x`), or indentation. Only a document
    with more of these than `MAX_DEPTH`, or with deep indentation, can be deep."""
    indicators = text.count("[") + text.count("{")
    indicators += sum(text.count(f"{c}{space}") for c in "-?" for space in " \t")
    return indicators > MAX_DEPTH or _DEEP_INDENT.search(text) is not None


def _nesting_depth(text: str) -> int:
    """The deepest nesting of the document, from libyaml's event stream, which does not recurse."""
    depth = deepest = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
                if deepest > MAX_DEPTH:
                    break
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as e:
        if "nesting depth" in str(e.problem):  # newer libyaml stops deep documents itself
            return MAX_DEPTH + 1
        return deepest  # a syntax error: the real parse says where
    return deepest


def expands_beyond(data: Any, limit: int) -> bool:
    """Whether built data (dicts, lists) holds more than `limit` values once aliases are
    expanded. Plain data has fewer values than its text has characters, so a limit of the text's
    length only catches expansion (and an alias needs an `&anchor`)."""
    return _more_than(limit, data, _values)


def nodes_expand_beyond(node: yaml.Node, limit: int) -> bool:
    """The same for a composed document (nodes), before any value is built from it. A recursive
    alias (`&a [*a]`) makes a cycle: the count ends it too."""
    return _more_than(limit, node, _nodes)


def deeper_than(data: Any, levels: int) -> bool:
    """Whether built data (dicts, lists: JSON's) nests more than `levels` deep, walked without
    recursion; only lists and dicts are visited."""
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > levels:
            return True
        stack.extend((v, depth + 1) for v in _values(value) if isinstance(v, dict | list))
    return False


def _more_than(limit: int, root: Any, inside: Callable[[Any], Iterable[Any]]) -> bool:
    """Whether `root` and all that is `inside` it, walked without recursion, pass `limit`."""
    stack, count = [root], 0
    while stack:
        count += 1
        if count > limit:
            return True
        stack.extend(inside(stack.pop()))
    return False


def _values(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        return value.values()
    return value if isinstance(value, list) else ()


def _nodes(node: Any) -> Iterable[Any]:
    if isinstance(node, yaml.MappingNode):
        return (item for pair in node.value for item in pair)
    return node.value if isinstance(node, yaml.SequenceNode) else ()
