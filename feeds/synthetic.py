"""A deterministic synthetic corpus in the seed's schema, for tests and benchmarks.

    python -m feeds.synthetic --count 10000 --seed 1 DIR

Topics and providers follow a Zipf distribution (a few are everywhere, most are rare), names
include non-ASCII scripts, records carry images and related coverage. The same count and seed
always give the same files, byte for byte.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

WORDS = [
    "market",
    "robot",
    "vision",
    "climate",
    "energy",
    "court",
    "election",
    "vaccine",
    "chip",
    "battery",
    "satellite",
    "ocean",
    "startup",
    "privacy",
    "quantum",
    "drone",
    "harvest",
    "rocket",
    "museum",
    "bridge",
    "festival",
    "league",
    "budget",
]
TOPIC_ROOTS = [
    "AI", "Computer Vision", "Robotics", "Climate", "Energy", "Privacy", "Space", "Health",
    "Künstliche Intelligenz", "Robotik", "Énergie", "人工知能", "ロボット",
    "Искусственный интеллект",
    "Semiconductors", "Quantum Computing", "Elections", "Sports", "Culture", "Science",
]  # fmt: skip
PROVIDER_ROOTS = [
    ("CNBC", "cnbc.com"), ("CNET", "cnet.com"), ("Reuters", "reuters.com"),
    ("heise online", "heise.de"), ("Le Monde", "lemonde.fr"), ("日本経済新聞", "nikkei.com"),
    ("BBC", "bbc.co.uk"), ("The Register", "theregister.com"), ("Ars Technica", "arstechnica.com"),
]  # fmt: skip
START = datetime(2024, 1, 1, tzinfo=UTC)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _zipf_names(roots: list[str], count: int) -> list[str]:
    return roots + [f"{roots[i % len(roots)]} {i}" for i in range(len(roots), count)]


TOPICS = _zipf_names(TOPIC_ROOTS, 400)
PROVIDERS = [(n, d) for n, d in PROVIDER_ROOTS] + [
    (f"Gazette {i}", f"gazette{i}.example") for i in range(len(PROVIDER_ROOTS), 300)
]


def _zipf(rng: random.Random, size: int) -> int:
    """An index in [0, size) drawn with weight 1/(rank+1)."""
    while True:
        index = int(size ** rng.random()) - 1
        if index < size:
            return index


def record(n: int, rng: random.Random, at: int | None = None) -> dict[str, object]:
    """Record number `n`, published in the seven minutes after `at` times seven (by default
    `n`'s): the corpus has a record every seven minutes from `START`."""
    name, domain = PROVIDERS[_zipf(rng, len(PROVIDERS))]
    words = rng.sample(WORDS, 5)
    published = START + timedelta(minutes=7 * (n if at is None else at) + rng.randrange(7))
    data: dict[str, object] = {
        "category": "news",
        "title": f"{' '.join(words).capitalize()} ({n})",
        "excerpt": " ".join(rng.choice(WORDS) for _ in range(30)).capitalize() + ".",
        "publishedDateTime": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "webUrl": f"https://www.{domain}/{published:%Y/%m/%d}/{'-'.join(words)}-{n}.html",
        "type": "article",
        "quality": rng.randrange(101),
        "heat": rng.randrange(-1, 500),
        "published": rng.random() < 0.8,
        "provider": {
            "name": name,
            "domain": domain,
            "images": [
                {"url": f"https://logos.example/{domain}-50x50.jpg", "width": 50, "height": 50}
            ],
        },
        "topics": sorted({TOPICS[_zipf(rng, len(TOPICS))] for _ in range(rng.randrange(1, 4))}),
        "images": [
            {
                "url": f"https://images.example/{n}/{i}.jpg",
                "width": rng.choice([640, 1200, 3915]),
                "height": rng.choice([480, 675, 2534]),
                "title": f"Image {i} of story {n}",
            }
            for i in range(rng.choice([0, 1, 1, 1, 2, 3]))
        ],
        "secured": f"token-{rng.getrandbits(64):016x}",
    }
    if rng.random() < 0.3:
        other_name, other_domain = PROVIDERS[_zipf(rng, len(PROVIDERS))]
        data["related"] = [
            {
                "title": f"Also: {' '.join(rng.sample(WORDS, 4))}",
                "webUrl": f"https://www.{other_domain}/related/{n}.html",
                "publishedDateTime": (published + timedelta(hours=1)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "provider": {"name": other_name, "domain": other_domain},
            }
        ]
    return data


def write_corpus(
    folder: Path, count: int, seed: int, start: int = 0, dated_from: int | None = None
) -> list[Path]:
    """Write records `start` to `start + count` into `folder`; returns their paths. With
    `dated_from`, they are dated as records `dated_from` on would be: records numbered far from
    a corpus of that many (their names and URLs apart) that are its newest, as a curator's new
    records are."""
    paths = []
    for n in range(start, start + count):
        rng = random.Random(f"{seed}:{n}")
        at = None if dated_from is None else dated_from + n - start
        text = yaml.dump(record(n, rng, at), Dumper=_DUMPER, allow_unicode=True, sort_keys=False)
        path = folder / f"{n // 1000:03d}" / f"{n:07d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{text}---\n", encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_corpus(args.folder, args.count, args.seed)


if __name__ == "__main__":
    main()
