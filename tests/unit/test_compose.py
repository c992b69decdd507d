"""The extractive generator: intent reading, grounding, conflicting figures, both sides of a comparison."""

import re

import numpy as np
import pytest

from advisor.answer.compose.candidates import Candidate, answers_alike, figures_conflict, subject_fit
from advisor.answer.compose.decisions import (
    agreement,
    follow_up,
    in_asked_range,
    priority,
    user_terms,
    verdict_bonus,
)
from advisor.answer.compose.layout import CONFLICT, CONFLICT_AFTER, lay_out
from advisor.answer.compose.levels import names_asked_level
from advisor.answer.compose.lists import list_blocks
from advisor.answer.intent import (
    asking_clause,
    asks_for_information,
    aspect_of,
    detect_intent,
    is_personal_decision,
    list_nouns,
    names_in,
    opens_a_question,
    per_units,
    speaks_of_money,
    speaks_of_self,
    stated_facts,
    states_per,
    statistics_in,
)


@pytest.mark.parametrize(
    ("clause", "question"),
    [
        ("What do I need to become a baker", True),
        ("And should I go for it", True),
        ("Then how long does it take", True),
        ("I'm a nurse with two years on the ward", False),
        ("I have three years of experience", False),
        ("My background is in sales", False),
    ],
)
def test_opens_a_question(clause, question):
    assert opens_a_question(clause) is question


@pytest.mark.parametrize(
    ("question", "decision"),
    [
        ("Should I become an architect?", True),
        ("I'm 41. Am I too old to start an apprenticeship?", True),  # yes/no about oneself
        ("Writing code is what I love. Is architecture for me?", True),
        ("Fresh out of school: is going straight for the senior title a good plan?", True),
        ("My degree is in history. Does that rule me out?", True),
        ("How should I use the career ladder?", False),  # asks how: information, not a verdict
        ("And which tool should I learn first for it?", False),  # which thing: a fact
        ("I enjoy strategy more than debugging. Which path suits me?", True),  # which path: a choice
        ("What pay should I be seeing with four years?", False),
        ("Is an architect paid more than an engineer?", False),  # yes/no, but not about the person
        ("Do electricians need a license?", False),
        ("A friend says I should skip the junior job and apply for senior ones. Good idea?", True),  # no article
        ("What makes a good fit for pottery?", False),
    ],
)
def test_is_personal_decision(question, decision):
    assert is_personal_decision(question) is decision


def test_asking_clause_drops_the_persons_preamble():
    assert asking_clause("I'm 41 and tired. Am I too old?") == "Am I too old?"
    assert asking_clause("Fresh out of school: is it a good plan?") == "is it a good plan?"


def test_user_terms_are_what_the_person_said_without_frame_or_subjects():
    terms = user_terms("I still love hands-on coding. Should I become an architect?", ["architect"])
    assert {"love", "code"} <= terms and "architect" not in terms and "should" not in terms


@pytest.mark.parametrize(
    ("sentence", "question", "more_than"),
    [
        # a condition matching what the person said decides more than one that does not
        (
            "If you still love hands-on coding, stay on the engineering track.",
            "I love coding. Should I move on?",
            "If you enjoy designing systems, pursue architecture.",
        ),
        # a range in the unit the person gave a number in (in or out of it) decides
        (
            "Typically after 5-8 years of engineering experience.",
            "I've worked for 3 years. Should I move on?",
            "Architects review critical implementations.",
        ),
        # a recommendation decides more than a description
        ("If you're early in your career, become an engineer first.", "Should I apply now?", "Engineers write code."),
    ],
)
def test_verdict_bonus_prefers_sentences_that_decide_for_this_person(sentence, question, more_than):
    intent = detect_intent(question)
    user = user_terms(question)
    assert verdict_bonus(sentence, user, intent) > verdict_bonus(more_than, user, intent)


def test_a_fact_sharing_two_words_with_what_the_person_stated_decides_like_a_condition():
    question = "I want to work fully from home. Is pottery or glazing better for me?"
    told = user_terms("I want to work fully from home.")
    intent, user = detect_intent(question), user_terms(question)
    remote = "Remote work differs: 7% of potters work fully remote against 12% of glaziers."
    other = "Potters fire kilns twice a week."
    assert verdict_bonus(remote, user, intent, told=told) > verdict_bonus(other, user, intent, told=told)
    assert verdict_bonus(remote, user, intent, told=told) > verdict_bonus(remote, user, intent)  # told nothing


@pytest.mark.parametrize(
    ("text", "question", "inside"),
    [
        ("Potter Pay: 3-5 Years — Pay Range: ₹15–30 LPA", "What do potters make four years in?", True),
        ("Potter Pay: 5-8 Years — Pay Range: ₹25–45 LPA", "What do potters make four years in?", False),
        ("Potter Pay: 8+ Years — Pay Range: ₹40–70 LPA", "And with 10 years of experience?", True),
        ("Potter Pay: 3-5 Years — Pay Range: ₹15–30 LPA", "What do potters make after 4 months?", False),  # unit
        ("Potters earn ₹15–30 LPA.", "What do potters make four years in?", False),  # no range in years
        ("Potter Pay: 5-8 Years — Pay Range: ₹25–45 LPA", "What do potters make with 3 to 5 years?", False),
    ],
)
def test_in_asked_range_compares_the_persons_number_with_the_sentences_ranges(text, question, inside):
    assert in_asked_range(text, detect_intent(question)) is inside


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("What is the median pay?", {"median"}),
        ("At the 75th percentile, potters reach $50K.", {"75th percentile"}),
        ("Average and median both", {"average", "median"}),
        ("Avg. Salary: $120,000", {"average"}),
        ("What do potters earn?", set()),
        ("what's the typical middle-of-the-range pay for potters?", {"median"}),  # the median in plain words
        ("Potters at the 50th percentile earn $40K.", {"median"}),
        ("The midpoint of the pay band", {"median"}),
        # the quartiles in plain words
        ("how do the upper-quartile salaries compare?", {"75th percentile"}),
        ("What do potters in the bottom quartile make?", {"25th percentile"}),
        ("like top quarter of the market, roughly?", {"75th percentile"}),
        ("the bottom quarter of potters", {"25th percentile"}),
        ("a quarter of potters work alone", set()),
        # a statistic set aside is not asked for, and "the middle number" is the median
        ("just the middle number not the average range", {"median"}),
        ("the median rather than the mean, please", {"median"}),
        ("Ignoring the average, what is the 75th percentile?", {"75th percentile"}),
    ],
)
def test_statistics_in(text, named):
    assert statistics_in(text) == named


def test_verdict_bonus_for_the_answer_to_a_faq_question_like_the_persons():
    intent = detect_intent("Am I too old?")
    assert verdict_bonus("There is no maximum age.", frozenset(), intent, True) > verdict_bonus(
        "There is no maximum age.", frozenset(), intent, False
    )


@pytest.mark.parametrize(
    ("question", "shown", "asks"),
    [
        ("Should I switch?", ["Typically after 5-8 years.", "If you love coding, stay."], ["years", "enjoy"]),
        ("I have six years. Should I switch?", ["Typically after 5-8 years."], None),  # already said
        ("I hate exams. Should I switch?", ["If you love coding, stay."], None),
        ("Should I switch?", ["Engineers write code."], None),  # nothing shown weighs a fact of theirs
    ],
)
def test_follow_up_asks_for_the_facts_the_sources_weigh_and_the_person_did_not_give(question, shown, asks):
    text = follow_up(question, shown)
    if asks is None:
        assert text is None
    else:
        assert text.endswith("?") and all(a in text for a in asks) and not re.search(r"\d", text)


@pytest.mark.parametrize(
    ("question", "figure", "comparison", "decision"),
    [
        ("How much do AI architects earn?", "currency", False, False),  # English's own verb for pay
        ("How much do AI architects spend?", "any", False, False),  # which figure: from the corpus profile
        ("AI engineer vs AI architect: which pays more?", None, True, False),
        ("Which trade pays better?", None, True, False),
        ("Should I become an architect? I have 2 years of experience", None, False, True),
        ("What does a staff engineer own?", None, False, False),
        ("What is the difference between an AI engineer and an AI architect?", None, True, False),
        ("How long does it take to become a licensed electrician?", "duration", False, False),
        ("What percentage of the jobs are remote?", "percent", False, False),
        ("What's the median for potters?", "any", False, False),  # "what's" asks as "what is" does
        ("What's the hourly rate for a potter?", "any", False, False),  # a rate per hour is pay, not a share
        ("What's the pass rate of the glazing exam?", "percent", False, False),
        # a statistic of pay is a figure of pay, however the question is worded
        ("the typical middle-of-the-range pay for potters vs glaziers?", "currency", True, False),
        ("I love drawing and I'm a gardener. Is landscape design right for me?", None, False, True),
        # facts of the person in a question asking what or which thing: a list, not a verdict
        ("What certifications should I go for if I'm aiming at an architect job?", None, False, False),
        ("Which frameworks should I pick up if I want to work as an AI engineer?", None, False, False),
        # a "build-vs-buy" call of the person's story is no comparison asked for
        ("I've owned a couple of big build-vs-buy calls. What should I focus on to get there?", None, False, False),
    ],
)
def test_detect_intent(question, figure, comparison, decision):
    i = detect_intent(question)
    assert (i.figure, i.comparison, i.decision) == (figure, comparison, decision)


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        # English asks for pay with "make", "bring home", "get paid", whatever words the corpus uses for it
        ("What does a principal potter make?", "currency"),
        ("what do potters make at the median?", "currency"),
        ("what do they make once they're qualified?", "currency"),
        ("How much do potters bring home a year?", "currency"),
        ("What do glazers get paid in the UK?", "currency"),
        ("What's the take-home pay of a principal potter?", "currency"),
        ("Ballpark comp for an entry-level potter in Peru?", "currency"),
        ("whats the typical paycheck for a senior potter?", "currency"),
        ("What pay band should I expect with 9 years?", "currency"),
        ("What's a fresh grad potter paid in Peru?", "currency"),
        ("How much are apprentice potters paid?", "currency"),
        # ... and asks it of the person's future in the progressive (fresh10 fr10-02)
        ("If I end up a well-paid potter, roughly what would I be earning?", "currency"),
        ("what will I be making after five years?", "currency"),
        ("What would I be making mistakes about?", None),
        ("Are apprentice potters paid?", None),  # yes or no
        ("Which role pays more?", None),  # which one, not how much
        # ... but not what people make or decide ("mistakes", "decisions", "of it")
        ("What kind of mistakes do senior potters tend to make?", None),
        ("What decisions do potters make?", None),
        ("What do potters make of glaze costs?", None),
    ],
)
def test_what_does_x_make_asks_for_pay(question, figure):
    assert detect_intent(question).figure == figure


@pytest.mark.parametrize(
    ("question", "numbers", "units"),
    [
        # the start of a career is the case of the first years ("0-2 years")
        ("What's a fresh grad potter paid in Peru?", {"0"}, {"year"}),
        ("Ballpark comp for an entry-level potter?", {"0"}, {"year"}),
        ("Are entry-level potters in demand?", set(), set()),  # no figure asked: no case
        ("How much does an entry-level potter earn?", {"0"}, {"year"}),
        ("How much does a junior potter make?", {"0"}, {"year"}),
        ("How much does a potter make straight out of college?", {"0"}, {"year"}),
        # a number of its own wins
        ("How much does a junior potter with 3 years earn?", {"3"}, {"year"}),
        ("How much does a senior potter earn?", set(), set()),
    ],
)
def test_the_start_of_a_career_asks_for_the_first_years(question, numbers, units):
    i = detect_intent(question, measure=lambda t: "currency" if "earn" in t or "paid" in t else None)
    assert (set(i.numbers), set(i.units)) == (numbers, units)


def test_an_entry_level_question_picks_the_row_of_the_first_years():
    i = detect_intent("How much does an entry-level potter earn?")
    assert in_asked_range("Potter Salaries: 0-2 Years — Salary Range: $30K", i)
    assert not in_asked_range("Potter Salaries: 3-5 Years — Salary Range: $50K", i)


@pytest.mark.parametrize(
    ("named", "asked", "elsewhere", "expected"),
    [
        # the row naming the asked level, when the passages name other levels of it
        (["principal potter"], "principal potter", ["potter", "senior potter", "principal potter"], True),
        (["potter"], "potter", ["potter", "principal potter"], True),
        # another level's row, or no other level named anywhere
        (["potter"], "principal potter", ["potter", "principal potter"], False),
        (["senior potter", "potter"], "principal potter", ["potter", "senior potter"], False),
        (["potter"], "potter", ["potter", "glazer"], False),
        ([], "potter", ["potter", "senior potter"], False),
    ],
)
def test_names_asked_level(named, asked, elsewhere, expected):
    assert names_asked_level(named, asked, elsewhere) is expected


@pytest.mark.parametrize(
    ("question", "nouns"),
    [
        # "which X should …" asks for a list, singular or not
        ("Which kiln certification should an aspiring potter on gas get?", ("certifications",)),
        ("Which glazes should a potter learn?", ("glazes",)),
        # a path between careers, or which one, is a choice
        ("Which path should I take?", ()),
        ("Which one should I pick?", ()),
        ("What should I learn?", ()),
    ],
)
def test_which_noun(question, nouns):
    assert list_nouns(question) == nouns


@pytest.mark.parametrize(
    ("question", "per"),
    [
        ("What's the hourly rate for a potter in the States?", {"hour"}),
        ("How many hours a week would the course eat up?", {"week"}),
        ("What is a potter's annual pay?", {"year"}),
        ("How much do potters earn per month?", {"month"}),
        ("How much do potters earn?", set()),
    ],
)
def test_per_units(question, per):
    assert per_units(question) == per


@pytest.mark.parametrize(
    ("text", "per", "expected"),
    [
        ("The median is about $61,600 a year, which works out to roughly $29.60 an hour.", {"hour"}, True),
        ("The live session takes roughly 6 hours a week.", {"week"}, True),
        ("Rates start at $40/hr.", {"hour"}, True),
        ("Three sessions of 3 hours each, 24 live hours in total.", {"week"}, False),
        (
            "Starting pay is 40 to 50 percent of a qualified potter's hourly rate.",
            {"hour"},
            False,
        ),  # no figure per hour
        ("The median is about $61,600 a year.", {"hour"}, False),
    ],
)
def test_states_per(text, per, expected):
    assert states_per(text, frozenset(per)) is expected


def test_the_profile_measure_names_the_asked_figure():
    def measure(text: str) -> str | None:
        return "currency" if "earn" in text else None

    assert detect_intent("What do potters earn?", measure=measure).figure == "currency"
    assert detect_intent("How long until potters earn?", measure=measure).figure == "duration"  # the words win
    assert detect_intent("What do potters do?", measure=measure).figure is None


@pytest.mark.parametrize(
    ("question", "nouns"),
    [
        ("Which certifications are recommended?", ("certifications",)),
        ("What vector databases and search tools do engineers use?", ("databases", "tools")),
        ("What does a staff engineer own?", ()),
        ("What comes after that level?", ()),
        ("How much do they earn?", ()),
        ("Which role pays more?", ()),
        ("what tools/software do glaziers use?", ("tools",)),  # a plural joined by a slash is listed
        ("Which skills do AI/ML potters need?", ("skills",)),
    ],
)
def test_list_nouns(question, nouns):
    assert detect_intent(question).listing == nouns


def test_list_blocks_keep_short_items_and_continuations():
    text = "Intro here.\n\nEngineers build:\n\n- Vector databases\n- Search\n\nusing tools such as:\n\n- A\n- B"
    (block,) = list_blocks(text, "Sec > Building")
    assert block.label == "Engineers build" and block.items == ("Vector databases", "Search")
    assert block.more == (("using tools such as", ("A", "B")),)
    assert list_blocks("- only one item", "S") == []
    assert list_blocks("- a\n- b", "Parent > Tools")[0].label == "Tools"


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("I have 3 years of experience and I love coding. Should I switch?", ("experience", "likes")),
        ("I'm a nurse and I want to work outdoors", ("background", "goal")),
        ("I'm not sure what to do", ()),
        ("How much does a senior architect with 12 years make?", ()),
    ],
)
def test_stated_facts(question, kinds):
    facts = stated_facts(question)
    assert tuple(f.kind for f in facts) == kinds
    assert not any(re.search(r"\d", f.label) for f in facts)  # labels never carry digits


@pytest.mark.parametrize(
    ("figures", "conflict"),
    [
        # two documents, same subject, same kind, different numbers: a disagreement
        ([("a", "currency", {"x"}, {"100"}), ("b", "currency", {"x"}, {"120"})], ["a", "b"]),
        # three subjects' pay: not a disagreement
        ([("a", "currency", {"x"}, {"100"}), ("b", "currency", {"y"}, {"120"}), ("c", "currency", {"z"}, {"9"})], []),
        # same subject, different measures (pay vs share)
        ([("a", "currency", {"x"}, {"100"}), ("b", "percent", {"x"}, {"12"})], []),
        # same figure in two documents: they agree
        ([("a", "currency", {"x"}, {"100"}), ("b", "currency", {"x"}, {"100"})], []),
        # a sentence about no known subject cannot disagree with anything
        ([("a", "currency", set(), {"100"}), ("b", "currency", set(), {"120"})], []),
        # two shares of different things (job listings, working time): nothing measured in common
        ([("a", "percent", {"x"}, {"91"}, {"listin", "open"}), ("b", "percent", {"x"}, {"20"}, {"time", "code"})], []),
        # the third source disagrees with the first on listings; the second measures something else
        (
            [
                ("a", "percent", {"x"}, {"91"}, {"listin"}),
                ("b", "percent", {"x"}, {"20"}, {"time"}),
                ("c", "percent", {"x"}, {"88"}, {"listin"}),
            ],
            ["a", "c"],
        ),
    ],
)
def test_figures_conflict(figures, conflict):
    rows = [
        (row[0], row[1], frozenset(row[2]), frozenset(row[3]), frozenset(row[4] if len(row) > 4 else {"pay"}))
        for row in figures
    ]
    assert figures_conflict(rows) == conflict


@pytest.mark.parametrize(
    ("asked", "named", "fit"),
    [
        (("staff AI engineer",), ("Staff AI engineer",), 1.0),
        (("staff AI engineer",), ("Senior AI / ML Engineer",), -1.0),
        (("AI architect",), ("AI engineering architect",), 1.0),
        (("electrician",), ("actuary",), -1.0),
        (("staff AI/ML engineer",), ("AI/ML engineer", "staff AI/ML engineer"), 1.0),
        # a more general form of the asked subject fits, unless another section names the asked level itself
        (("staff AI/ML engineer",), ("AI/ML engineer",), 1.0),
        (("electrician",), (), 0.0),
        ((), ("actuary",), 0.0),
    ],
)
def test_subject_fit(asked, named, fit):
    assert subject_fit(asked, named) == fit


def test_a_more_general_section_is_another_levels_when_a_section_names_the_asked_level():
    assert subject_fit(("staff AI/ML engineer",), ("AI/ML engineer",), levelled=True) == 0.0
    assert subject_fit(("staff AI/ML engineer",), ("staff AI/ML engineer",), levelled=True) == 1.0


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        ("I've potted for 9 years in Peru — what pay band should I expect?", "what pay band should I expect?"),
        ("What's on a potter's plate – what do they own?", "what do they own?"),
        ("Is a well-paid role worth it?", "Is a well-paid role worth it?"),  # a hyphen inside a word splits nothing
    ],
)
def test_a_dash_between_clauses_ends_the_preamble(question, clause):
    assert asking_clause(question) == clause


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        # the person's story, then a comma, then the question: the story is not what is asked
        ("I'm a potter with 6 years in Lima, is glazing realistic?", "is glazing realistic?"),
        ("I've spent 8 years at Acme, would switching to glazing be smart?", "would switching to glazing be smart?"),
        ("As a teacher in Ohio, could I become a potter?", "could I become a potter?"),
        ("I work in Ohio, what do potters earn there?", "what do potters earn there?"),
        # a condition is part of what is asked; a comma with no story before it or no question after it splits nothing
        ("If I want remote work, which role is better?", "If I want remote work, which role is better?"),
        ("Given my 3 years, is it time?", "Given my 3 years, is it time?"),
        ("For potters in Lima, is glazing realistic?", "For potters in Lima, is glazing realistic?"),
        ("I'm 30, I have 5 years of clay, should I glaze?", "should I glaze?"),
        ("Is it me, or is glazing hard?", "Is it me, or is glazing hard?"),
    ],
)
def test_a_story_before_a_comma_is_not_what_is_asked(question, clause):
    assert asking_clause(question) == clause


@pytest.mark.parametrize(
    ("question", "informs"),
    [
        ("If I want a potter's job, which cities should I be looking in?", True),  # which cities, on a condition
        ("Once I'm qualified, what do glaziers earn?", True),
        ("If I care most about openings, is pottery or glazing the safer bet?", False),  # a choice, on a condition
        ("If I love clay, should I become a potter?", False),
    ],
)
def test_a_condition_put_first_leaves_the_question_what_it_asks(question, informs):
    assert asks_for_information(question) is informs


@pytest.mark.parametrize(
    ("lines", "conflict", "text"),
    [
        # two sentences with different figures: the figures read in order, then the note (dev fr2-01, fu-03)
        (["A: $1 [1]", "B: $2 [2]"], True, f"A: $1 [1] B: $2 [2]\n\n{CONFLICT_AFTER}"),
        (["A: $1 [1]", "B: $2 [2]"], False, "A: $1 [1] B: $2 [2]"),
        (["A: $1 [1]"], True, "A: $1 [1]"),  # one figure disagrees with nothing shown
        # three or more: the answer first, then the note over each source's figure
        (["A [1]", "B [2]", "C [3]"], True, f"- A [1]\n\n{CONFLICT}\n\n- B [2]\n- C [3]\n"),
        (["A [1]", "B [2]", "C [3]"], False, "- A [1]\n- B [2]\n- C [3]\n"),
    ],
)
def test_lay_out_puts_the_note_on_different_figures_where_it_reads_in_order(lines, conflict, text):
    assert "".join(lay_out(lines, conflict)) == text


@pytest.mark.parametrize(
    ("question", "aspect"),
    [
        ("Do potters or glaziers have more job openings?", "Do or have more job openings ?"),
        ("How do master potters and glaziers compare on remote work?", "How do master and compare on remote work ?"),
        # the person's story is not what is compared; nothing is left of "Potter or glazier?" to weigh
        ("Hands-on maker here, three years in. Potter or glazier?", "or ?"),
    ],
)
def test_aspect_of_is_the_asking_clause_without_the_subjects(question, aspect):
    assert aspect_of(question, ["potter", "glazier"]) == aspect


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("What do potters earn in Canada?", ["Canada"]),
        # the word opening a sentence is no name, but a name may follow it
        ("Is the Acme Academy class worth it?", ["Acme Academy"]),
        ("Is Google hiring potters?", ["Google"]),
        ("Does the Bank of England hire potters?", ["Bank of England"]),
        ("Is it worth it?", []),
        ("Canada is cold. Do potters earn more there?", []),
    ],
)
def test_names_in(text, names):
    assert names_in(text) == names


@pytest.mark.parametrize(
    ("condition", "question", "count"),
    [
        ("you love shaping clay", "I love shaping clay. Should I be a potter?", 3),
        # said one way by the sentence and the other by the person: it counts against
        ("you enjoy glazing and are happy with less time at the wheel", "The wheel is what I enjoy most. Potter?", 0),
        ("you hate the wheel", "The wheel is what I enjoy most. Should I be a potter?", -1),
        ("you want no time at the wheel", "I hate the wheel. Should I be a potter?", 1),
        ("you like kilns", "I hate the wheel. Should I be a potter?", 0),
        ("you enjoy glazing more than the wheel", "The wheel is what I enjoy most. Potter?", 0),  # enjoy +1, wheel -1
    ],
)
def test_agreement_counts_a_word_said_the_other_way_against_the_sentence(condition, question, count):
    assert agreement(condition, question, user_terms(question, ["potter"])) == count


@pytest.mark.parametrize(
    "question",
    [
        "I'm 24 and just finished my degree. Should I apply for potter jobs straight away?",
        "I'm still at university. Is glazing or pottery the better start?",
        "I have no experience yet. Should I go for pottery?",
        "22, fresh art grad. Should I skip the glazier job and apply straight to potter openings?",
        "im 24, about a year out of uni. can i go straight for potter roles?",
    ],
)
def test_the_start_of_a_career_matches_a_condition_for_people_early_in_theirs(question):
    intent, user = detect_intent(question), user_terms(question)
    early = "If you're early in your career, become a glazier first."
    later = "If you have led a studio, pursue pottery."
    assert verdict_bonus(early, user, intent, question=question) > verdict_bonus(later, user, intent, question=question)
    seasoned = "I've run my own studio for 12 years. Should I go for pottery?"
    assert verdict_bonus(early, user_terms(seasoned), detect_intent(seasoned), question=seasoned) <= verdict_bonus(
        later, user_terms(seasoned), detect_intent(seasoned), question=seasoned
    )


@pytest.mark.parametrize(
    ("question", "said", "money"),
    [
        ("I love clay, but I want a big paycheck. Is pottery a smart move?", "but I want a big paycheck", True),
        ("love clay but i also want to make serious money lol. is pottery smart?", "make serious money", True),
        ("Money is what motivates me most. Should I glaze or throw?", "Money is what motivates me most", True),
        ("We're saving, so money is the main thing for me. Purely on pay, which one?", "Purely on pay", True),
        ("I love glazes. Is pottery worth it money-wise?", "money-wise", True),
        ("Getting hired fast matters more to me than anything. Glazier or potter?", "Getting hired fast", False),
        # what the person weighs against their wish is not what they want most
        ("I hate studying. but the potter salaries look amazing... should I go for it anyway?", "", False),
        ("I want potter money but I really don't want to stop glazing. Should I switch?", "", False),
        ("I love shaping clay. Should I become a potter?", "", False),
    ],
)
def test_priority_is_what_the_person_says_matters_most(question, said, money):
    assert said in priority(question) and bool(priority(question)) is bool(said)
    assert speaks_of_money(priority(question)) is money


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("**Cons.** Pay is modest compared with the years of study.", True),
        ("Choose potter if you want higher compensation.", True),
        ("Potters earn more in cities.", True),
        ("Potters design pots for parks and plazas.", False),
    ],
)
def test_speaks_of_money(text, money):
    assert speaks_of_money(text) is money


@pytest.mark.parametrize(
    ("text", "self_"),
    [
        ("graphic designer here, 5 yrs of print and branding.", True),
        ("Senior potter here.", True),
        ("devops/cloud guy here - 7 yrs of kilns", True),
        ("Is it here?", False),
        ("Potters here earn more.", False),  # no punctuation after "here": a place, not the person
        ("I throw pots.", True),
    ],
)
def test_speaks_of_self(text, self_):
    assert speaks_of_self(text) is self_


@pytest.mark.parametrize(
    ("faq", "sim", "best", "alike"),
    [
        ("Can I move into pottery from a glazing or kiln background?", 0.70, 0.70, True),  # close in meaning
        # a long, chatty question is far in the embedding, but the closest FAQ question shares three stems with it
        ("Can I move into pottery from a glazing or kiln background?", 0.45, 0.45, True),
        ("Can I move into pottery from a glazing background?", 0.45, 0.45, False),  # two stems: not it
        ("Can I move into pottery from a glazing or kiln background?", 0.45, 0.60, False),  # another FAQ is closer
        ("Can I move into pottery from a glazing or kiln background?", None, 1.0, True),  # a heading: two stems
    ],
)
def test_answers_alike(faq, sim, best, alike):
    question = "glazing/kiln guy here, 7 yrs firing, zero throwing. is pottery a realistic target for me?"
    c = Candidate("Your glazing counts.", np.zeros(3), None, 1, 0.5, None, answers=faq, answers_sim=sim)
    assert answers_alike(c, question, best) is alike


def test_follow_up_reads_years_typed_short():
    shown = ["Typically after 5-8 years of glazing."]
    assert follow_up("7 yrs of glazing. should I throw pots?", shown) is None  # the years were given
    assert "how many years" in follow_up("I love glazing. should I throw pots?", shown)


@pytest.mark.parametrize(
    ("sentence", "question", "unmet_"),
    [
        ("If you're early in your career, become a potter first.", "Glazier for 6 years. Should I throw pots?", True),
        ("If you're early in your career, become a potter first.", "Glazier for 2 years. Should I throw pots?", False),
        ("If you're early in your career, become a potter first.", "Should I throw pots?", False),  # nothing told
        ("If you love clay, become a potter.", "Glazier for 6 years. Should I throw pots?", False),
    ],
)
def test_unmet_career_start_condition(sentence, question, unmet_):
    from advisor.answer.compose.decisions import VERDICT_UNMET, unmet, verdict_bonus

    assert unmet(sentence, question) is unmet_
    if unmet_:  # such advice decides nothing for them
        assert verdict_bonus(sentence, frozenset(), detect_intent(question), False, question) <= -VERDICT_UNMET + 0.1
