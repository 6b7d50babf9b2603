"""The recompute as pure functions: what a person or a source said stays, the classifier places the rest;
scopes take the framework their contributions answer; views drop quotes of withdrawn contributions."""

import dataclasses
from collections import Counter

from services.synthesis.domain.models import AxisSource, Scope
from services.synthesis.domain.classify import Assignment
from services.synthesis.domain.recompute import framework_key, recompute, scope_framework, settled_axis
from services.synthesis.views import axis_labels, keep_published
from shared.frameworks import Framework, default_framework

OTHER = Framework(id="autre-cadre", version="1", axes=[
    {"id": "ecole", "label": "L'école", "seed_terms": ["école", "élève", "enseignant"]},
    {"id": "sante", "label": "La santé", "seed_terms": ["hôpital", "médecin", "soin"]},
])


def test_person_and_source_axes_stay_and_the_classifier_places_the_rest(network):
    corrected = next(c for c in network if c.axis == "sobriete")
    rows = [dataclasses.replace(c, axis="travail", axis_source=AxisSource.PERSON) if c.id == corrected.id else c
            for c in network]
    frameworks_of = {c.id: default_framework() for c in rows}
    result = recompute(rows, frameworks_of, [(Scope(), default_framework())])
    placed = result.analyses[("network", "network")].placements
    assert placed[corrected.id].axis == "travail"
    for c in rows:
        if c.axis_source == AxisSource.SOURCE:
            assert placed[c.id].axis == c.axis and placed[c.id].axis_source == AxisSource.SOURCE
    unplaced = [c for c in rows if c.axis is None]
    assert unplaced and all(placed[c.id].axis_source in (AxisSource.CLASSIFIER, None) for c in unplaced)
    moved = {change.contribution_id for change in result.changes}
    assert moved <= {c.id for c in unplaced}
    document = result.analyses[("network", "network")].synthesis
    assert sum(a.count for a in document.axes) + document.unclassified_count == len(rows)


def test_the_same_input_gives_the_same_result(network):
    frameworks_of = {c.id: default_framework() for c in network}
    scopes = [(Scope(), default_framework()), (Scope(level="territory", id="rennes"), default_framework())]
    first = recompute(network, frameworks_of, scopes)
    again = recompute(list(reversed(network)), frameworks_of, scopes)
    for key in first.analyses:
        assert first.analyses[key].synthesis == again.analyses[key].synthesis
    assert first.changes == again.changes


def test_a_scope_takes_the_framework_most_of_its_contributions_answer(network):
    default = default_framework()
    frameworks_of = {c.id: (OTHER if c.territory == "quebec" else default) for c in network}
    result = recompute(network, frameworks_of, [(Scope(level="territory", id="quebec"), default),
                                                (Scope(), OTHER), (Scope(level="territory", id="nowhere"), OTHER)])
    assert result.frameworks == {("territory", "quebec"): "autre-cadre@1", ("network", "network"): framework_key(default),
                                 ("territory", "nowhere"): "autre-cadre@1"}
    assert [a.id for a in result.analyses[("territory", "quebec")].synthesis.axes] == ["ecole", "sante"]


def test_a_tie_between_frameworks_goes_to_the_default_one():
    default = default_framework()
    counted = Counter({framework_key(default): 3, framework_key(OTHER): 3})
    by_key = {framework_key(default): default, framework_key(OTHER): OTHER}
    assert scope_framework(counted, by_key, OTHER) == default
    assert scope_framework(Counter(), by_key, OTHER) == OTHER


def test_labels_come_from_the_computed_framework_first():
    labels, main = axis_labels({"id": "autre-cadre", "version": "1"},
                               [default_framework().model_dump(), OTHER.model_dump()])
    assert main == ["ecole", "sante"]
    assert labels["ecole"] == "L'école" and labels["maitrise"] == default_framework().axes[2].label
    assert axis_labels(None, [])[1] == default_framework().axis_ids()


def test_quotes_of_withdrawn_or_changed_contributions_are_dropped():
    document = {
        "axes": [{"id": "maitrise", "subthemes": [{"label": "x", "quotes": [
            {"contribution_id": "a", "text": "Publier le code."},
            {"contribution_id": "b", "text": "Un texte retiré."},
            {"contribution_id": "c", "text": "Un texte long coupé…"},
            {"contribution_id": "d", "text": "Mon courriel est x@y.fr"},
        ]}]}],
        "proposals": [
            {"representative": {"contribution_id": "a", "text": "Publier le code."}, "contribution_ids": ["a", "b"],
             "quotes": [{"contribution_id": "b", "text": "Un texte retiré."},
                        {"contribution_id": "c", "text": "Un texte long coupé…"}]},
            {"representative": {"contribution_id": "b", "text": "Un texte retiré."}, "contribution_ids": ["b"]},
        ],
    }
    published = {"a": "Publier le code.", "c": "Un texte long coupé en deux.", "d": "Mon courriel est [courriel]"}
    kept = keep_published(document, published)
    assert [q["contribution_id"] for q in kept["axes"][0]["subthemes"][0]["quotes"]] == ["a", "c"]
    assert kept["proposals"] == [{"representative": {"contribution_id": "a", "text": "Publier le code."},
                                  "contribution_ids": ["a"],
                                  "quotes": [{"contribution_id": "c", "text": "Un texte long coupé…"}]}]


def test_a_worker_that_kept_its_tagging_recomputes_the_same_and_tags_only_new_texts(network, monkeypatch):
    """The recompute worker keeps what the tagger made of each text from one recompute to the next: the
    result must not depend on it, and a text seen before must not go through spaCy again."""
    from services.synthesis.domain import text

    frameworks_of = {c.id: default_framework() for c in network}
    scopes = [(Scope(), default_framework())]
    fresh = recompute(network, frameworks_of, scopes)

    tagged = text.TaggedTexts()
    first_half = network[: len(network) // 2]
    recompute(first_half, {c.id: frameworks_of[c.id] for c in first_half}, scopes,
              lemmatizer=text.Lemmatizer(tagged=tagged))
    sent_to_spacy: list[str] = []
    real_nlp = text._nlp()

    class CountingNlp:
        def pipe(self, texts, batch_size):
            texts = list(texts)
            sent_to_spacy.extend(texts)
            return real_nlp.pipe(texts, batch_size=batch_size)

    monkeypatch.setattr(text, "_nlp", CountingNlp)
    kept = recompute(network, frameworks_of, scopes, lemmatizer=text.Lemmatizer(tagged=tagged))

    assert kept.analyses[("network", "network")].synthesis == fresh.analyses[("network", "network")].synthesis
    assert kept.changes == fresh.changes
    assert sent_to_spacy, "the second half's texts are new to the worker"
    assert not set(sent_to_spacy) & {c.text for c in first_half}


def test_tagged_texts_keep_only_the_most_recent_ones():
    from services.synthesis.domain.text import TaggedTexts

    tagged = TaggedTexts(capacity=2, names_capacity=6)
    tagged.tag(["Les élus décident.", "Les agents forment."], 16)
    tagged.tag(["Les élus décident.", "Les habitants votent."], 16)
    assert len(tagged) == 2
    assert set(tagged._pairs) == {"Les élus décident.", "Les habitants votent."}
    assert tagged.tag(["Les habitants votent."], 16)[0][:2] == ("les", "le")
    assert len(tagged._names) <= 6, "the shared strings of texts let go are not kept for ever"


def test_a_refit_moves_an_axis_only_for_a_clear_gain():
    def found(axis, **scores):
        return Assignment(axis, max(scores.values()), scores)

    assert settled_axis("a", found("b", a=0.40, b=0.50), margin=0.25) == "a"  # a near tie: it stays
    assert settled_axis("a", found("b", a=0.10, b=0.80), margin=0.25) == "b"
    assert settled_axis(None, found("b", a=0.30, b=0.40), margin=0.25) == "b"  # never judged: placed
    # "non classé" as a classifier said, worth its threshold (0.35): left only for a clear gain over it
    assert settled_axis(None, found("b", a=0.30, b=0.55), margin=0.25, unclassified_worth=0.35) is None
    assert settled_axis(None, found("b", a=0.05, b=0.65), margin=0.25, unclassified_worth=0.35) == "b"
    assert settled_axis("a", found(None, a=0.20, b=0.25), margin=0.25) == "a"
    assert settled_axis("a", found(None, a=0.0, b=0.0), margin=0.25) is None  # no evidence left at all


def test_a_recompute_never_overrides_a_person_and_records_each_move(network):
    rows = [dataclasses.replace(c, axis="services-publics", axis_source=AxisSource.PERSON) if i % 5 == 0
            else dataclasses.replace(c, axis="travail", axis_source=AxisSource.CLASSIFIER) if c.axis is None else c
            for i, c in enumerate(network)]
    result = recompute(rows, {c.id: default_framework() for c in rows}, [(Scope(), default_framework())])
    placed = result.analyses[("network", "network")].placements
    person = [c for c in rows if c.axis_source == AxisSource.PERSON]
    assert person and all(placed[c.id].axis == "services-publics" for c in person)
    before = {c.id: c.axis for c in rows}
    assert result.changes  # the wrongly placed "travail" rows move, each move said
    for change in result.changes:
        assert change.previous_axis == before[change.contribution_id] == "travail"
        assert placed[change.contribution_id].axis == change.axis != "travail"
        assert change.framework == f"{default_framework().id}@{default_framework().version}"
    unmoved = {c.id for c in rows} - {change.contribution_id for change in result.changes}
    assert all(placed[i].axis == before[i] for i in unmoved)


def test_a_scope_shows_one_section_per_framework_most_used_first():
    from services.synthesis.views import framework_sections

    default, other = default_framework().model_dump(), OTHER.model_dump()
    rows = [{"framework_id": "autre-cadre", "framework_version": "1", "framework": other, "axis": "ecole", "n": 2},
            {"framework_id": "autre-cadre", "framework_version": "1", "framework": other, "axis": "non-classe", "n": 1},
            {"framework_id": default["id"], "framework_version": default["version"], "framework": default,
             "axis": "maitrise", "n": 4},
            {"framework_id": default["id"], "framework_version": default["version"], "framework": default,
             "axis": "non-classe", "n": 2}]
    first, second = framework_sections(rows)
    assert (first["framework"]["id"], first["contributions_count"]) == (default["id"], 6)
    assert [a["id"] for a in first["axes"]] == [*default_framework().axis_ids(), "non-classe"]
    assert {a["id"]: a["count"] for a in first["axes"]}["maitrise"] == 4 and first["unclassified_count"] == 2
    assert [a["id"] for a in second["axes"]] == ["ecole", "sante", "non-classe"]  # its own axes, nothing added
    assert [a["count"] for a in second["axes"]] == [2, 0, 1]


def test_consultation_and_framework_scopes_hold_only_their_contributions(network):
    rows = [dataclasses.replace(c, consultation=f"{c.territory}-ia", framework=default_framework().id)
            for c in network]
    rows += [dataclasses.replace(network[0], id="x-ecole", text="Plus d'enseignants à l'école.", axis="ecole",
                                 axis_source=AxisSource.SOURCE, consultation="quebec-ecole", framework="autre-cadre")]
    frameworks_of = {c.id: OTHER if c.framework == "autre-cadre" else default_framework() for c in rows}
    scopes = [(Scope(level="framework", id="autre-cadre"), OTHER),
              (Scope(level="consultation", id="rennes-ia"), default_framework()), (Scope(), default_framework())]
    result = recompute(rows, frameworks_of, scopes)
    by_framework = result.analyses[("framework", "autre-cadre")].synthesis
    assert by_framework.contributions_count == 1 and by_framework.framework.id == "autre-cadre"
    assert [a.id for a in by_framework.axes] == ["ecole", "sante"]
    consultation = result.analyses[("consultation", "rennes-ia")].synthesis
    assert consultation.contributions_count == sum(c.territory == "rennes" for c in network)
    assert result.analyses[("network", "network")].synthesis.framework.id == default_framework().id


def test_a_territory_takes_its_share_of_the_network_clusters_quoted_from_its_own_contributions(network):
    """Sub-themes and proposal clusters are found once over the corpus: each territory shows those its own
    contributions fall in, so the territories' counts add up to the network's, and every quote, heading and
    listed contribution of a territory is one of its own."""
    frameworks_of = {c.id: default_framework() for c in network}
    territories = sorted({c.territory for c in network})
    scopes = [(Scope(), default_framework())] + [(Scope(level="territory", id=t), default_framework())
                                                 for t in territories]
    result = recompute(network, frameworks_of, scopes)
    territory_of = {c.id: c.territory for c in network}
    whole = result.analyses[("network", "network")].synthesis
    parts = [result.analyses[("territory", t)].synthesis for t in territories]
    for axis in whole.axes:
        network_counts = {s.label: s.count for s in axis.subthemes}
        summed: dict[str, int] = {}
        for part in parts:
            for s in next(a for a in part.axes if a.id == axis.id).subthemes:
                summed[s.label] = summed.get(s.label, 0) + s.count
        assert summed == network_counts
    assert whole.proposals and sum(p.contributions_count for part in parts for p in part.proposals) == sum(
        p.contributions_count for p in whole.proposals)
    for territory, part in zip(territories, parts):
        quotes = [q for a in part.axes for s in a.subthemes for q in s.quotes]
        quotes += [q for p in part.proposals for q in [p.representative, *p.quotes]]
        assert quotes and {territory_of[q.contribution_id] for q in quotes} == {territory}
        assert {territory_of[i] for p in part.proposals for i in p.contribution_ids} <= {territory}
        assert all(p.territories == [territory] and p.support_weighted <= p.contributions_count
                   for p in part.proposals)
