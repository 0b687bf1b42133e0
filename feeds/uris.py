"""URLs as feeds carry them: URIs (RFC 3986), which every reader and validator takes.

A record's or the configuration's URL may be written the way a browser's address bar shows it:
`https://bücher.de/ü?q="a"`. Feeds put it in `<link>`, `<guid>`, `atom:id` and enclosures,
where only a URI belongs (the W3C validator: `InvalidUriChar`, `UriNotIri`). `as_uri` writes it
as one, the way browsers send it: the host in lowercase and Punycode, every character a URI
cannot hold as itself percent-encoded as UTF-8 (a `%` that starts no escape too). It is the
article's identity from then on: `HTTPS://Example.com/a` and `https://example.com/a` are one.
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
    ):
        return url
    if authority.startswith("["):  # an IPv6 address: ASCII already
        host, port = authority.partition("]")[0] + "]", authority.partition("]")[2]
    else:
        host, colon, number = authority.partition(":")
        host, port = _ascii_host(host), colon + number
    return f"{scheme.lower()}://{host.lower()}{port}{_escaped(tail)}"


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
