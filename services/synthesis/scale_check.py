"""Time and peak memory of a full synthesis over N synthetic contributions.

Texts recombine real sentences split from the Lille Decidim exports (read at run time; a small built-in
list when they are absent). Usage: python -m services.synthesis.scale_check 100000
"""

from __future__ import annotations

import csv
import random
import re
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil

from shared.frameworks import default_framework
from shared.vocabulary import AuthorRole, Channel, Kind

from .domain.models import AxisSource, PublishedContribution, Scope
from .domain.report import build_synthesis

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "decidim-lille-grand-debat"

FALLBACK = [
    "L'intelligence artificielle doit rester sous contrôle humain.",
    "Les données personnelles des habitants doivent être hébergées en France.",
    "Il faut former les agents avant tout déploiement.",
    "La consommation d'énergie des centres de données m'inquiète.",
    "Un accueil humain doit rester possible à la mairie.",
    "Les algorithmes utilisés par la ville doivent être publiés.",
    "Le chatbot pourrait répondre la nuit aux questions simples.",
    "Les personnes âgées risquent d'être exclues des démarches en ligne.",
    "Un comité citoyen devrait évaluer chaque projet avant son lancement.",
    "Préférer des logiciels libres et des solutions sobres.",
    "Traduire automatiquement les documents pour les habitants étrangers.",
    "Les métiers des agents vont changer, il faut un dialogue social.",
]


def sentences(data_dir: Path = DATA_DIR) -> list[str]:
    found = []
    for name in ("propositions-libres.csv", "commentaires_debats.csv"):
        path = data_dir / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                for s in re.split(r"(?<=[.!?])\s+|\n+", row.get("body") or ""):
                    s = s.strip()
                    if 30 <= len(s) <= 300:
                        found.append(s)
    return sorted(set(found)) or FALLBACK


def synthetic(n: int, seed: int = 1) -> list[PublishedContribution]:
    rng = random.Random(seed)  # nosec B311 # seeded corpus, not a secret
    pool = sentences()
    axes = default_framework().axis_ids()
    territories = [(f"territoire-{i:03d}", cc) for i, cc in
                   enumerate(["FR"] * 15 + ["CI", "MA", "MA", "CM", "CA", "BE", "CA", "DE"])]
    kinds, roles, channels = list(Kind), list(AuthorRole), list(Channel)
    stamp = datetime(2025, 1, 1)
    out = []
    for i in range(n):
        territory, country = territories[rng.randrange(len(territories))]
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        has_axis = rng.random() < 0.6
        out.append(PublishedContribution(
            id=f"c{i:08d}", territory=territory, country=country, kind=rng.choice(kinds), text=text,
            axis=rng.choice(axes) if has_axis else None, axis_source=AxisSource.SOURCE if has_axis else None,
            author_role=rng.choice(roles), channel=rng.choice(channels), submitted_at=stamp))
    return out


def main(n: int = 100_000) -> None:
    rows = synthetic(n)
    process = psutil.Process()
    print(f"{n} contributions generated, RSS {process.memory_info().rss / 2**30:.2f} GiB", flush=True)
    start = time.perf_counter()
    synthesis = build_synthesis(rows, default_framework(), Scope())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB → GiB on Linux
    print(f"n={n} seconds={seconds:.1f} peak_rss_gib={peak:.2f} axes={len(synthesis.axes)} "
          f"proposals={len(synthesis.proposals)} unclassified={synthesis.unclassified_count}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
