"""The extractive generator's answer-first rules, over fake sentence vectors (word hashes): which sentence
leads for a figure asked about a place, for "how much more", and of the asked kind of figure."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from support.fakes import FakeEmbedder, ListRetriever, chunk

from advisor.answer.compose.candidates import lists_in_line
from advisor.answer.compose.extractive import ExtractiveGenerator
from advisor.answer.compose.lists import item_labels, list_blocks, titled_items, titled_pairs
from advisor.answer.intent import asked_names, detect_intent
from advisor.schema import Passage
from advisor.screen import AUTHOR
from advisor.text import lead_text


def answer_to(question: str, chunks, **options) -> str:
    """The extractive answer to `question` over `chunks`, ranked in order (`options`: the generator's subjects,
    measure)."""
    retriever = ListRetriever(chunks)
    passages = [Passage(c, 0.9 - 0.01 * i, i + 1) for i, c in enumerate(chunks)]
    query = FakeEmbedder().embed_batch([question])[0]
    return "".join(ExtractiveGenerator(retriever.sentences, **options).generate(question, passages, np.asarray(query)))


def first_line(question: str, chunks, measure=lambda text: None, subjects=lambda text: []) -> str:
    """The first cited sentence of the extractive answer to `question` over `chunks` (ranked in order)."""
    return lead_text(answer_to(question, chunks, subjects=subjects, measure=measure), 1)


@pytest.mark.parametrize(
    ("question", "subjects", "names"),
    [
        ("How much do potters earn in Peru?", ["potter"], ("Peru",)),
        (
            "What do AI/ML engineers earn at Acme and in the United Kingdom?",
            ["AI/ML engineer"],
            ("Acme", "United Kingdom"),
        ),
        ("How much do AI architects earn?", ["AI architect"], ()),  # "AI" is a word of the subject
        ("Peru: what do potters earn?", ["potter"], ()),  # a word opening a sentence is capitalised anyway
    ],
)
def test_asked_names(question, subjects, names):
    assert asked_names(question, subjects) == names


@pytest.mark.parametrize(
    ("question", "contrast"),
    [
        ("How much more does a potter earn than a glazier?", True),
        ("How many fewer hours do glaziers work?", True),
        ("Which pays more, pottery or glazing?", False),  # which one, not by how much
        ("How much does a potter earn?", False),
    ],
)
def test_contrast_is_asking_the_size_of_a_difference(question, contrast):
    assert detect_intent(question).contrast is contrast


POTTERS = chunk("Potters earn $30,000 a year on average. Most potters work alone in small studios.", n=0)


def test_a_figure_for_the_asked_place_leads():
    peru = chunk("Potters there earn $12,000 a year.", title="Pottery", section="Pay in Peru", n=1)
    assert "$12,000" in first_line("How much do potters earn in Peru?", [POTTERS, peru])


def test_a_figure_of_another_kind_for_the_asked_place_follows_the_best_figure():
    uk = chunk("Senior potters in the UK earn £40,000 a year. Juniors earn £22,000 a year.", n=0)
    leeds = chunk("Leeds potters usually sit about 10 to 20 percent above these figures.", n=1)
    question = "What do potters earn in Leeds?"
    measure = lambda t: "currency" if "earn" in t else None  # noqa: E731
    answer = answer_to(question, [uk, leeds], measure=measure)
    assert "£40,000" in lead_text(answer, 1) and "10 to 20 percent" in lead_text(answer, 2)


def test_how_much_more_is_answered_by_the_figure_of_the_difference():
    both = chunk("Glaziers earn $35,000 a year and potters earn $30,000 a year.", n=0)
    gap = chunk("Glaziers take home $5,000 more each year.", n=1)
    assert "$5,000 more" in first_line("How much more do glaziers earn than potters?", [both, gap])


def test_the_asked_kind_of_figure_leads_even_when_another_kind_scores_higher():
    share = chunk("Potters earn 20% more in cities.", n=0)  # scores higher: it shares the question's words
    pay = chunk("The typical yearly income is $30,000 in total.", n=1)
    line = first_line("What do potters earn?", [share, pay], measure=lambda t: "currency" if "earn" in t else None)
    assert "$30,000" in line


@pytest.mark.parametrize(
    ("question", "comparison"),
    [
        ("What separates a potter from a glazier?", True),
        ("Potter or glazier: which one suits a night owl?", True),
        ("Can a potter move into glazing work as a glazier?", False),  # a path from one to the other
        ("How does a potter get to be a glazier?", False),
    ],
)
def test_comparison_is_two_sides_set_against_each_other_not_a_move(question, comparison):
    def subjects(text: str) -> list[str]:
        return [s for s in ("potter", "glazier") if s in text.lower()]

    assert detect_intent(question, subjects).comparison is comparison


def test_a_comparison_opens_with_a_sentence_about_each_side():
    def subjects(text: str) -> list[str]:
        return [s for s in ("potter", "glazier") if s in text.lower()]

    potters = chunk(
        "A potter shapes clay on a wheel all day. A potter fires the pots in a kiln overnight. "
        "A potter sells the pots at weekend markets.",
        n=0,
    )
    glaziers = chunk("A glazier cuts and fits window glass on building sites.", n=1)
    question = "What separates a potter from a glazier?"
    answer = answer_to(question, [potters, glaziers], subjects=subjects)
    lead = lead_text(answer, 2)
    assert "potter" in lead and "glazier" in lead


def test_a_comparison_opens_with_its_best_sentence_though_another_names_both_sides():
    def subjects(text: str) -> list[str]:
        return [s for s in ("potter", "glazier") if s in text.lower()]

    chunks = [
        chunk("Glaziers differ in hours at the wheel: none. Potters and glaziers are two crafts.", n=0),
        chunk("Potters throw clay.", n=1),
    ]
    question = "How do potters and glaziers differ in hours at the wheel?"
    answer = answer_to(question, chunks, subjects=subjects)
    assert lead_text(answer, 1).lstrip("- ").startswith("Glaziers differ in hours at the wheel")
    assert "potter" in lead_text(answer, 2).lower()  # the other side follows


def test_an_answer_quotes_two_sentences_even_when_one_scores_far_above_the_rest():
    question = "What does a potter do at the wheel?"
    chunks = [
        chunk("What a potter does at the wheel: a potter does shaping. Kilns need careful upkeep over the years.")
    ]
    answer = answer_to(question, chunks)
    assert answer.count("[1]") == 2


def test_a_yes_no_question_opens_with_the_documents_own_yes_and_its_reason():
    question = "Do potters need their own kilns?"
    chunks = [
        chunk("Potters need patience and their own clay.", n=0),  # scores above the "Yes" alone
        chunk(
            "Do potters need their own kilns? Yes, most potters do. Renting kiln space at a shared studio "
            "works too. Glazes come in many colours and finishes.",
            n=1,
        ),
    ]
    answer = answer_to(question, chunks)
    lead = lead_text(answer, 2)
    assert lead.lstrip("- ").startswith("Yes, most potters do [2]") and "Renting kiln space" in lead


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        (
            "Common gaps:\n- Working alone.\n- Skipping the docs.",
            {"Working alone.": "Common gaps", "Skipping the docs.": "Common gaps"},
        ),
        ("- One item.\n- Two items.", {"One item.": "Tasks", "Two items.": "Tasks"}),  # no label line: the heading
        (
            "Daily tasks:\n- Wedging clay.\n- Cleaning up.\n\nusing tools such as:\n- Wires.\n- Ribs.",
            {
                "Wedging clay.": "Daily tasks",
                "Cleaning up.": "Daily tasks",
                "Wires.": "using tools such as",
                "Ribs.": "using tools such as",
            },
        ),
        ("No list here. Just sentences.", {}),
    ],
)
def test_item_labels(text, labels):
    assert item_labels(text, "Pottery > Tasks") == labels


def test_a_list_item_is_found_by_the_words_of_its_lists_label():
    question = "What does a potter commonly get wrong?"
    text = (
        "Daily work:\n- Wedging the clay before every session at the wheel.\n- Cleaning up after the last pot.\n\n"
        "Common gaps:\n- Potters mix glazes without weighing them.\n- Selling pots too cheaply at markets."
    )
    chunks = [chunk(text, section="Potters", n=0)]
    answer = answer_to(question, chunks)
    assert lead_text(answer, 1).lstrip("- ").startswith("Potters mix glazes")


@pytest.mark.parametrize(
    ("text", "nouns", "listed"),
    [
        ("These tools appear in every studio: wheels, ribs, wires, kilns.", ("tools",), True),
        ("Tools: wheels and ribs.", ("tools",), False),  # two items are no list
        ("Potters buy tools: clay is cheap, glazes cost more, kilns cost most.", ("skills",), False),  # not asked
        ("These tools appear in every studio, with wheels, ribs and wires.", ("tools",), False),  # no colon
    ],
)
def test_lists_in_line(text, nouns, listed):
    assert lists_in_line(text, nouns) is listed


def test_a_which_x_question_opens_with_the_sentence_listing_x():
    question = "Which tools do potters use most?"
    chunks = [
        chunk("Potters use kilns to fire pots.", n=0),
        chunk("These tools appear in every studio: wheels, ribs, wires, kilns.", n=1),
    ]
    answer = answer_to(question, chunks)
    assert lead_text(answer, 1).lstrip("- ").startswith("These tools appear")


@pytest.mark.parametrize(
    ("question", "framing"),
    [
        ("I love shaping clay and hate kilns. Should I become a potter?", "For what you told me"),
        ("Should I learn glazing or throwing first?", "What decides it, in the sources"),  # nothing told
    ],
)
def test_a_decision_speaks_of_what_the_person_told_only_when_they_told_something(question, framing):
    chunks = [
        chunk("If you love shaping clay, become a potter. Choose glazing first if you want quick results."),
        chunk("Potters fire kilns twice a week. Throwing takes years to master."),
    ]
    answer = answer_to(question, chunks)
    assert answer.startswith(framing)
    assert framing == "For what you told me" or "you did not mention" not in answer


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("I love clay, but I want a big paycheck. Is pottery a smart move?", "Pay is modest"),
        ("I love clay and I want a big studio. Is pottery a smart move?", "Potters shape clay"),
    ],
)
def test_a_decision_whose_person_wants_money_most_leads_with_what_the_sources_say_of_pay(question, lead):
    chunks = [
        chunk("Potters shape clay in studios.", n=0),
        chunk("Pay is modest compared with the years of training.", n=1),
    ]
    assert lead in lead_text(answer_to(question, chunks), 1)


def test_what_speaks_to_something_the_person_said_is_not_listed_as_what_they_did_not_mention():
    chunks = [
        chunk("If you love shaping clay, become a potter. Choose glazing first if you want quick results."),
        chunk(
            "Every potter should love clay and fire the kilns each week. "
            "Every potter should love clay and sell at markets.",
            n=1,
        ),
    ]
    question = "I love shaping clay and I hate kilns. Should I become a potter?"
    answer = answer_to(question, chunks)
    decides, _, unmentioned = answer.partition("which you did not mention")
    assert "fire the kilns" in decides and "kilns" not in unmentioned  # they said they hate kilns


def test_the_row_whose_range_holds_the_asked_number_leads_even_when_no_figure_word_is_known():
    """ "Four years in" is the "3-5 Years" row, not the 5-8 one, though "make" names no kind of figure."""
    rows = [
        chunk("Potter Pay: 5-8 Years — Pay Range: ₹25–45 LPA in Peru for studio potters", section="Pay", n=0),
        chunk("Potter Pay: 3-5 Years — Pay Range: ₹15–30 LPA in Peru for studio potters", section="Pay", n=1),
    ]
    assert "3-5 Years" in first_line("What does a potter in Peru make around four years in?", rows)


def test_a_yes_no_question_opens_with_the_answer_to_the_faq_question_like_it_even_when_another_scores_higher():
    """The documents' own answer to the question asked leads, though a sentence sharing its words scores higher."""
    question = "Can a glazier become a master potter later on?"
    chunks = [
        chunk("A glazier can become a master potter later on in a studio.", n=0),
        chunk("Can a glazier become a potter? Absolutely. Glazing skills carry over to the studio well.", n=1),
    ]
    assert "Glazing skills carry over" in first_line(question, chunks)


def test_the_figure_of_the_asked_statistic_leads():
    """ "The median pay" is answered by the median, not by a range that shares more of the question's words."""
    chunks = [
        chunk("Potters in big studios earn $30,000 to $50,000.", n=0),
        chunk("The median is $41,000 for potters.", n=1),
    ]
    line = first_line("What's the median pay for potters in big studios?", chunks)
    assert "$41,000" in line


def test_a_bare_figure_opening_a_step_answers_how_long_the_step_takes():
    """ "3-6 months" alone under "1. Learn Clay Basics" is what that step takes: quoted, not skipped as too short."""
    chunks = [
        chunk("3-6 months\n\nLearn to wedge and centre clay at the wheel.", section="Path > 1. Learn Clay Basics", n=0),
        chunk("Potters train for many years before they sell their work.", n=1),
    ]
    question = "How long does the clay basics step take?"
    answer = answer_to(question, chunks)
    assert "3-6 months [1]" in lead_text(answer, 2)


def test_the_sellers_answer_to_the_faq_question_asked_is_quoted_though_set_aside():
    """A passage set aside as the author's offer still answers the FAQ question the person asked in other words."""
    question = "Can I take the pottery course while keeping a day job?"
    chunks = [
        chunk("Potters who keep a day job take the pottery course at weekends, and many of them love it.", n=0),
        replace(
            chunk(
                "Yes, most students do. Sessions run one evening a week.",
                section="FAQ > Can I do this while working a day job?",
                n=1,
            ),
            set_aside=AUTHOR,
        ),
    ]
    answer = answer_to(question, chunks)
    assert "Yes, most students do [2]" in lead_text(answer, 2)


@pytest.mark.parametrize(("source", "quoted"), [("corpus/acme.md", True), ("corpus/other-seller.md", False)])
def test_a_sellers_words_are_quoted_for_a_named_offer_only_from_the_document_that_names_it(source, quoted):
    """Another seller's "It probably isn't worth it" is not said of the Acme class the person asks about."""
    question = "Is the Acme pottery class worth paying for, in my case?"
    chunks = [
        chunk("The Acme pottery class runs for eight weeks with weekly critiques.", source="corpus/acme.md", n=0),
        replace(
            chunk(
                "It probably isn't worth paying for, in your case; hold the money.",
                source=source,
                section="FAQ > Is the pottery class worth paying for?",
                n=1,
            ),
            set_aside=AUTHOR,
        ),
    ]
    answer = answer_to(question, chunks)
    assert ("hold the money" in answer) == quoted, answer


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        (  # names on their own lines, each followed by a line describing it: a list without bullets
            "Kiln Safety Certificate (KSC)\n\nKSC is the usual first credential for potters.\n\n"
            "Advanced Glazing [AG-2]\n\nAG-2 is respected by studios that sell glazed ware.\n\n"
            "Wheel Throwing Diploma\n\nThe diploma takes a year of evening classes.",
            ("Kiln Safety Certificate (KSC)", "Advanced Glazing [AG-2]", "Wheel Throwing Diploma"),
        ),
        # prose paragraphs are no list
        ("Potters shape clay.\n\nThey fire it in kilns.\n\nMost sell at markets.", ()),
    ],
)
def test_titled_items(text, titles):
    assert titled_items(text) == titles
    assert [b.items for b in list_blocks(text, "Certificates")] == ([titles] if titles else [])


def test_two_titled_pairs_are_no_list():
    text = "Kiln Safety\n\nKSC is the usual first credential.\n\nGlazing\n\nAG-2 is respected by studios."
    assert list_blocks(text, "Certificates") == []


CERTIFICATES = (
    "Kiln Safety Certificate (KSC): Potters' Guild\n\nValidates safe firing of gas and electric kilns.\n\n"
    "Advanced Glazing [AG-2]: Glaze Council\n\nAG-2 is respected by studios that sell tableware.\n\n"
    "Wheel Throwing Diploma: Clay Institute\n\nCertifies skills in throwing, trimming and finishing large forms."
)


def test_a_describing_line_is_quoted_with_its_title():
    """Round 11 (dev fr10-13, fr4-22, fr6-25, fr8-16): "Certifies skills in …" was quoted without the name of the
    certificate it describes, and the question asking which one (or who issues it) got no name."""
    assert titled_pairs(CERTIFICATES)["Validates safe firing of gas and electric kilns."] == (
        "Kiln Safety Certificate (KSC): Potters' Guild"
    )
    answer = answer_to("Which certificate proves I can fire kilns safely?", [chunk(CERTIFICATES, section="Certs")])
    assert "Kiln Safety Certificate (KSC): Potters' Guild — Validates safe firing" in answer
    answer = answer_to("Who awards the AG-2?", [chunk(CERTIFICATES)])
    assert "Advanced Glazing [AG-2]: Glaze Council — AG-2 is respected" in answer  # the title says who awards it
    prose = "Kiln safety matters.\n\nPotters fire gas and electric kilns safely every week."
    assert "—" not in answer_to("Do potters fire kilns safely?", [chunk(prose)])  # no titled pairs, no title


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Starting pay is commonly 40 to 50 percent of a fully qualified glazier's hourly rate.", True),
        ("Trainees earn 60% of the journeyman wage.", True),
        ("Potters typically earn 20-40% more than glaziers.", False),  # a difference, not a share of pay
        ("About 40 percent of glaziers are self-employed.", False),  # a share of people
    ],
)
def test_a_share_of_pay_answers_a_money_question(text, expected):
    from advisor.answer.compose.candidates import share_of_pay
    from advisor.quantities import figure_kind

    assert share_of_pay(text, figure_kind(text), "currency") is expected
    assert not share_of_pay(text, figure_kind(text), "duration")


def test_an_apprentices_pay_as_a_share_of_the_qualified_rate_is_quoted_for_what_trainees_are_paid():
    chunks = [
        chunk("Trainee glaziers train for 4 years under a qualified glazier.", section="Training"),
        chunk("Starting pay is commonly 40 to 50 percent of a qualified glazier's hourly rate.", section="Pay", n=1),
    ]
    answer = answer_to("What do trainee glaziers get paid at first?", chunks)
    assert "40 to 50 percent" in lead_text(answer, 1)


def test_a_decision_asks_for_what_the_faq_question_it_quotes_turns_on():
    """The verdict quotes the answer to "… without a degree?": whether the person has one would change it."""
    chunks = [
        chunk(
            "Can I become a potter without a pottery degree? Yes, but the path is longer and takes more studio hours.",
            section="Frequently Asked Questions",
        )
    ]
    answer = answer_to("I love clay and I have 3 years in a studio. Should I become a potter?", chunks)
    assert "path is longer" in answer and answer.rstrip().endswith("what your background is?")


def test_a_comparison_leads_with_the_sentence_using_the_words_of_what_is_compared():
    """ "job openings" and "open positions" share the stem "open": the line naming both subjects does not lead."""
    from support.fakes import FakeEmbedder

    chunks = [
        chunk("Potters or glaziers differ in many ways.", section="A"),
        chunk("Across 900 listings, glaziers hold 400 open positions.", section="B", n=1),
    ]
    subjects = lambda text: [s for s in ("potter", "glazier") if s in text.lower()]  # noqa: E731
    answer = answer_to(
        "Do potters or glaziers have more job openings?", chunks, subjects=subjects, embed=FakeEmbedder().embed_batch
    )
    assert "open positions" in lead_text(answer, 1)


@pytest.mark.parametrize(
    ("text", "unit", "states"),
    [
        ("Candidates study around 300 hours for each exam.", "hour", True),
        ("Reaching Fellowship takes seven to ten years.", "hour", False),
        ("Reaching Fellowship takes seven to ten years.", "year", True),
        ("Office hours are predictable.", "hour", False),  # no figure
        ("Candidates study around 300 hours.", "", False),
    ],
)
def test_states_unit(text, unit, states):
    from advisor.answer.compose.candidates import states_unit

    assert states_unit(text, unit) is states


def test_how_many_hours_is_answered_by_the_figure_in_hours_also_in_a_sentence_with_a_percentage():
    chunks = [
        chunk("Reaching Fellowship in glazing usually takes seven to ten years.", section="Exams"),
        chunk(
            "Pass rates sit between 40 and 50 percent, and candidates commonly study 300 hours for each exam.",
            section="Exams",
            n=1,
        ),
    ]
    assert detect_intent("How many hours do people study for each glazing exam?").unit == "hour"
    assert "300 hours" in first_line("How many hours do people study for each glazing exam?", chunks)


def test_a_number_plus_asks_for_the_row_from_that_number_up():
    """Round 11 (dev fr10-05): "with 12+ yrs" led with the "8-12 Years" row, which holds 12 too."""
    chunks = [
        chunk("Potters with 8-12 years earn ₹50–90 LPA.", section="Pay"),
        chunk("Potters with 12+ years earn ₹80 LPA–₹1.5 Crore+.", section="Pay", n=1),
    ]
    assert "₹1.5 Crore" in first_line("What do potters make with 12+ yrs?", chunks)
    assert "₹50–90" in first_line("What do potters make with 10-12 years?", chunks)


def test_how_many_is_answered_by_a_count_written_in_words():
    """Round 11 (dev fr5-oc-16): a row of the asked level's years and pay led "how many projects …?", because only a
    sentence with digits counted as a figure; "three or four case studies" is the count."""
    chunks = [
        chunk("Junior glazier: typical experience 0-2 years; typical pay £28,000 to £35,000.", section="Levels"),
        chunk("A strong junior glazing portfolio holds three or four finished projects.", section="Portfolio", n=1),
    ]
    question = "How many projects should a junior glazing portfolio hold?"
    assert "three or four" in first_line(question, chunks)
    for share in ("One of the best ways in is", "Two of the best ways in are"):  # "one of", "two of" count nothing
        one = [chunks[0], chunk(f"{share} a strong junior glazing portfolio of projects.", n=1)]
        assert "£28,000" in first_line(question, one)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Glaziers earn $40,000 a year.", "currency"),
        ("It's a four-figure investment we discuss on a call.", "currency"),  # an amount by its digits
        ("About 40 percent of glaziers work alone.", "percent"),
        ("The course lasts four weeks.", "duration"),
        ("A figure-skating rink.", None),
    ],
)
def test_figure_kind(text, kind):
    from advisor.quantities import figure_kind

    assert figure_kind(text) == kind


def test_a_price_question_leads_with_the_price():
    chunks = [
        chunk("Code reviews from the teacher run through the glazing course.", section="What you get"),
        chunk("It's a four-figure investment that we discuss on a call.", section="FAQ", n=1),
    ]
    assert detect_intent("What does the glazing course cost?").figure == "currency"
    assert "four-figure" in first_line("What does the glazing course cost?", chunks)


def test_a_list_speaking_to_more_of_what_the_person_said_than_the_first_sentence_keeps_its_place():
    chunks = [
        chunk(
            "Choose Pottery If You Enjoy:\n- Business discussions\n- Strategic thinking\n- Cloud platforms",
            section="Fit",
        ),
        chunk(
            "Stay a glazier if you like clay and business. Typically after 5-8 years, potters move up.",
            section="B",
            n=1,
        ),
    ]
    question = (
        "I like business conversations and strategy, and I enjoy cloud platforms. I have 2 years. Which path fits me?"
    )
    assert "Under “Choose Pottery If You Enjoy”" in answer_to(question, chunks).split("\n\n")[0]
