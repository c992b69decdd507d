"""The default, offline answer generator: it composes the answer from the passages' own sentences.

It can never state what the sources do not say. Sentences are scored by semantic similarity to the
question (vectors precomputed at index time) plus lexical overlap, boosted by what the question
asks for, and the answer is laid out for that kind of question:

- a list ("which X ...", "what are the X ..."): the Markdown list under the best-matching heading,
  item by item, with one citation;
- a figure ("how much", "how long", "what percent"): the sentence holding the asked figure first;
  "the sources give different figures" only when documents give different figures of the same
  kind for the same subject;
- a decision ("should I ...", with the user's years, likes, background): each stated fact set
  against the source sentences that speak to it, each cited; no conclusion of its own;
- a comparison: both subjects covered;
- otherwise: the best sentences, picked with maximal marginal relevance, in passage order.

Nothing here knows a particular corpus: subjects (roles, careers, ...) come from a `subjects`
function, and the words that ask for a kind of figure ("earn") from a `measure` function, both
derived from the corpus profile; figures are recognised by generic patterns (`advisor.quantities`).
Every line holding a `[n]` is a verbatim sentence of passage n.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from advisor.answer.compose.decisions import (
    FAQ_SIMILARITY,
    conditional_list,
    follow_up,
    in_asked_range,
    overlap,
    stems,
    user_terms,
    verdict_bonus,
)
from advisor.answer.compose.levels import LEVEL, names_asked_level
from advisor.answer.compose.lists import ListBlock, item_labels, list_blocks
from advisor.answer.intent import (
    COMPARATIVE,
    Intent,
    Measure,
    Subjects,
    asking_clause,
    asks_yes_or_no,
    aspect_of,
    content_terms,
    detect_intent,
    names_a,
    no_measure,
    no_subjects,
    question_numbers,
    stated_sentences,
    states_per,
    statistics_in,
)
from advisor.profile import same_subject, subject_words
from advisor.quantities import figure_kind
from advisor.schema import Passage, Turn
from advisor.screen import ASKABLE, sentence_reason
from advisor.text import NUMBER, attach_marker

_DECISION_CUES = re.compile(
    r"\b(if\s+you|you\s+should|stay|choose|pursue|consider|signs?|ready|typically\s+after|early\s+in|"
    r"love|enjoy|prefer|depends|first|start|before|right\s+(?:path|fit|choice))\b",
    re.I,
)
_YES_OR_NO = re.compile(r"^(?:yes|no)\b", re.I)  # a sentence that answers yes or no, then gives its reason
FIT = 0.06  # score added (or taken) when a passage's section names the asked subject (or only others); dev
NAMED = 0.1  # a figure's sentence (or its passage's heading) names the place or employer asked ("in Peru"); dev
FAQ_ANSWER = 0.1  # the first answer to a FAQ question worded like the asked yes/no question; dev
LISTED = 0.1  # a sentence lists what a "which X" question asks for ("These tools …: A, B, C, D"); dev
PER = 0.1  # a figure per the asked time ("$29.60 an hour" for the hourly rate); dev
CONTRAST = 0.1  # a sentence states a difference in figures when the question asks how much more or less; dev
ASPECT = 0.3  # times a comparison sentence's similarity to what is compared (`aspect_of`); dev: 1 gained, none lost


@dataclass(frozen=True, eq=False)  # compared by identity: a field is a numpy array
class _Candidate:
    text: str
    vector: np.ndarray
    passage: Passage
    order: int  # position of the sentence inside its passage
    score: float
    kind: str | None  # the kind of figure the sentence holds
    fit: float = 0.0  # the part of `score` that comes from the passage's section naming the subject
    answers: str | None = None  # the FAQ question this sentence is the first answer to, if it is
    answers_sim: float | None = None  # that question's similarity to the asked one (None: a heading, not embedded)
    set_aside: str | None = None  # why the sentence is not career information (`advisor.screen`)


def lists_in_line(text: str, nouns: Sequence[str]) -> bool:
    """A sentence introduces, before a colon, a list of at least three items of what is asked (pure)."""
    head, colon, items = text.partition(":")
    return bool(colon) and items.count(",") >= 2 and any(n[:6] in content_terms(head) for n in nouns)


def _bare_figure(text: str, p: Passage, kind: str) -> bool:
    """A line that is only a figure of the asked kind opening its passage ("3-6 months" under "1. Build the
    Foundations"): what the heading's step takes, quoted as the answer to "how long is that step?" (pure)."""
    return p.chunk.text.lstrip().startswith(text.strip()) and figure_kind(text) in (kind, "any" if kind else None)


def _states_difference(text: str) -> bool:
    """A sentence gives a figure of a difference ("pays 20% more", "a $5K higher ceiling") (pure)."""
    return bool(COMPARATIVE.search(text) and NUMBER.search(text))


def _has(found: Sequence[str], subject: str) -> bool:
    return any(same_subject(f, subject) for f in found)


def subject_fit(asked: Sequence[str], named: Sequence[str], levelled: bool = False) -> float:
    """+1 when a passage's section names a subject asked about (or a kind of it), -1 when it names only others.
    When another passage's section names the asked subject itself (`levelled`: "Head Pastry Chef" for a head
    pastry chef), a section naming only a more general form of it ("Pastry Chef") is another level's: 0 (pure)."""
    if not asked or not named:
        return 0.0
    if any(subject_words(s) <= subject_words(n) for s in asked for n in named):
        return 1.0
    if any(_has(named, s) for s in asked):
        return 0.0 if levelled else 1.0
    return -1.0


UNIT_SAYS_WHAT = frozenset({"currency"})  # figure kinds whose unit says what is measured (money)


def figures_conflict(
    figures: Sequence[tuple[str, str, frozenset[str], frozenset[str], frozenset[str]]],
) -> list[str]:
    """Sources that give different figures of the same kind for the same subject (pure).

    Each entry is (source, kind, subjects, numbers, terms) of one strong figure-bearing sentence, `terms`
    its content words other than subject names. Figures conflict only when two sources state figures of
    one kind (pay, share, duration) about the same single subject and the numbers differ; a share or a
    duration must also share a word saying what is measured (money is money, whatever a source calls it):
    three subjects' pay is not a disagreement, nor is a share of job listings against a share of working
    time.
    """
    groups: dict[tuple[str, str], dict[str, tuple[frozenset[str], frozenset[str]]]] = {}
    for source, kind, subjects, numbers, terms in figures:
        if len(subjects) != 1:
            continue
        key = (kind, next(iter(subjects)).lower())
        groups.setdefault(key, {}).setdefault(source, (numbers, terms))
    for key, per_source in groups.items():
        rows = list(per_source.items())
        found = {
            name
            for i, (a, (numbers_a, terms_a)) in enumerate(rows)
            for b, (numbers_b, terms_b) in rows[i + 1 :]
            if numbers_a != numbers_b and (key[0] in UNIT_SAYS_WHAT or terms_a & terms_b)
            for name in (a, b)
        }
        if found:
            return [name for name in per_source if name in found]
    return []


def asked_about(candidates: list[_Candidate], question: str = "") -> list[_Candidate]:
    """The candidates without set-aside sentences, unless the question is about them: a bio or a
    seller's statement ("It's a four-figure investment") that matches it better than any other
    sentence stays, and so does the seller's first answer to a FAQ question worded like the asked one
    ("Can I do this while working full-time?" -> "Yes, most attendees do."): the person asked the seller
    that question. Calls to action, instructions and promises inform nothing and never stay."""
    best = max((c.score for c in candidates if not c.set_aside), default=float("-inf"))
    faq = max((c.answers_sim for c in candidates if c.answers_sim is not None), default=1.0)
    return [
        c
        for c in candidates
        if not c.set_aside
        or (c.set_aside in ASKABLE and (c.score >= best or (bool(question) and _answers_alike(c, question, faq))))
    ]


def _names_asked(text: str, intent: Intent) -> bool:
    """The sentence itself names the place or employer asked: its figure, of whatever kind, is the one for
    it ("Leeds potters earn 10 to 20 percent above these figures" for pay in Leeds)."""
    return any(names_a(text, n) for n in intent.names)


def _answers_alike(c: _Candidate, question: str, best: float) -> bool:
    """`c` is the first answer to the FAQ question most like the person's (`best` is that one's
    similarity, at least `FAQ_SIMILARITY`), or to a heading question (not embedded) sharing two word
    stems with it."""
    if c.answers is None:
        return False
    if c.answers_sim is not None:
        return c.answers_sim >= max(FAQ_SIMILARITY, best - 0.02)
    return len(stems(c.answers) & stems(question)) >= 2


def _continues(c: _Candidate, first: _Candidate) -> bool:
    """`c` is the sentence after `first` in its passage: a "Yes, …" goes on with its reason."""
    return c.passage is first.passage and c.order == first.order + 1


def _faq_answers_first(candidates: list[_Candidate], question: str) -> list[_Candidate]:
    """For a yes/no question, the first answer to the FAQ question most like it gains `FAQ_ANSWER`: it is
    the documents' own yes or no ("Yes, most potters rent kiln space.")."""
    best = max((c.answers_sim for c in candidates if c.answers_sim is not None), default=1.0)
    return [
        replace(c, score=c.score + FAQ_ANSWER) if c.answers_sim is not None and _answers_alike(c, question, best) else c
        for c in candidates
    ]


def _faq_answer(candidates: list[_Candidate], question: str) -> list[_Candidate]:
    """For a yes/no question, the first answer to the FAQ question most like it (at least `FAQ_SIMILARITY`),
    if there is one: the documents' own answer to the question asked leads, whatever else scores higher
    ("Can I transition into this role from DevOps?" -> "Your expertise in infrastructure … is highly valuable")."""
    best = max((c.answers_sim for c in candidates if c.answers_sim is not None), default=1.0)
    alike = [c for c in candidates if c.answers_sim is not None and _answers_alike(c, question, best)]
    return sorted(alike, key=lambda c: -(c.answers_sim or 0.0))[:1]


class ExtractiveGenerator:
    """Answers by selecting and citing sentences of the retrieved passages."""

    name = "extractive"

    def __init__(
        self,
        sentences: Callable[[str], tuple[list[str], np.ndarray]],
        max_sentences: int = 5,
        subjects: Subjects = no_subjects,
        measure: Measure = no_measure,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        self.sentences = sentences
        self.embed = embed
        self.max_sentences = max_sentences
        self.subjects = subjects
        self.measure = measure

    def close(self) -> None:
        """Nothing to release: the extractive generator holds no model."""

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str]:
        """Yield the answer in pieces (a lead line, then one cited sentence or bullet at a time)."""
        intent = detect_intent(question, self.subjects, self.measure)
        candidates = self._candidates(question, passages, query_vector, intent)
        if not candidates:
            return
        if intent.comparison and not intent.decision:
            candidates = self._on_aspect(candidates, question, intent)
        if intent.listing:
            block = self._best_list(question, passages, candidates, query_vector, intent)
            if block is not None:
                yield from block
                return
        if intent.decision and not intent.figure:
            yield from self._decision(question, passages, candidates, intent, bool(stated_sentences(question, history)))
            return
        faq: list[_Candidate] = []
        if not intent.figure and asks_yes_or_no(question):
            candidates = _faq_answers_first(candidates, question)
            faq = _faq_answer(candidates, question)
        conflict = self._conflict(candidates, intent) if intent.figure else []
        # a figure the sentence itself gives for the asked place ("Leeds potters earn 10 to 20 percent above
        # these figures") is quoted second, after the best figure, whatever its kind
        here = [c for c in candidates if intent.figure and c.kind and _names_asked(c.text, intent)]
        here = sorted(here, key=lambda c: -c.score)[:1]
        limit = self.max_sentences + (1 if intent.comparison or conflict else 0)
        chosen = self._select(candidates, limit, intent, [*conflict, *(c for c in here if c not in conflict)])
        chosen.sort(key=lambda c: (c.passage.rank, c.order))
        firsts = faq or self._firsts(chosen, intent)
        firsts += [c for c in here if c not in firsts and not faq][: max(0, 2 - len(firsts))]
        if firsts and _YES_OR_NO.match(firsts[0].text):
            firsts += [c for c in candidates if _continues(c, firsts[0]) and c not in firsts][:1]
        chosen = firsts + [c for c in chosen if c not in firsts]
        lead = _lead(intent, False)
        if lead:
            yield lead + "\n\n"
        yield from lay_out([attach_marker(c.text, c.passage.rank) for c in chosen], bool(conflict))

    def _firsts(self, chosen: list[_Candidate], intent: Intent) -> list[_Candidate]:
        """The answer first: the best sentence (of the asked kind of figure, if one was asked); for a
        comparison that is not a personal decision, the best about each side (one naming both serves both),
        by score."""
        of_kind = [c for c in chosen if c.kind == intent.figure or (c.kind and _names_asked(c.text, intent))] or [
            c for c in chosen if c.kind
        ]
        pool = sorted(of_kind if intent.figure else chosen, key=lambda c: -c.score)
        firsts: list[_Candidate] = []
        if intent.comparison and not intent.decision:
            for side in intent.subjects[:2]:
                if any(_has(self.subjects(c.text), side) for c in firsts):
                    continue
                firsts += [c for c in pool if _has(self.subjects(c.text), side)][:1]
        return sorted(firsts, key=lambda c: -c.score) or pool[:1] or sorted(chosen, key=lambda c: -c.score)[:1]

    # -- candidates -----------------------------------------------------------------------------------------
    def _candidates(self, question: str, passages: list[Passage], qv: np.ndarray, intent: Intent) -> list[_Candidate]:
        qterms = content_terms(question)
        out: list[_Candidate] = []
        ranged = bool(question_numbers(asking_clause(question)))  # a number of the story is not the case asked
        levelled = any(
            subject_words(s) <= subject_words(n)
            for p in passages
            for n in self.subjects(p.chunk.section or "")
            for s in intent.subjects
        )
        named = [p for p in passages if any(names_a(p.chunk.text, n) for n in intent.names)]
        for p in passages:
            if named and p.chunk.set_aside and p not in named:
                continue  # another seller's copy says nothing of the course, firm or place asked about
            texts, vectors = self.sentences(p.chunk.id)
            heading_text = f"{p.chunk.title} {p.chunk.section or ''}"
            context = content_terms(heading_text)
            fit = FIT * subject_fit(intent.subjects, self.subjects(p.chunk.section or ""), levelled)
            heading = (p.chunk.section or "").split(" > ")[-1]
            asked: tuple[str, float | None] | None = (heading, None) if heading.endswith("?") else None
            labels = item_labels(p.chunk.text, p.chunk.section)
            for order, (text, vec) in enumerate(zip(texts, vectors, strict=True)):
                words = text.split()
                if text.rstrip().endswith("?"):
                    asked = (text, float(vec @ qv))  # a FAQ question inside the passage: the next sentence answers it
                    continue
                if text.rstrip().endswith(":"):
                    continue  # a list's introduction says nothing without its list
                answers, asked = asked, None
                if len(words) < 4 and not (intent.figure and not answers and _bare_figure(text, p, intent.figure)):
                    asked = answers if len(words) < 3 else None  # "Yes." / "No." still opens the answer
                    continue
                sim = float(vec @ qv)
                if answers and answers[1] is not None:
                    sim = max(sim, answers[1])  # the first answer to a FAQ question is as relevant as the question
                own = content_terms(text)
                near = context | content_terms(next((lab for item, lab in labels.items() if text in item), ""))
                lex = (len(qterms & own) + 0.5 * len(qterms & (near - own))) / len(qterms) if qterms else 0.0
                score = 0.65 * sim + 0.35 * lex + 0.05 / p.rank + fit
                kind = figure_kind(text) or ("count" if intent.figure == "any" and NUMBER.search(text) else None)
                if intent.figure and kind and (intent.figure in (kind, "any") or _names_asked(text, intent)):
                    score += 0.2
                    if intent.numbers and (intent.numbers & question_numbers(text) or in_asked_range(text, intent)):
                        score += 0.1  # the figure for the asked case ("3-5 years", "12+ years")
                    if any(re.search(rf"\b{n}\s?\+", text) for n in intent.at_least):
                        score += 0.1  # "over 12 years" is the "12+" row, not the "8-12" one
                    if intent.statistics & statistics_in(text):
                        score += 0.1  # "the median pay" is the median row, not the average or the range
                    if intent.per and states_per(text, intent.per):
                        score += PER  # "the hourly rate" is the figure "an hour", not the one "a year"
                elif not intent.decision and ranged and in_asked_range(text, intent):
                    score += 0.1  # "what does X make four years in?": the "3-5 Years" row, whatever the figure
                if intent.decision and _DECISION_CUES.search(text):
                    score += 0.12
                if intent.figure and intent.names and any(names_a(f"{text} {heading_text}", n) for n in intent.names):
                    score += NAMED
                if intent.listing and lists_in_line(text, intent.listing):
                    score += LISTED
                if intent.contrast and (intent.figure or intent.comparison) and _states_difference(text):
                    score += CONTRAST
                if len(words) > 60:
                    score -= 0.1  # long sentences read badly in a short answer
                aside = p.chunk.set_aside or sentence_reason(text)
                out.append(_Candidate(text, vec, p, order, score, kind, fit, *(answers or (None, None)), aside))
        if intent.figure and len(intent.subjects) == 1:
            out = self._asked_level(out, intent)
        return asked_about(out, question)

    def _asked_level(self, candidates: list[_Candidate], intent: Intent) -> list[_Candidate]:
        """Figure sentences naming the asked level itself gain `LEVEL` when others name another level of it."""
        named = [self.subjects(c.text) for c in candidates]
        elsewhere = [s for ns in named for s in ns]
        return [
            replace(c, score=c.score + LEVEL)
            if c.kind and intent.figure in (c.kind, "any") and names_asked_level(ns, intent.subjects[0], elsewhere)
            else c
            for c, ns in zip(candidates, named, strict=True)
        ]

    def _on_aspect(self, candidates: list[_Candidate], question: str, intent: Intent) -> list[_Candidate]:
        """A comparison's sentences gain `ASPECT` times their similarity to what is compared (`aspect_of`):
        a sentence naming both subjects matches the question's names whatever it says of them."""
        aspect = aspect_of(question, intent.subjects)
        if self.embed is None or not content_terms(aspect) or len(intent.subjects) < 2:
            return candidates
        av = self.embed([aspect])[0]
        return [replace(c, score=c.score + ASPECT * float(c.vector @ av)) for c in candidates]

    def _subjects_of(self, c: _Candidate) -> frozenset[str]:
        """The subjects a sentence speaks about: its own mentions, else its section's."""
        found = self.subjects(c.text) or self.subjects(c.passage.chunk.section or "")
        return frozenset(s.lower() for s in found)

    # -- layouts ----------------------------------------------------------------------------------------------
    def _best_list(
        self, question: str, passages: list[Passage], candidates: list[_Candidate], qv: np.ndarray, intent: Intent
    ) -> Iterator[str] | None:
        """The list answering a "which X" question, when one matches as well as the best sentence."""
        qterms = content_terms(question)
        if not qterms:
            return None
        best = max(c.score for c in candidates)
        choice: tuple[float, Passage, ListBlock] | None = None
        for p in passages:
            texts, vectors = self.sentences(p.chunk.id)
            sims = dict(zip(texts, (vectors @ qv).tolist(), strict=True)) if len(texts) else {}
            if subject_fit(intent.subjects, self.subjects(p.chunk.section or "")) < 0:
                continue  # a list about another subject
            for block in list_blocks(p.chunk.text, p.chunk.section):
                heading = content_terms(f"{block.label} {p.chunk.section or ''}")
                body = heading | {t for it in block.all_items for t in content_terms(it)}
                if not any(n[:6] in body for n in intent.listing):
                    continue  # the list is not about what was asked
                overlap = len(qterms & heading) / len(qterms)
                items = max(sims.get(it, 0.0) for it in block.all_items)
                score = 0.6 * overlap + 0.4 * items + 0.05 / p.rank
                if overlap > 0 and (choice is None or score > choice[0]):
                    choice = (score, p, block)
        if choice is None or choice[0] < 0.5 * best:
            return None
        _, passage, block = choice

        def pieces() -> Iterator[str]:
            if block.label in passage.chunk.text:
                yield f"{block.label} [{passage.rank}]:\n\n"
            elif block.label and not re.search(r"\d", block.label):
                yield f"Under “{block.label}” [{passage.rank}]:\n\n"
            else:
                yield f"From the source [{passage.rank}]:\n\n"
            for item in block.items[:12]:
                yield f"- {item}\n"
            for label, items in block.more:
                yield f"\n{label}:\n\n"
                for item in items[:12]:
                    yield f"- {item}\n"

        return pieces()

    def _decision(
        self, question: str, passages: list[Passage], candidates: list[_Candidate], intent: Intent, told: bool
    ) -> Iterator[str]:
        """Verdict first: the one or two source sentences (or a "Choose X if you enjoy:" list) whose
        condition matches what the person said, then the criteria they did not address, then one
        question for the facts that would change it. The framing speaks of what they told only when
        they stated something about themselves (`told`), not for a bare "Should I learn A or B first?"."""
        user = user_terms(question, self.subjects(asking_clause(question)))  # "I'm a line cook" stays
        listed = conditional_list(passages, user)
        pool = sorted(candidates, key=lambda c: -c.score)
        floor = pool[0].score - 0.35
        faq = max((c.answers_sim for c in pool if c.answers_sim is not None), default=1.0)
        ranked = sorted(
            ((c.score + verdict_bonus(c.text, user, intent, _answers_alike(c, question, faq)), c) for c in pool),
            key=lambda t: -t[0],
        )
        verdict: list[_Candidate] = []
        for _, c in ranked:
            if len(verdict) + (listed is not None) == 2:
                break
            if (
                c.score >= floor
                and not c.text.endswith(":")
                and all(float(c.vector @ v.vector) < 0.92 for v in verdict)
            ):
                verdict.append(c)
        rest = [c for c in self._select(pool, self.max_sentences + len(verdict), intent, []) if c not in verdict]
        rest = rest[: max(1, self.max_sentences - len(verdict))]
        if told:  # what speaks to something the person said is no criterion they did not mention
            said = user - _COMPARING
            verdict += [c for c in rest if overlap(stems(c.text), said)]
            rest = [c for c in rest if c not in verdict]
        yield "For what you told me, these passages decide it:\n" if told else "What decides it, in the sources:\n"
        if listed is not None:
            passage, block = listed
            yield f"- Under “{block.label}” [{passage.rank}]:\n"
            for item in block.items[:12]:
                yield f"  - {item}\n"
        for c in verdict:
            yield f"- {attach_marker(c.text, c.passage.rank)}\n"
        if rest:
            yield "\nWhat else they weigh, which you did not mention:\n" if told else "\nWhat else they weigh:\n"
            for c in sorted(rest, key=lambda c: (c.passage.rank, c.order)):
                yield f"- {attach_marker(c.text, c.passage.rank)}\n"
        ask = follow_up(question, [c.text for c in (*verdict, *rest)])
        if ask:
            yield f"\n{ask}\n"

    # -- selection --------------------------------------------------------------------------------------------
    def _conflict(self, candidates: list[_Candidate], intent: Intent) -> list[_Candidate]:
        """One strong sentence per source when sources give different figures for the same subject."""
        best = max(c.score - c.fit for c in candidates)
        strong = [c for c in candidates if c.kind not in (None, "count") and c.score - c.fit >= best - 0.25]
        if intent.figure not in (None, "any"):
            strong = [c for c in strong if c.kind == intent.figure]
        facts = []
        for c in strong:
            subj = self._subjects_of(c)
            if len(intent.subjects) == 1:  # a figure about the one subject asked, whatever else it names
                if not any(same_subject(s, intent.subjects[0]) for s in subj):
                    continue
                subj = frozenset({intent.subjects[0].lower()})
            named = {w for name in (*self._subjects_of(c), *intent.subjects) for w in content_terms(name)}
            terms = frozenset(content_terms(c.text) - named)
            facts.append((c.passage.chunk.source, c.kind or "", subj, question_numbers(c.text), terms))
        sources = figures_conflict(facts)
        picked: list[_Candidate] = []
        for source in sources[:3]:
            picked.append(max((c for c in strong if c.passage.chunk.source == source), key=lambda c: c.score))
        return picked

    def _select(
        self, candidates: list[_Candidate], limit: int, intent: Intent, conflict: list[_Candidate]
    ) -> list[_Candidate]:
        """MMR over candidates, with the intent's coverage requirements seeded first."""
        pool = sorted(candidates, key=lambda c: -c.score)
        chosen: list[_Candidate] = list(conflict)
        if intent.comparison and len(intent.subjects) >= 2:
            for subject in intent.subjects[:2]:
                if not any(_has(self.subjects(c.text), subject) for c in chosen):
                    hit = next((c for c in pool if _has(self.subjects(c.text), subject) and c not in chosen), None)
                    if hit is not None and hit.score >= pool[0].score - 0.3:
                        chosen.append(hit)
        if not chosen:
            chosen.append(pool[0])
        # two sentences at least: the floor lets in the best one that does not repeat the first
        second = next((c for c in pool[1:] if float(c.vector @ pool[0].vector) <= 0.92), None)
        floor = min(pool[0].score - 0.25, second.score if second is not None else 0.0)
        while len(chosen) < limit:
            best, best_val = None, -1e9
            for c in pool:
                if c in chosen or c.score < floor:
                    continue
                redundancy = max(float(c.vector @ x.vector) for x in chosen)
                if redundancy > 0.92:
                    continue
                val = 0.7 * c.score - 0.3 * redundancy
                if val > best_val:
                    best, best_val = c, val
            if best is None:
                break
            chosen.append(best)
        return chosen


_COMPARING = stems("compare compared comparing comparison versus differ difference different")
CONFLICT = "The sources give different figures, so each is shown with its own source:"
CONFLICT_AFTER = "The sources give different figures: each is shown with its own source."


def lay_out(lines: Sequence[str], conflict: bool) -> Iterator[str]:
    """The cited lines in reading order (pure): three or more as bullets, the note on different figures after
    the first (the answer first, then each source's figure under the note); one or two as one paragraph, the
    note after it, so it never stands alone between two sentences."""
    if len(lines) >= 3:
        for i, line in enumerate(lines):
            yield f"- {line}\n"
            if i == 0 and conflict:
                yield "\n" + CONFLICT + "\n\n"
        return
    yield " ".join(lines)
    if conflict and len(lines) > 1:
        yield "\n\n" + CONFLICT_AFTER


def _lead(intent: Intent, conflict: bool) -> str | None:
    """A framing line that states no fact of its own."""
    if conflict:
        return CONFLICT
    if intent.decision:
        return "Here is what the sources say that bears on your decision:"
    if intent.comparison and len(intent.subjects) >= 2:
        return f"How the sources compare {', '.join(intent.subjects[:-1])} and {intent.subjects[-1]}:"
    if intent.comparison:
        return "How the sources compare them:"
    return None
