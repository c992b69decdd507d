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

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import numpy as np

from advisor.answer.compose.candidates import (
    Candidate,
    answers_alike,
    asked_about,
    bare_figure,
    continues,
    faq_answer,
    faq_answers_first,
    figures_conflict,
    has_subject,
    lists_in_line,
    names_asked,
    share_of_pay,
    states_difference,
    states_unit,
    subject_fit,
)
from advisor.answer.compose.decisions import (
    VERDICT_PRIORITY,
    conditional_list,
    follow_up,
    in_asked_range,
    overlap,
    priority,
    speaks_to,
    stems,
    unmet,
    user_terms,
    verdict_bonus,
)
from advisor.answer.compose.layout import framing, lay_out
from advisor.answer.compose.levels import LEVEL, heading_weight, names_asked_level
from advisor.answer.compose.lists import ListBlock, item_labels, list_blocks, titled_pairs
from advisor.answer.intent import (
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
    speaks_of_money,
    stated_sentences,
    states_per,
    statistics_in,
)
from advisor.profile import same_subject, subject_words
from advisor.quantities import FIGURE_KINDS, figure_kind
from advisor.schema import Passage, Turn
from advisor.screen import sentence_reason
from advisor.text import NUMBER, NUMBER_WORDS, attach_marker

_DECISION_CUES = re.compile(
    r"\b(if\s+you|you\s+should|stay|choose|pursue|consider|signs?|ready|typically\s+after|early\s+in|"
    r"love|enjoy|prefer|depends|first|start|before|right\s+(?:path|fit|choice))\b",
    re.I,
)
# a count written in words ("three or four case studies"), not a share of a group ("one of the ...", "two of the
# most searched paths" count nothing asked)
_SPELLED_COUNT = re.compile(
    rf"\b(?:{'|'.join(w for w, n in NUMBER_WORDS.items() if n >= 2)}|dozens?)\b(?!\s+of\b)", re.I
)
_YES_OR_NO = re.compile(r"^(?:yes|no)\b", re.I)  # a sentence that answers yes or no, then gives its reason
FIT = 0.06  # score added (or taken) when a passage's section names the asked subject (or only others); dev
NAMED = 0.1  # a figure's sentence (or its passage's heading) names the place or employer asked ("in Peru"); dev
LISTED = 0.1  # a sentence lists what a "which X" question asks for ("These tools …: A, B, C, D"); dev
PER = 0.1  # a figure per the asked time ("$29.60 an hour" for the hourly rate); dev
CONTRAST = 0.1  # a sentence states a difference in figures when the question asks how much more or less; dev
ASPECT = 0.3  # times a sentence's similarity to what a two-subject question asks (`aspect_of`); dev (0.5: +1, -1)
ASPECT_TERMS = 0.1  # times the share of the aspect's word stems the sentence uses


LIST_LABEL = 0.5  # cosine of a list's label to an asked plural noun that makes the list about it ("abilities"); dev
# an asking clause pointing back to the person's own numbers ("at my experience level", "with my years")
_MY_CASE = re.compile(r"\b(?:my|our)\s+(?:experience|level|years|seniority|stage)\b|\bsomeone\s+like\s+me\b", re.I)


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
        if not intent.decision:  # two subjects compared, or a path from one to the other
            candidates = self._on_aspect(candidates, question, intent)
        if intent.listing:
            block = self._best_list(question, passages, candidates, query_vector, intent)
            if block is not None:
                yield from block
                return
        if intent.decision and not intent.figure:
            yield from self._decision(question, passages, candidates, intent, bool(stated_sentences(question, history)))
            return
        faq: list[Candidate] = []
        if not intent.figure and asks_yes_or_no(question):
            candidates = faq_answers_first(candidates, question)
            faq = faq_answer(candidates, question)
        conflict = self._conflict(candidates, intent) if intent.figure else []
        # a figure the sentence itself gives for the asked place ("Leeds potters earn 10 to 20 percent above
        # these figures") is quoted second, after the best figure, whatever its kind
        here = [c for c in candidates if intent.figure and c.kind and names_asked(c.text, intent)]
        here = sorted(here, key=lambda c: -c.score)[:1]
        limit = self.max_sentences + (1 if intent.comparison or conflict else 0)
        chosen = self._select(candidates, limit, intent, [*conflict, *(c for c in here if c not in conflict)])
        chosen.sort(key=lambda c: (c.passage.rank, c.order))
        firsts = faq or self._firsts(chosen, intent)
        firsts += [c for c in here if c not in firsts and not faq][: max(0, 2 - len(firsts))]
        if firsts and _YES_OR_NO.match(firsts[0].text):
            firsts += [c for c in candidates if continues(c, firsts[0]) and c not in firsts][:1]
        chosen = firsts + [c for c in chosen if c not in firsts]
        lead = framing(intent)
        if lead:
            yield lead + "\n\n"
        yield from lay_out([attach_marker(c.text, c.passage.rank) for c in chosen], bool(conflict))

    def _firsts(self, chosen: list[Candidate], intent: Intent) -> list[Candidate]:
        """The answer first: the best sentence (of the asked kind of figure, if one was asked); for a
        comparison that is not a personal decision, then the best about each side it does not name (one
        naming both serves both), by score."""
        of_kind = [c for c in chosen if c.kind == intent.figure or (c.kind and names_asked(c.text, intent))] or [
            c for c in chosen if c.kind
        ]
        pool = sorted(of_kind if intent.figure else chosen, key=lambda c: -c.score)
        firsts: list[Candidate] = []
        if intent.comparison and not intent.decision:
            firsts = pool[:1]  # the best sentence first, then the best about a side it does not name
            for side in intent.subjects[:2]:
                if any(has_subject(self.subjects(c.text), side) for c in firsts):
                    continue
                firsts += [c for c in pool if has_subject(self.subjects(c.text), side)][:1]
        return sorted(firsts, key=lambda c: -c.score) or pool[:1] or sorted(chosen, key=lambda c: -c.score)[:1]

    # -- candidates -----------------------------------------------------------------------------------------
    def _candidates(self, question: str, passages: list[Passage], qv: np.ndarray, intent: Intent) -> list[Candidate]:
        qterms = content_terms(question)
        out: list[Candidate] = []
        # a number of the story is not the case asked, unless the asking clause points back to it ("at my level")
        clause = asking_clause(question)
        ranged = bool(question_numbers(clause) or (question_numbers(question) and _MY_CASE.search(clause)))
        levelled = any(
            subject_words(s) <= subject_words(n)
            for p in passages
            for n in self.subjects(p.chunk.section or "")
            for s in intent.subjects
        )
        named = {p.chunk.source for p in passages if any(names_a(p.chunk.text, n) for n in intent.names)}
        for p in passages:
            if named and p.chunk.set_aside and p.chunk.source not in named:
                continue  # another seller's copy says nothing of the course, firm or place asked about
            texts, vectors = self.sentences(p.chunk.id)
            heading_text = f"{p.chunk.title} {p.chunk.section or ''}"
            context = content_terms(heading_text)
            fit = FIT * subject_fit(intent.subjects, self.subjects(p.chunk.section or ""), levelled)
            heading = (p.chunk.section or "").split(" > ")[-1]
            asked: tuple[str, float | None] | None = (heading, None) if heading.endswith("?") else None
            labels = item_labels(p.chunk.text, p.chunk.section)
            titled = titled_pairs(p.chunk.text)
            for order, (text, vec) in enumerate(zip(texts, vectors, strict=True)):
                words = text.split()
                if text.rstrip().endswith("?"):
                    asked = (text, float(vec @ qv))  # a FAQ question inside the passage: the next sentence answers it
                    continue
                if text.rstrip().endswith(":"):
                    continue  # a list's introduction says nothing without its list
                answers, asked = asked, None
                if len(words) < 4 and not (intent.figure and not answers and bare_figure(text, p, intent.figure)):
                    asked = answers if len(words) < 3 else None  # "Yes." / "No." still opens the answer
                    continue
                title = next((t for line, t in titled.items() if line.startswith(text)), "")
                if title:  # "Certifies skills in …" says what, and whose, only under its title
                    text = f"{title} — {text}"
                sim = float(vec @ qv)
                if answers and answers[1] is not None:
                    sim = max(sim, answers[1])  # the first answer to a FAQ question is as relevant as the question
                own = content_terms(text)
                near = context | content_terms(next((lab for item, lab in labels.items() if text in item), ""))
                lex = (len(qterms & own) + 0.5 * len(qterms & (near - own))) / len(qterms) if qterms else 0.0
                score = 0.65 * sim + 0.35 * lex + 0.05 / p.rank + fit + heading_weight(p.heading_asked)
                # a sentence holding figures of several kinds is of the asked kind when it holds one ("40 to 50
                # percent, and candidates study around 300 hours" for "how many hours?")
                asked_here = intent.figure in FIGURE_KINDS and FIGURE_KINDS[intent.figure].search(text)
                kind = (intent.figure if asked_here else figure_kind(text)) or (
                    "count" if intent.figure == "any" and (NUMBER.search(text) or _SPELLED_COUNT.search(text)) else None
                )
                asked_kind = intent.figure in (kind, "any") or share_of_pay(text, kind, intent.figure)
                if intent.figure and kind and (asked_kind or names_asked(text, intent)):
                    score += 0.2
                    if intent.numbers and (intent.numbers & question_numbers(text) or in_asked_range(text, intent)):
                        score += 0.1  # the figure for the asked case ("3-5 years", "12+ years")
                    if any(re.search(rf"\b{n}\s?\+", text) for n in intent.at_least):
                        score += 0.1  # "over 12 years" is the "12+" row, not the "8-12" one
                    if intent.statistics & statistics_in(text):
                        score += 0.1  # "the median pay" is the median row, not the average or the range
                    if intent.per and states_per(text, intent.per):
                        score += PER  # "the hourly rate" is the figure "an hour", not the one "a year"
                    if states_unit(text, intent.unit):
                        score += PER  # "how many hours do they study?": "300 hours", not "seven to ten years"
                elif not intent.decision and ranged and in_asked_range(text, intent):
                    score += 0.1  # "what does X make four years in?": the "3-5 Years" row, whatever the figure
                if intent.decision and _DECISION_CUES.search(text):
                    score += 0.12
                if intent.figure and intent.names and any(names_a(f"{text} {heading_text}", n) for n in intent.names):
                    score += NAMED
                if intent.listing and lists_in_line(text, intent.listing):
                    score += LISTED
                if intent.contrast and (intent.figure or intent.comparison) and states_difference(text):
                    score += CONTRAST
                if len(words) > 60:
                    score -= 0.1  # long sentences read badly in a short answer
                aside = p.chunk.set_aside or sentence_reason(text)
                out.append(Candidate(text, vec, p, order, score, kind, fit, *(answers or (None, None)), aside))
        if intent.figure and len(intent.subjects) == 1:
            out = self._asked_level(out, intent)
        return asked_about(out, question)

    def _asked_level(self, candidates: list[Candidate], intent: Intent) -> list[Candidate]:
        """Figure sentences naming the asked level itself gain `LEVEL` when others name another level of it."""
        named = [self.subjects(c.text) for c in candidates]
        elsewhere = [s for ns in named for s in ns]
        return [
            replace(c, score=c.score + LEVEL)
            if c.kind and intent.figure in (c.kind, "any") and names_asked_level(ns, intent.subjects[0], elsewhere)
            else c
            for c, ns in zip(candidates, named, strict=True)
        ]

    def _on_aspect(self, candidates: list[Candidate], question: str, intent: Intent) -> list[Candidate]:
        """When a question names two subjects (compared, or a path from one to the other), sentences gain
        `ASPECT` times their similarity to what it asks of them (`aspect_of`), and `ASPECT_TERMS` times the share
        of its words they use: a sentence naming both subjects matches the question's names whatever it says of
        them."""
        aspect = aspect_of(question, intent.subjects)
        if self.embed is None or not content_terms(aspect) or len(intent.subjects) < 2:
            return candidates
        av = self.embed([aspect])[0]
        asked = stems(aspect)  # whole-word stems: "openings" is "open" ("26,159 open positions")
        return [
            replace(
                c,
                score=c.score + ASPECT * float(c.vector @ av) + ASPECT_TERMS * len(asked & stems(c.text)) / len(asked),
            )
            for c in candidates
        ]

    def _subjects_of(self, c: Candidate) -> frozenset[str]:
        """The subjects a sentence speaks about: its own mentions, else its section's."""
        found = self.subjects(c.text) or self.subjects(c.passage.chunk.section or "")
        return frozenset(s.lower() for s in found)

    # -- layouts ----------------------------------------------------------------------------------------------
    def _best_list(
        self, question: str, passages: list[Passage], candidates: list[Candidate], qv: np.ndarray, intent: Intent
    ) -> Iterator[str] | None:
        """The list answering a "which X" question, when one matches as well as the best sentence."""
        qterms = content_terms(question)
        if not qterms:
            return None
        best = max(c.score for c in candidates)
        choice: tuple[float, Passage, ListBlock] | None = None
        asked = functools.cache(lambda: self.embed(list(intent.listing)) if self.embed is not None else None)
        for p in passages:
            texts, vectors = self.sentences(p.chunk.id)
            sims = dict(zip(texts, (vectors @ qv).tolist(), strict=True)) if len(texts) else {}
            if subject_fit(intent.subjects, self.subjects(p.chunk.section or "")) < 0:
                continue  # a list about another subject
            for block in list_blocks(p.chunk.text, p.chunk.section):
                heading = content_terms(f"{block.label} {p.chunk.section or ''}")
                body = heading | {t for it in block.all_items for t in content_terms(it)}
                if not any(n[:6] in body for n in intent.listing) and not self._label_names(block.label, asked):
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

    def _label_names(self, label: str, asked: Callable[[], np.ndarray | None]) -> bool:
        """A list's label names what was asked in other words ("Skills That Help" for "which abilities"): its
        embedding is within `LIST_LABEL` of an asked noun's (`asked`: their vectors, embedded once when first
        needed)."""
        nouns = asked() if self.embed is not None and label.strip() else None
        if nouns is None:
            return False
        return bool((nouns @ self.embed([label])[0]).max() >= LIST_LABEL)

    def _decision(
        self, question: str, passages: list[Passage], candidates: list[Candidate], intent: Intent, told: bool
    ) -> Iterator[str]:
        """Verdict first: the one or two source sentences (or a "Choose X if you enjoy:" list) whose
        condition matches what the person said, then the criteria they did not address, then one
        question for the facts that would change it. The framing speaks of what they told only when
        they stated something about themselves (`told`), not for a bare "Should I learn A or B first?"."""
        clause = asking_clause(question)
        user = user_terms(question, self.subjects(clause))  # "I'm a line cook" stays
        stated = user_terms(" ".join(t for t in stated_sentences(question, ()) if t.rstrip(".") not in clause))
        listed = conditional_list(passages, user)
        pool = sorted(candidates, key=lambda c: -c.score)
        floor = pool[0].score - 0.35
        faq = max((c.answers_sim for c in pool if c.answers_sim is not None), default=1.0)
        # money is what matters most to them: a sentence stating pay speaks to it, in whatever words
        money = speaks_of_money(priority(question))
        ranked = sorted(
            (
                (
                    c.score
                    + verdict_bonus(c.text, user, intent, answers_alike(c, question, faq), question, stated)
                    + (VERDICT_PRIORITY if money and (c.kind == "currency" or speaks_of_money(c.text)) else 0.0),
                    c,
                )
                for c in pool
            ),
            key=lambda t: -t[0],
        )
        verdict: list[Candidate] = []
        for _, c in ranked:
            if len(verdict) == 2:
                break
            if (
                c.score >= floor
                and not c.text.endswith(":")
                and all(float(c.vector @ v.vector) < 0.92 for v in verdict)
            ):
                verdict.append(c)
        if listed is not None:
            # the list takes a verdict's place unless it says again what the first sentence says while the second
            # speaks to something else the person said ("love coding" and "2 years": the years' sentence stays)
            said = [speaks_to(c.text, user) for c in verdict]
            shown = f"{listed[1].label} {' '.join(listed[1].items)}"
            also = speaks_to(shown, user)
            repeats = (
                len(said) == 2
                and len(also) <= len(said[0])  # a list speaking to more of what they said than the sentence stays
                and bool(also & said[0])
                and bool(said[1] - said[0] - also)
            )
            listed, verdict = (None, verdict) if repeats else (listed, verdict[:1])
        rest = [c for c in self._select(pool, self.max_sentences + len(verdict), intent, []) if c not in verdict]
        rest = rest[: max(1, self.max_sentences - len(verdict))]
        if told:  # what speaks to something the person said is no criterion they did not mention
            said = user - _comparing()
            verdict += [c for c in rest if overlap(stems(c.text), said) and not unmet(c.text, question)]
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
        # a sentence answering a FAQ question weighs what that question asks ("… without a degree?": the degree)
        ask = follow_up(question, [f"{c.answers or ''} {c.text}" for c in (*verdict, *rest)])
        if ask:
            yield f"\n{ask}\n"

    # -- selection --------------------------------------------------------------------------------------------
    def _conflict(self, candidates: list[Candidate], intent: Intent) -> list[Candidate]:
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
        picked: list[Candidate] = []
        for source in sources[:3]:
            picked.append(max((c for c in strong if c.passage.chunk.source == source), key=lambda c: c.score))
        return picked

    def _select(
        self, candidates: list[Candidate], limit: int, intent: Intent, conflict: list[Candidate]
    ) -> list[Candidate]:
        """MMR over candidates, with the intent's coverage requirements seeded first."""
        pool = sorted(candidates, key=lambda c: -c.score)
        chosen: list[Candidate] = list(conflict)
        if intent.comparison and len(intent.subjects) >= 2:
            for subject in intent.subjects[:2]:
                if not any(has_subject(self.subjects(c.text), subject) for c in chosen):
                    sides = (c for c in pool if has_subject(self.subjects(c.text), subject) and c not in chosen)
                    hit = next(sides, None)
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


@functools.cache
def _comparing() -> frozenset[str]:
    """The stems of the words that ask for a comparison, which say nothing of the person (stemmed on first use)."""
    return stems("compare compared comparing comparison versus differ difference different")
