"""The extractive generator on the real corpus (a real index): grounding, decisions, comparisons, conflicting figures.
Intent reading and grounding on hand-made passages are in tests/unit/test_compose.py."""

import re

from advisor.evaluation.golden import numbers_in
from advisor.text import MARKER, lead_text


def _sentences(answer):
    return [ln for ln in answer.text.splitlines() if MARKER.search(ln)]


def test_every_answer_sentence_is_quoted_from_its_cited_passage(advisor):
    answer = advisor.ask("Should I become an architect? I have 2 years of experience and love coding")
    assert not answer.refused and len(_sentences(answer)) >= 2
    for line in _sentences(answer):
        n = int(MARKER.findall(line)[-1])
        quote = MARKER.sub("", line).lstrip("- ").strip().rstrip(".").strip()
        if label := re.fullmatch(r"Under “(.+)” *:", quote):  # a list's header quotes the list's label
            assert label.group(1) in answer.passages[n - 1].chunk.text
            continue
        passage = advisor.retriever.sentences(answer.passages[n - 1].chunk.id)[0]
        assert any(quote.rstrip(" .") in s for s in passage), (quote, passage)


def test_should_i_with_personal_facts_leads_with_the_deciding_sentences(advisor):
    answer = advisor.ask("Should I become an architect? I have 2 years of experience and love coding")
    lead = lead_text(answer.text).lower()  # the first two cited lines
    assert "5-8 years" in lead and "love hands-on coding" in lead


def test_places_and_employers_of_the_persons_own_story_are_not_what_they_ask_about(advisor):
    for question in (
        "I'm a nurse with 6 years in the ICU, is moving into AI engineering realistic or a pipe dream?",
        "I've spent 8 years at Deloitte, would switching to AI architecture be smart?",
        "As a teacher in Ohio, could I become an AI engineer?",
    ):
        answer = advisor.ask(question)
        assert not answer.refused, (question, answer.text)
        assert len(_sentences(answer)) >= 2
    answer = advisor.ask("I work in Ohio, what do AI engineers earn there?")  # a figure asked for a place: refused
    assert answer.refused and "Ohio" in answer.text


def test_a_decision_worded_without_should_i_gets_a_verdict_first(advisor):
    answer = advisor.ask("Writing code is the part of the job I'd never give up. Is architecture for me?")
    assert "80%" in lead_text(answer.text)


def test_conflicting_salary_figures_are_each_cited_after_the_best_one(advisor):
    answer = advisor.ask("How much do AI architects earn?")
    first, *rest = answer.text.splitlines()
    assert MARKER.search(first) and numbers_in(first)  # the answer first: a cited figure
    assert any(ln.startswith("The sources give different figures") for ln in rest)
    sources = {answer.passages[n - 1].chunk.source for n in answer.cited}
    assert len(sources) >= 2
    for line in _sentences(answer):
        n = int(MARKER.findall(line)[-1])
        assert numbers_in(line) <= numbers_in(answer.passages[n - 1].chunk.text), line


def test_comparison_covers_both_sides(advisor):
    answer = advisor.ask("What is the difference between an AI engineer and an AI architect?")
    lines = _sentences(answer)
    assert any(re.search(r"\bengineers?\b", ln, re.I) and "architect" not in ln.lower() for ln in lines)
    assert any("architect" in ln.lower() for ln in lines)


def test_a_comparison_opens_with_what_is_compared_not_with_a_line_naming_both(advisor):
    answer = advisor.ask("Do architects or engineers have more job openings?")
    first = lead_text(answer.text, 1)
    assert re.search(r"open|listings", first, re.I) and numbers_in(first), answer.text


def test_a_place_of_the_persons_story_is_noted_when_the_question_is_not_about_it(advisor):
    answer = advisor.ask("I'm moving to Canada next year. How many years does it take to become an AI architect?")
    assert not answer.refused and len(_sentences(answer)) >= 2
    assert any("Canada" in n for n in answer.notices)
    pay = advisor.ask("I'm moving to Canada next year. What do AI architects earn?")  # money is quoted per place
    assert pay.refused and "Canada" in pay.text and not pay.notices


def test_a_word_that_joins_clauses_is_no_word_the_corpus_lacks(advisor):
    answer = advisor.ask("Once I'm at staff, what should I focus on for the next jump?")
    assert not answer.refused, answer.refusal_reason


def _quoted(advisor, answer):
    """Every line carrying a marker is a verbatim sentence (or list item) of the passage it cites."""
    for line in _sentences(answer):
        n = int(MARKER.findall(line)[-1])
        quote = MARKER.sub("", line).lstrip("- ").strip().rstrip(".:").strip()
        units = advisor.retriever.sentences(answer.passages[n - 1].chunk.id)[0]
        text = answer.passages[n - 1].chunk.text
        assert any(quote.rstrip(" .") in s for s in units) or quote in text, (quote, units)


def test_a_which_question_is_answered_with_the_list_and_one_citation(advisor):
    answer = advisor.ask("What vector databases and search tools do AI engineers use for RAG?")
    items = [ln[2:] for ln in answer.text.splitlines() if ln.startswith("- ")]
    assert "ChromaDB" in items and "Pinecone" in items  # one-word items are kept
    assert len(answer.cited) == 1
    _quoted(advisor, answer)


def test_three_careers_pay_is_not_a_disagreement(advisor_both):
    answer = advisor_both.ask("How much do electricians, actuaries and UX designers earn?")
    assert not answer.text.startswith("The sources give different figures")
    assert numbers_in(answer.text) and not answer.refused
    _quoted(advisor_both, answer)


def test_the_asked_figure_comes_first(advisor):
    answer = advisor.ask("How much can a senior AI architect with over 12 years make in India?")
    first = _sentences(answer)[0]
    assert "12+" in first and "Crore" in first


def test_a_decision_leads_with_a_verdict_then_criteria_then_one_question(advisor_both):
    answer = advisor_both.ask(
        "I have 3 years of experience as a gardener and I love drawing. Should I become a landscape architect?"
    )
    lines = answer.text.splitlines()
    assert lines[0] == "For what you told me, these passages decide it:"
    assert MARKER.search(lines[1])  # the verdict first, quoted and cited
    # nothing but framing lines, quotes and one closing question: every other line carries a citation
    framing = {lines[0], "What else they weigh, which you did not mention:", ""}
    assert all(MARKER.search(ln) for ln in lines[:-1] if ln not in framing)
    assert lines[-1].endswith("?") and not MARKER.search(lines[-1])
    _quoted(advisor_both, answer)


def test_a_comparison_of_two_careers_covers_both(advisor_both):
    answer = advisor_both.ask("How does the training of an electrician compare with that of an actuary?")
    text = answer.text.lower()
    assert "electrician" in text and "actuar" in text
    _quoted(advisor_both, answer)


def test_the_cohorts_own_faq_answer_leads_a_question_worded_otherwise(advisor):
    """fresh dev fr-21: the FAQ answer sits in a passage set aside as the author's offer."""
    answer = advisor.ask("Can I do the cohort while holding down a full-time job?")
    assert "most attendees do" in lead_text(answer.text)


def test_a_number_of_the_persons_story_does_not_lead_with_the_pay_row_of_its_range(advisor_both):
    answer = advisor_both.ask(
        "Five years doing brand identity as a graphic designer and I'm bored. "
        "Is UX a sensible move for me, and what would I be missing?"
    )
    lead = lead_text(answer.text)
    assert "years;" not in lead and re.search(r"common routes|gaps to close", lead), answer.text


def test_a_figure_for_the_asked_place_of_another_kind_follows_the_best_figure(advisor_both):
    answer = advisor_both.ask("What does a senior UX designer earn in London?")
    assert "10 to 20 percent" in lead_text(answer.text), answer.text


def test_upper_quartile_pay_is_the_75th_percentile(advisor):
    # dev fresh7 fr7-13: "upper-quartile" is the 75th percentile row, not the median's
    answer = advisor.ask(
        "For experienced people at well-funded companies, how do the upper-quartile salaries compare between "
        "AI/ML engineers and AI architects?"
    )
    assert "$218K" in lead_text(answer.text) and "$325K" in lead_text(answer.text)


def test_a_list_named_in_other_words_or_with_a_slash_is_quoted(advisor_both):
    # fr8-oc-11: "qualities or abilities" are listed under "Skills That Help"
    answer = advisor_both.ask("what personal qualities or abilities help you as an electrician?")
    assert "colour vision" in answer.text and "Manual dexterity" in answer.text
    # fr8-oc-13: "tools/software" asks for the list of tools
    answer = advisor_both.ask("what tools/software do UX designers use?")
    assert "Figma" in answer.text and "Miro" in answer.text


def test_the_persons_years_pick_the_row_when_the_question_points_back_to_them(advisor):
    # fr8-02: "at my experience level" points to "about 10 years behind me": the 8-12 years row, not 5-8
    answer = advisor.ask(
        "I'm in Bangalore with about 10 years behind me, mostly designing GenAI platforms for enterprise clients. "
        "What kind of package in LPA should an AI architect at my experience level expect?"
    )
    cited = [line for line in answer.text.splitlines() if "[" in line]
    assert "₹50–90 LPA" in " ".join(cited[:2]), answer.text


def test_advice_for_people_starting_out_does_not_decide_for_someone_with_years(advisor):
    # fr8-11: six years in DevOps; "If you're early in your career, become an AI Engineer first" led the verdict
    answer = advisor.ask(
        "Been a DevOps/cloud guy for 6 years (k8s, terraform, CI/CD), zero ML background. Is becoming an AI "
        "engineering architect realistic for me and what's the main thing I'd need to pick up?"
    )
    verdict = answer.text.split("What else they weigh")[0]
    assert "For what you told me" in verdict and "early in your career" not in verdict
