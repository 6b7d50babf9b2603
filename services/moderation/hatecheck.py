"""Multilingual HateCheck (Röttger et al., 2022; CC BY 4.0): the development half of its French and German
cases, read where it lies (`../shared/data/multilingual-hatecheck/`), never copied into the project.

That half is split again, by template root, into a `tuning` part (the checks may be tuned on it) and a
`report` part (only measured). A case's template root is its `ref_templ_id`, or its `templ_id` when it has
none, so every case derived from one template falls on the same side; the side is a stable hash of the
language and the root, so the split never depends on the order of the file or on the run.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

FILES = {"fr": "french-development.csv", "de": "german-development.csv"}
Part = Literal["tuning", "report"]


class HateCheckCase(BaseModel):
    id: str  # mhc_case_id
    language: str
    functionality: str
    text: str
    hateful: bool
    target: str
    template_root: str
    part: Part


def split_part(language: str, template_root: str) -> Part:
    """`tuning` or `report`, half and half by a hash of the template root."""
    digest = hashlib.sha256(f"{language}:{template_root}".encode()).digest()
    return "tuning" if digest[0] % 2 == 0 else "report"


def default_dir(repo_root: Path | None = None) -> Path:
    root = repo_root or Path(__file__).resolve().parents[2]
    return root.parent / "shared" / "data" / "multilingual-hatecheck"


def available(directory: Path | None = None) -> bool:
    directory = directory or default_dir()
    return all((directory / name).exists() for name in FILES.values())


def load(directory: Path | None = None, part: Part | None = None) -> list[HateCheckCase]:
    """The cases of both languages, or of one part only."""
    directory = directory or default_dir()
    cases = []
    for language, name in FILES.items():
        with (directory / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                root = (row["ref_templ_id"] or row["templ_id"]).strip()
                case = HateCheckCase(
                    id=row["mhc_case_id"], language=language, functionality=row["functionality"],
                    text=row["test_case"], hateful=row["label_gold"] == "hateful", target=row["target_ident"],
                    template_root=root, part=split_part(language, root),
                )
                if part is None or case.part == part:
                    cases.append(case)
    return cases
