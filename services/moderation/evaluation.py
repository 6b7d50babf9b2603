"""Measured judgement: run the checks over labelled cases and count what they got right.

Labelled cases (`data/eval/cases.jsonl`), one JSON object a line:
`{"id", "title", "body", "language", "personal_data": [{"kind", "text"}], "violation": bool, "grounds": [...]}`.
`violation` means a person must see it before publication (held or rejected on a charter ground other than
personal data). The Lille Grand Débat comments are read where they lie, never copied: their bodies are
ordinary civic text, and their authors' names are used to check that a signed comment is masked.
"""

from __future__ import annotations

import csv
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from shared.vocabulary import Outcome

from . import hatecheck
from .domain.charter import GroundId
from .domain.pipeline import ModerationInput, ModerationResult, check_batch
from .hatecheck import HateCheckCase

CASES_PATH = Path(__file__).resolve().parent / "data" / "eval" / "cases.jsonl"
SNAPSHOT_PATH = Path(__file__).resolve().parent / "data" / "eval" / "expected_outcomes.jsonl"
# Cases written after the sentence model and the rules they measure, by other hands, never trained on nor
# written from: what the checks do with phrasings no one here tuned to (see docs/moderation.md).
UNSEEN_PATH = Path(__file__).resolve().parent / "data" / "eval" / "unseen_cases.jsonl"
LILLE_COMMENTS = "commentaires_debats.csv"
BLOCKING = {Outcome.HELD, Outcome.REJECTED}


class LabelledDatum(BaseModel):
    kind: str
    text: str


class Case(BaseModel):
    id: str
    body: str
    title: str | None = None
    language: str = "fr"
    personal_data: list[LabelledDatum] = Field(default_factory=list)
    violation: bool = False
    grounds: list[str] = Field(default_factory=list)
    note: str | None = None


class KindRecall(BaseModel):
    kind: str
    labelled: int
    masked: int  # the datum no longer appears in the published text
    typed: int  # masked with the placeholder of its own kind

    @property
    def recall(self) -> float:
        return self.masked / self.labelled if self.labelled else 1.0


class EvaluationReport(BaseModel):
    cases: int
    personal_data_labelled: int
    personal_data_masked: int
    personal_data_recall: float
    recall_by_kind: list[KindRecall]
    redactions: int
    redactions_on_labelled_data: int
    personal_data_precision: float
    violations: int
    violations_caught: int
    violations_caught_rate: float
    violations_right_ground: int
    clean: int  # cases labelled neither violation nor personal data
    clean_wrongly_held: int
    clean_wrongly_held_rate: float
    non_violations_wrongly_held: list[str]
    violations_missed: list[str]
    data_missed: list[str]
    seconds: float
    rate_per_second: float


class LilleReport(BaseModel):
    comments: int
    held: int  # ordinary civic comments held for a person: false holds unless a reading shows otherwise
    held_rate: float
    held_by_ground: dict[str, int]
    held_ids: list[str]
    flagged_only: int  # comments with flags that do not hold them (suspect words, off-topic, links)
    personal_data_found: dict[str, int]
    signed: int  # comments signed with their author's name (capitalised as a name), for the name check
    signatures_masked: int
    signature_recall: float
    seconds: float
    rate_per_second: float


def load_cases(path: Path = CASES_PATH) -> list[Case]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Case.model_validate_json(line) for line in lines if line.strip()]


def _inputs(cases: Sequence[Case]) -> list[ModerationInput]:
    return [
        ModerationInput(contribution_id=case.id, territory="evaluation-" + case.id, title=case.title, body=case.body,
                        language=case.language)
        for case in cases
    ]


def _covered_by(result: ModerationResult, field: str, start: int, end: int) -> set[str]:
    return {r.kind for r in result.redactions if r.field == field and r.start < end and start < r.end}


def evaluate(cases: Sequence[Case]) -> EvaluationReport:
    started = time.perf_counter()
    # Each case in its own territory: the evaluation is about the checks, not about flooding between cases.
    results, _ = check_batch(_inputs(cases), {}, {})
    seconds = time.perf_counter() - started
    by_kind: dict[str, list[int]] = {}
    redactions = on_labelled = 0
    violations = caught = right_ground = clean = clean_held = 0
    wrongly_held, missed, data_missed = [], [], []
    for case, result in zip(cases, results):
        labelled_spans = []
        for datum in case.personal_data:
            counts = by_kind.setdefault(datum.kind, [0, 0, 0])
            counts[0] += 1
            start = case.body.find(datum.text)
            labelled_spans.append((start, start + len(datum.text)))
            if datum.text not in result.redacted_body and start >= 0:
                counts[1] += 1
                if datum.kind in _covered_by(result, "body", start, start + len(datum.text)):
                    counts[2] += 1
            else:
                data_missed.append(f"{case.id}:{datum.kind}")
        for redaction in result.redactions:
            redactions += 1
            if redaction.field == "body" and any(s < redaction.end and redaction.start < e for s, e in labelled_spans):
                on_labelled += 1
        blocked = result.suggested_outcome in BLOCKING and any(g != GroundId.PERSONAL_DATA for g in result.grounds)
        if case.violation:
            violations += 1
            if blocked:
                caught += 1
                if not case.grounds or set(case.grounds) & set(result.grounds):
                    right_ground += 1
            else:
                missed.append(case.id)
        else:
            if blocked:
                wrongly_held.append(f"{case.id}:{','.join(result.grounds)}")
            if not case.personal_data:
                clean += 1
                clean_held += blocked
    labelled = sum(c[0] for c in by_kind.values())
    masked = sum(c[1] for c in by_kind.values())
    return EvaluationReport(
        cases=len(cases),
        personal_data_labelled=labelled,
        personal_data_masked=masked,
        personal_data_recall=masked / labelled if labelled else 1.0,
        recall_by_kind=[KindRecall(kind=k, labelled=c[0], masked=c[1], typed=c[2]) for k, c in sorted(by_kind.items())],
        redactions=redactions,
        redactions_on_labelled_data=on_labelled,
        personal_data_precision=on_labelled / redactions if redactions else 1.0,
        violations=violations,
        violations_caught=caught,
        violations_caught_rate=caught / violations if violations else 1.0,
        violations_right_ground=right_ground,
        clean=clean,
        clean_wrongly_held=clean_held,
        clean_wrongly_held_rate=clean_held / clean if clean else 0.0,
        non_violations_wrongly_held=wrongly_held,
        violations_missed=missed,
        data_missed=data_missed,
        seconds=seconds,
        rate_per_second=len(cases) / seconds if seconds else 0.0,
    )


# --- spelling evasions ----------------------------------------------------------------------------

EVASIONS = ("letter missing", "letters swapped", "letters spaced", "leetspeak", "space missing", "space added")
_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})


class EvasionFigures(BaseModel):
    evasion: str
    tried: int
    still_caught: int


def evade(text: str, start: int, end: int, evasion: str, seed: str) -> str | None:
    """`text` with one spelling evasion, as HateCheck writes them, inside its stretch `start:end` (a word of
    4 letters or more, or a space, chosen by a hash of `seed` so that the figure never varies)."""
    rng = random.Random(seed)  # nosec B311 # not for security: a stable choice of word
    if evasion == "space missing":
        spaces = [m.start() for m in re.finditer(" ", text[start:end])]
        if not spaces:
            return None
        i = start + rng.choice(spaces)
        return text[:i] + text[i + 1:]
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\w{4,}", text[start:end])]
    if not words:
        return None
    a, b = rng.choice(words)
    word = text[a:b]
    if evasion == "letter missing":
        i = rng.randrange(1, len(word) - 1)
        altered = word[:i] + word[i + 1:]
    elif evasion == "letters swapped":
        i = rng.randrange(1, len(word) - 2)
        altered = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    elif evasion == "letters spaced":
        altered = " ".join(word)
    elif evasion == "space added":  # one space inside the word: "ra ts", "Mus lime"
        i = rng.randrange(2, len(word) - 1)
        altered = word[:i] + " " + word[i:]
    else:
        altered = word.translate(_LEET)
    return text[:a] + altered + text[b:]


def spelling_evasions(cases: Sequence[Case]) -> list[EvasionFigures]:
    """Each hate or threat violation the checks catch, altered once by each evasion inside the stretch
    they flagged: how many are still held or rejected."""
    violations = [c for c in cases if c.violation and {"hate", "threat"} & set(c.grounds)]
    results, _ = check_batch(_inputs(violations), {}, {})
    variants: list[tuple[str, Case, str]] = []
    for case, result in zip(violations, results):
        flags = [f for f in result.flags if f.ground in ("hate", "threat") and f.field == "body"]
        if result.suggested_outcome not in BLOCKING or not flags:
            continue
        flag = max(flags, key=lambda f: (f.score, f.end - f.start))
        for evasion in EVASIONS:
            altered = evade(case.body, flag.start, flag.end, evasion, f"{case.id}:{evasion}")
            if altered is not None:
                variants.append((evasion, case, altered))
    altered_cases = [case.model_copy(update={"body": body}) for _, case, body in variants]
    altered_results, _ = check_batch(_inputs(altered_cases), {}, {})
    counts = {evasion: [0, 0] for evasion in EVASIONS}
    for (evasion, _, _), result in zip(variants, altered_results):
        counts[evasion][0] += 1
        counts[evasion][1] += result.suggested_outcome in BLOCKING
    return [EvasionFigures(evasion=e, tried=c[0], still_caught=c[1]) for e, c in counts.items()]


def read_lille_comments(directory: Path) -> list[dict[str, str]]:
    with (directory / LILLE_COMMENTS).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _looks_like_a_name(author: str) -> bool:
    words = author.split()
    return 1 <= len(words) <= 3 and all(w[:1].isupper() and w[1:].islower() for w in words if w.isalpha()) \
        and all(w.replace("-", "").isalpha() for w in words)


def evaluate_lille(directory: Path) -> LilleReport:
    rows = read_lille_comments(directory)
    items = [ModerationInput(contribution_id=f"lille-{row['id']}", territory="lille", body=row["body"]) for row in rows]
    signed_rows = [row for row in rows if _looks_like_a_name(row["author/name"].strip())]
    signed_items = [
        ModerationInput(contribution_id=f"lille-signed-{row['id']}", territory="lille-signed",
                        body=f"{row['body'].rstrip()}\n\nCordialement,\n{row['author/name'].strip()}")
        for row in signed_rows
    ]
    started = time.perf_counter()
    results, _ = check_batch(items, {}, {})
    seconds = time.perf_counter() - started
    signed_results, _ = check_batch(signed_items, {}, {})
    held = [r for r in results if r.suggested_outcome in BLOCKING]
    held_by_ground = Counter(g for r in held for g in r.grounds)
    flagged_only = sum(1 for r in results if r.suggested_outcome not in BLOCKING and any(f.ground != GroundId.PERSONAL_DATA for f in r.flags))
    found = Counter(r.kind for result in results for r in result.redactions)
    masked = 0
    for row, result in zip(signed_rows, signed_results):
        tail = result.redacted_body[-(len(row["author/name"].strip()) + 40):]
        masked += row["author/name"].strip() not in tail
    return LilleReport(
        comments=len(rows),
        held=len(held),
        held_rate=len(held) / len(rows) if rows else 0.0,
        held_by_ground=dict(held_by_ground),
        held_ids=[r.contribution_id for r in held],
        flagged_only=flagged_only,
        personal_data_found=dict(found),
        signed=len(signed_rows),
        signatures_masked=masked,
        signature_recall=masked / len(signed_rows) if signed_rows else 1.0,
        seconds=seconds,
        rate_per_second=len(rows) / seconds if seconds else 0.0,
    )


def default_lille_dir(repo_root: Path | None = None) -> Path:
    root = repo_root or Path(__file__).resolve().parents[2]
    return root.parent / "shared" / "data" / "decidim-lille-grand-debat"


def cases_from_jsonl(lines: Iterable[str]) -> list[Case]:
    return [Case.model_validate(json.loads(line)) for line in lines if line.strip()]


class FunctionalityFigures(BaseModel):
    language: str
    functionality: str
    hateful: bool
    cases: int
    published: int  # published as written (for hateful cases: published automatically, the failure)
    held: int
    rejected: int

    @property
    def published_rate(self) -> float:
        return self.published / self.cases if self.cases else 0.0


class LanguageFigures(BaseModel):
    language: str
    hateful: int
    hateful_published: int
    direct_threats: int
    direct_threats_published: int
    non_hateful: int
    non_hateful_published: int  # as written
    # The non-hateful cases the charter allows: all but HateCheck's threats and abuse aimed at one person
    # or at a group the charter does not protect ("je veux le tuer"), which its threat and insult grounds hold
    charter_clean: int = 0
    charter_clean_published: int = 0
    charter_clean_rejected: int = 0

    @property
    def hateful_published_rate(self) -> float:
        return self.hateful_published / self.hateful if self.hateful else 0.0

    @property
    def non_hateful_published_rate(self) -> float:
        return self.non_hateful_published / self.non_hateful if self.non_hateful else 1.0

    @property
    def charter_clean_published_rate(self) -> float:
        return self.charter_clean_published / self.charter_clean if self.charter_clean else 1.0


class HateCheckReport(BaseModel):
    part: str
    by_language: list[LanguageFigures]
    by_functionality: list[FunctionalityFigures]
    seconds: float


CHARTER_VIOLATIONS_NOT_HATE = frozenset(("target_indiv_nh", "target_group_nh"))


def hatecheck_results(cases: Sequence[HateCheckCase]) -> list[ModerationResult]:
    """Each case moderated as a contribution of an automatic-mode territory of its own."""
    items = [ModerationInput(contribution_id=case.id, territory="hatecheck-" + case.id, body=case.text,
                             language=case.language) for case in cases]
    results, _ = check_batch(items, {}, {})
    return results


def evaluate_hatecheck(cases: Sequence[HateCheckCase], part: str = "report") -> HateCheckReport:
    started = time.perf_counter()
    results = hatecheck_results(cases)
    seconds = time.perf_counter() - started
    by_functionality: dict[tuple[str, str], FunctionalityFigures] = {}
    for case, result in zip(cases, results):
        key = (case.language, case.functionality)
        figures = by_functionality.setdefault(key, FunctionalityFigures(
            language=case.language, functionality=case.functionality, hateful=case.hateful,
            cases=0, published=0, held=0, rejected=0))
        figures.cases += 1
        if case.hateful:
            figures.published += result.suggested_outcome in (Outcome.PUBLISHED, Outcome.PUBLISHED_REDACTED)
        else:
            figures.published += result.suggested_outcome == Outcome.PUBLISHED
        figures.held += result.suggested_outcome == Outcome.HELD
        figures.rejected += result.suggested_outcome == Outcome.REJECTED
    by_language = []
    for language in sorted({case.language for case in cases}):
        rows = [f for (lang, _), f in by_functionality.items() if lang == language]
        hateful = [f for f in rows if f.hateful]
        non_hateful = [f for f in rows if not f.hateful]
        threats = [f for f in rows if f.functionality == "threat_dir_h"]
        by_language.append(LanguageFigures(
            language=language,
            hateful=sum(f.cases for f in hateful), hateful_published=sum(f.published for f in hateful),
            direct_threats=sum(f.cases for f in threats), direct_threats_published=sum(f.published for f in threats),
            non_hateful=sum(f.cases for f in non_hateful),
            non_hateful_published=sum(f.published for f in non_hateful),
            charter_clean=sum(f.cases for f in non_hateful if f.functionality not in CHARTER_VIOLATIONS_NOT_HATE),
            charter_clean_published=sum(f.published for f in non_hateful
                                        if f.functionality not in CHARTER_VIOLATIONS_NOT_HATE),
            charter_clean_rejected=sum(f.rejected for f in non_hateful
                                       if f.functionality not in CHARTER_VIOLATIONS_NOT_HATE),
        ))
    return HateCheckReport(
        part=part, by_language=by_language,
        by_functionality=sorted(by_functionality.values(), key=lambda f: (f.language, not f.hateful, f.functionality)),
        seconds=seconds,
    )


def as_functional_tests(cases: Sequence[Case]) -> list[HateCheckCase]:
    """Our unseen cases read as HateCheck's functional tests: the functionality is the tag that ends each
    note ("written for …: threat_direct"), hateful (_h) or not (_nh) by the label; a direct threat counts
    as HateCheck's threat_dir_h."""
    tests = []
    for case in cases:
        tag = (case.note or "unlabelled").rsplit(": ", 1)[-1]
        functionality = "threat_dir_h" if tag == "threat_direct" else f"{tag}_{'h' if case.violation else 'nh'}"
        tests.append(HateCheckCase(id=case.id, language=case.language, functionality=functionality, text=case.body,
                                   hateful=case.violation, target="", template_root=case.id, part="report"))
    return tests


def evaluate_hatecheck_dir(directory: Path | None = None, part: hatecheck.Part = "report") -> HateCheckReport:
    return evaluate_hatecheck(hatecheck.load(directory, part), part)


class ExpectedOutcome(BaseModel):
    """What the checks decide on one labelled case, as a person reviewed it (the drift guard's snapshot)."""

    id: str
    source: str  # "cases" (data/eval/cases.jsonl), "unseen" (data/eval/unseen_cases.jsonl) or "hatecheck"
    label: str  # the case's label: violation/clean/personal-data, or the HateCheck functionality
    outcome: str  # the automatic-mode outcome
    grounds: list[str]


def _case_label(case: Case) -> str:
    if case.violation:
        return "violation:" + ",".join(case.grounds)
    return "personal-data" if case.personal_data else "clean"


def current_outcomes(cases: Sequence[Case], hatecheck_cases: Sequence[HateCheckCase] = (),
                     unseen: Sequence[Case] = ()) -> list[ExpectedOutcome]:
    """Every labelled case's outcome as the checks decide it today, sorted by source and id."""
    results, _ = check_batch(_inputs([*cases, *unseen]), {}, {})
    outcomes = [ExpectedOutcome(id=case.id, source="cases" if i < len(cases) else "unseen", label=_case_label(case),
                                outcome=result.suggested_outcome.value, grounds=result.grounds)
                for i, (case, result) in enumerate(zip([*cases, *unseen], results))]
    outcomes += [ExpectedOutcome(id=case.id, source="hatecheck", label=f"{case.functionality} ({case.part})",
                                 outcome=result.suggested_outcome.value, grounds=result.grounds)
                 for case, result in zip(hatecheck_cases, hatecheck_results(hatecheck_cases))]
    return sorted(outcomes, key=lambda o: (o.source, o.id))


def load_snapshot(path: Path = SNAPSHOT_PATH) -> list[ExpectedOutcome]:
    if not path.exists():
        return []
    return [ExpectedOutcome.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_snapshot(outcomes: Sequence[ExpectedOutcome], path: Path = SNAPSHOT_PATH) -> None:
    path.write_text("".join(o.model_dump_json() + "\n" for o in outcomes), encoding="utf-8")


class Drift(BaseModel):
    changed: list[str]  # same label, another outcome or other grounds: what the guard is for
    relabelled: list[str]  # the label changed: the snapshot must be reviewed again
    added: list[str]
    removed: list[str]

    @property
    def clean(self) -> bool:
        return not (self.changed or self.relabelled or self.added or self.removed)


def compare_outcomes(expected: Sequence[ExpectedOutcome], current: Sequence[ExpectedOutcome],
                     sources: set[str] | None = None) -> Drift:
    """Differences between the reviewed snapshot and today's outcomes, for the given sources only."""
    sources = sources or {o.source for o in (*expected, *current)}
    before = {(o.source, o.id): o for o in expected if o.source in sources}
    now = {(o.source, o.id): o for o in current if o.source in sources}
    changed, relabelled = [], []
    for key in sorted(before.keys() & now.keys()):
        old, new = before[key], now[key]
        if old.label != new.label:
            relabelled.append(f"{key[0]}/{key[1]}: label {old.label!r} -> {new.label!r}")
        elif (old.outcome, old.grounds) != (new.outcome, new.grounds):
            changed.append(f"{key[0]}/{key[1]} [{old.label}]: {old.outcome} {old.grounds} -> {new.outcome} {new.grounds}")
    return Drift(changed=changed, relabelled=relabelled,
                 added=[f"{s}/{i}" for s, i in sorted(now.keys() - before.keys())],
                 removed=[f"{s}/{i}" for s, i in sorted(before.keys() - now.keys())])


class BenchmarkReport(BaseModel):
    contributions: int
    mean_characters: float
    without_names_per_second: float  # every check except the name model
    whole_batch_per_second: float  # with the name model over the batch (nlp.pipe)


def benchmark(bodies: Sequence[str], size: int = 2000) -> BenchmarkReport:
    """Contributions moderated per second by `check_batch` on one core, over `size` texts cycled from
    `bodies` (each made distinct so flooding does not short-cut anything)."""
    texts = [f"{bodies[i % len(bodies)]} ({i})" for i in range(size)]
    items = [ModerationInput(contribution_id=str(i), territory=f"t{i % 20}", body=text) for i, text in enumerate(texts)]
    check_batch(items[:50], {}, {})  # load the model and the lexicons outside the measure
    started = time.perf_counter()
    check_batch(items, {}, {}, detect_names=False)
    without_names = time.perf_counter() - started
    started = time.perf_counter()
    check_batch(items, {}, {})
    whole = time.perf_counter() - started
    return BenchmarkReport(
        contributions=size,
        mean_characters=sum(map(len, texts)) / size,
        without_names_per_second=size / without_names,
        whole_batch_per_second=size / whole,
    )


def benchmark_runner(bodies: Sequence[str], size: int = 2000, workers: int = 2, batch: int = 500) -> float:
    """Contributions moderated per second through `CheckRunner` (the service's path: the name model in
    `workers` processes, the rest in a thread), in batches of `batch` as the consumer pulls them."""
    import asyncio

    from .checks import CheckRunner

    texts = [f"{bodies[i % len(bodies)]} ({i})" for i in range(size)]
    items = [ModerationInput(contribution_id=str(i), territory=f"t{i % 20}", body=text) for i, text in enumerate(texts)]

    async def run() -> float:
        runner = CheckRunner(workers)
        try:
            await runner.warm_up()
            await runner.check(items[:50], {}, {})
            started = time.perf_counter()
            for start in range(0, size, batch):
                await runner.check(items[start:start + batch], {}, {})
            return size / (time.perf_counter() - started)
        finally:
            runner.close()

    return asyncio.run(run())
