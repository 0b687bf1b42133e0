"""URLs as feeds carry them: URIs (RFC 3986), which every reader and validator takes.

A record's or the configuration's URL may be written the way a browser's address bar shows it:
`https://bücher.de/ü?q="a"`. Feeds put it in `<link>`, `<guid>`, `atom:id` and enclosures,
where only a URI belongs (the W3C validator: `InvalidUriChar`, `UriNotIri`). `as_uri` writes it
as one, the way browsers send it: the host in lowercase and Punycode, every character a URI
cannot hold as itself percent-encoded as UTF-8 (a `%` that starts no escape too), without the
scheme's own port (`:443` of https), with its path's `.` and `..` segments resolved and `/` for
no path, as browsers send it. It is the article's identity from then on: `HTTPS://Example.com/a`,
`https://example.com:443/a` and `https://example.com/b/../a` are one.
"""

from __future__ import annotations

import re
import string
from urllib.parse import quote

# What a URI holds as itself (RFC 3986: unreserved and reserved characters), and `%` when it
# starts an escape; `[` and `]` only around an IPv6 host.
_KEPT = string.ascii_letters + string.digits + "-._~:/?#@!$&'()*+,;="
# A regular expression; written as `[…]*(?:%XX[…]*)*`, which matches a URL's tail nine times
# as fast as `(?:[…]|%XX)*`.
URI_TEXT = f"[{re.escape(_KEPT)}]*(?:%[0-9A-Fa-f]{{2}}[{re.escape(_KEPT)}]*)*"
_URI = re.compile(URI_TEXT)
_STRAY_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")
# An ASCII host as RFC 3986 writes a name or an IPv4 address (`reg-name`, without escapes).
_ASCII_HOST = re.compile(r"[a-z0-9\-._~!$&'()*+,;=]+")
# DNS names are at most 253 characters; a longer host is no host, and IDNA's encoding takes
# time quadratic in its length (a minute for 10,000 characters).
MAX_HOST = 253
_NOT_A_HOST = "must be a URL with a well-formed host"


class NotAUri(ValueError):
    """What keeps a URL from being written as a URI, in words for the curator."""


def as_uri(url: str) -> str:
    """`url`, an absolute http(s) URL, as a URI (see the module): the same when it is one
    already (the usual case). `NotAUri` when it cannot be one, or could be read two ways."""
    scheme, _, rest = url.partition("://")
    authority, tail = _authority_and_rest(rest)
    if "\\" in url:  # browsers read it as `/`, other programs as part of the host or path
        raise NotAUri("must not contain a backslash (browsers read it as /, others do not)")
    if "@" in authority:
        raise NotAUri("must not carry a user name or password (every reader would see it)")
    if (
        scheme.islower()
        and authority.islower()
        and _URI.fullmatch(authority + tail)
        and tail.count("#") <= 1
        and "%" not in authority
        and ":" not in authority  # a port: the scheme's own goes
        and tail[:1] == "/"  # no path is `/`
        and not has_dot_segments(tail)
    ):
        return url
    if authority.startswith("["):  # an IPv6 address: ASCII already
        host, port = authority.partition("]")[0] + "]", authority.partition("]")[2]
    else:
        host, colon, number = authority.partition(":")
        host, port = _ascii_host(host), colon + number
    scheme = scheme.lower()
    # `https://ex.com` and `https://ex.com?q` ask for `/`, as browsers send them.
    tail = tail if tail[:1] == "/" else "/" + tail
    if has_dot_segments(tail):
        end = _path_end(tail)
        tail = _without_dot_segments(tail[:end]) + tail[end:]
    return f"{scheme}://{host.lower()}{_port(scheme, port)}{_escaped(tail)}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(scheme: str, port: str) -> str:
    """The port as browsers send it: none for the scheme's own (`:443` of https) or an empty
    one, without leading zeros. One that is no number is left for the caller to refuse."""
    if port[:1] != ":":  # nothing, or what follows an IPv6 address's `]`: left to be refused
        return port
    digits = port[1:]
    if not digits:
        return ""
    significant = digits.lstrip("0") or "0"
    if not (digits.isascii() and digits.isdigit()) or len(significant) > 5:
        return port
    number = int(significant)
    return "" if number == _DEFAULT_PORTS.get(scheme) else f":{number}"


# `.` and `..` path segments, `%2e` too, as the URL standard reads them (up to `?` or `#`).
_DOT_SEGMENT = re.compile(r"/(?:\.|%2[eE]){1,2}(?=[/?#]|$)")
_DOTS = {".": 1, "%2e": 1, "..": 2, ".%2e": 2, "%2e.": 2, "%2e%2e": 2}


def has_dot_segments(tail: str) -> bool:
    """Whether the path of a URL's `tail` (after its host) has a `.` or `..` segment."""
    found = _DOT_SEGMENT.search(tail)
    return found is not None and found.start() < _path_end(tail)


def _path_end(tail: str) -> int:
    """Where the path of a URL's `tail` ends: at its query or fragment."""
    return min((i for i in (tail.find("?"), tail.find("#")) if i >= 0), default=len(tail))


def _without_dot_segments(path: str) -> str:
    """The path with its `.` and `..` segments resolved (RFC 3986 5.2.4): `/a/./b/../c` is
    `/a/c`; a `..` above the root stays at the root."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for place, segment in enumerate(segments, start=1):
        dots = _DOTS.get(segment.lower())
        if not dots:
            kept.append(segment)
            continue
        if dots == 2 and kept:
            kept.pop()
        if place == len(segments):  # `/a/..` is `/`, `/a/.` is `/a/`: the folder
            kept.append("")
    return "/" + "/".join(kept)


def _authority_and_rest(rest: str) -> tuple[str, str]:
    """The authority after `scheme://`, and what follows it (from its `/`, `?` or `#`)."""
    for i, char in enumerate(rest):
        if char in "/?#":
            return rest[:i], rest[i:]
    return rest, ""


def _ascii_host(host: str) -> str:
    """The host as browsers send it: lowercase; a name in another script in Punycode, by the
    URL standard's IDNA (UTS 46, nontransitional: `faß.de` is `xn--fa-hia.de`, not `fass.de`,
    which Python's IDNA 2003 codec gives), as nh3 (rust-url) applies it."""
    if len(host) > MAX_HOST:
        raise NotAUri(f"{_NOT_A_HOST} (a host of more than {MAX_HOST} characters)")
    if host.isascii():
        if not _ASCII_HOST.fullmatch(host.lower()):
            raise NotAUri(f"{_NOT_A_HOST} (a character no host holds)")
        return host.lower()
    import nh3  # here: only hosts in other scripts need it

    try:
        cleaned = nh3.clean(
            '<a href="">.</a>', url_relative=("rewrite_with_base", f"http://{host}/")
        )
    except ValueError:  # 'invalid url_relative base URL "…": invalid international domain name'
        raise NotAUri(f"{_NOT_A_HOST} (not a valid domain name)") from None
    ascii_host = cleaned.partition('href="http://')[2].partition("/")[0]
    if not _ASCII_HOST.fullmatch(ascii_host):
        raise NotAUri(f"{_NOT_A_HOST} (not a valid domain name)")
    return ascii_host


def _escaped(part: str) -> str:
    """A URL's path, query and fragment with what a URI cannot hold percent-encoded (a `#`
    after the one that starts the fragment too)."""
    before, mark, fragment = part.partition("#")
    fragment = fragment.replace("#", "%23")
    if _URI.fullmatch(before) and _URI.fullmatch(fragment):
        return before + mark + fragment
    return _STRAY_PERCENT.sub("%25", quote(before + mark + fragment, safe=_KEPT + "%"))


# The usual URL, accepted the quick way: http(s), a host of lowercase letter, digit and hyphen
# labels ending in a name (not a number, which would make it an IPv4 address), maybe a port (not
# the scheme's own, which goes), then only what a URI holds as itself (`as_uri` writes the
# others), with no `.` or `..` path segment (resolved). A host with an `xn--` label (Punycode,
# which may be invalid) is not usual.
_PLAIN_URL = re.compile(
    rf"(https?)://((?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*)\.?(?::([1-9][0-9]{{0,4}}))?/{URI_TEXT}"
)


def is_plain(url: str) -> bool:
    """Whether `url` is the usual kind (`_PLAIN_URL`): a URI already, which needs no URL
    parser's look (`browser_problem`)."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is None or "xn--" in plain[2] or url.count("#") > 1:
        return False
    port = plain[3]
    if port and (int(port) > 65535 or int(port) == _DEFAULT_PORTS[plain[1]]):
        return False
    return not has_dot_segments(url[plain.end(2) :])


def not_a_host(url: str) -> bool:
    """Whether the URL's host is none a URI or a browser takes (`as_uri`, `browser_problem`)."""
    try:
        return browser_problem(as_uri(url)) is not None
    except NotAUri:
        return True


def browser_problem(uri: str) -> str | None:
    """What the URL standard (browsers, and nh3, which resolves an item's links against its
    URL) finds wrong with the host or port of `uri` (`as_uri`'s): `http://a:99999/`,
    `http://1.2.3.256/`, `http://a|b/`. Python's `urlsplit` lets these through; a URL nh3
    cannot parse would stop the build."""
    import nh3  # here: only unusual URLs need it, and a run with nothing to do never loads it

    try:
        nh3.clean("", url_relative=("rewrite_with_base", uri))
    except ValueError as e:  # 'invalid url_relative base URL "…": invalid port number'
        return str(e).rpartition(": ")[2]
    return None
