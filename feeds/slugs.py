"""File names: a group's slug from its identity key, and a custom feed's slug from its title.

A published feed URL must never change meaning, so a group's slug is a pure function of its
identity key (`text.identity_key` for topics; the domain, else the name's identity key, for
providers): it never depends on which other names exist, their order or the corpus. Two keys
never share a slug, by construction rather than by resolving collisions:

- A "plain" key maps to itself with its separators turned into `-`, and back: for topics, `[a-z0-9]`
  words joined by single spaces (`machine learning` -> `machine-learning`); for providers, one
  word or `[a-z0-9]` labels joined by dots (`cnbc.com` -> `cnbc-com`), so a provider name with
  spaces (`cnbc com`) cannot take the domain's slug. A plain slug never holds `--`.
- Any other key is "lossy": a readable part (symbols spelled out, transliterated to ASCII, capped)
  then `--` then 16 hex digits of the key's SHA-256 (`C++` -> `c-plus-plus--<hash>`). The `--`
  keeps it apart from every plain slug; two lossy keys share a slug only if they have the same
  readable part and their digests agree on 64 bits: even a search for such a pair (a readable
  part is capped, so long names differ only in their digest) takes some 2**32 tries per pair.

Every slug is made only of `[a-z0-9-]` and starts with a letter or digit: it can never name a
parent folder, a hidden file or a path.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from anyascii import anyascii

MAX_LENGTH = 80
FALLBACK = "untitled"
HASH_LENGTH = 16  # 64 bits: 32 were found to collide by a birthday search in under a second
LOSSY = "--"  # plain slugs join single words with single `-`, so they never hold this
_READABLE_MAX = MAX_LENGTH - len(LOSSY) - HASH_LENGTH
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PLAIN_TOPIC = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
_PLAIN_PROVIDER = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")
# Symbols that tell names apart (`C`, `C++`, `C#`): spelled, so the readable part keeps them.
_SPELLED = str.maketrans(
    {"+": " plus ", "#": " sharp ", "&": " and ", "@": " at ", "%": " percent "}
)


def slugify(name: str) -> str:
    """Lowercase ASCII words joined by `-`: a custom feed's slug, which the curator chooses."""
    return _words(name, MAX_LENGTH) or FALLBACK


@lru_cache(maxsize=1 << 14)  # called per group on every build; a corpus has few distinct keys
def topic_slug(key: str) -> str:
    """The slug of a topic's identity key (`identity_key` of its name)."""
    if _PLAIN_TOPIC.fullmatch(key) and len(key) <= MAX_LENGTH:
        return key.replace(" ", "-")
    return _lossy(key)


@lru_cache(maxsize=1 << 14)
def provider_slug(key: str) -> str:
    """The slug of a provider's identity key (its domain, else `identity_key` of its name)."""
    if _PLAIN_PROVIDER.fullmatch(key) and len(key) <= MAX_LENGTH:
        return key.replace(".", "-")
    return _lossy(key)


def _lossy(key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]
    return f"{_readable(key)}{LOSSY}{digest}"


def _readable(key: str) -> str:
    text = anyascii(key)  # first: a full-width plus is spelled like `+`
    if text.startswith("."):
        text = "dot " + text[1:]  # `.NET`: the dot is the name's only difference from `NET`
    return _words(text.translate(_SPELLED), _READABLE_MAX) or FALLBACK


def _words(text: str, cap: int) -> str:
    words = _NOT_WORD.sub("-", anyascii(text).lower()).strip("-")
    return words[:cap].rstrip("-")
