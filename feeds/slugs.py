"""File names for groups: lowercase ASCII words joined by `-`, from any script (SPEC §2).

A slug is made only of `[a-z0-9-]`: it can never name a parent folder, a hidden file or a path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from anyascii import anyascii

MAX_LENGTH = 80
FALLBACK = "untitled"
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    words = _NOT_WORD.sub("-", anyascii(name).lower()).strip("-")
    return words[:MAX_LENGTH].rstrip("-") or FALLBACK


def assign_slugs(names: Mapping[str, str]) -> dict[str, str]:
    """Map each identity key to a distinct slug of its display name, deterministically.

    When names share a slug, the key that sorts first keeps it and each other gets a suffix made
    from a hash of its own key, so its slug does not depend on which other names exist.
    """
    by_slug: dict[str, list[str]] = {}
    for key in sorted(names):
        by_slug.setdefault(slugify(names[key]), []).append(key)
    taken = set(by_slug)
    slugs: dict[str, str] = {}
    for slug, keys in by_slug.items():
        slugs[keys[0]] = slug
        for key in keys[1:]:
            slugs[key] = _suffixed(slug, key, taken)
            taken.add(slugs[key])
    return slugs


def _suffixed(slug: str, key: str, taken: set[str]) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    for size in range(6, len(digest) + 1):
        candidate = f"{slug[: MAX_LENGTH - size - 1]}-{digest[:size]}"
        if candidate not in taken:
            return candidate
    raise AssertionError("a SHA-256 digest cannot collide with every shorter prefix")
