import zlib

import pytest
from support.corpus import CORPUS

from advisor.ingest.load import escape_unclosed, load_corpus, load_document


def minimal_pdf(text: str, title: str = "A PDF guide") -> bytes:
    """A one-page PDF with real text content, written per the PDF 1.4 spec (test data only)."""
    stream = zlib.compress(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (%s) >>" % title.encode(),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_real_corpus_has_front_matter():
    docs, warnings = load_corpus(CORPUS)
    assert warnings == []
    assert len(docs) == 5
    for d in docs:
        assert d.source.startswith("corpus/") and d.source.endswith(".md")
        assert d.meta["kind"] in {"article", "guide", "career-ladder", "comparison"}
        assert d.title and not d.text.startswith("---")
    assert {d.meta.get("publisher") for d in docs} >= {"K21 Academy", "Edirae"}


def test_markdown_front_matter(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("---\ntitle: Hello\nkind: guide\n---\n\n# Hello\n\nBody text here.\n")
    d = load_document(p, "corpus/a.md")
    assert d.title == "Hello" and d.meta["kind"] == "guide" and "Body text here." in d.text


def test_plain_text_title_from_name(tmp_path):
    p = tmp_path / "career_notes.txt"
    p.write_text("Some notes about staff engineers.\n")
    d = load_document(p, "corpus/career_notes.txt")
    assert d.title == "Career notes" and d.text == "Some notes about staff engineers."


def test_html_keeps_structure_and_drops_scripts(tmp_path):
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>Architect FAQ</title><script>alert(1)</script></head><body>"
        "<h2>Do architects code?</h2><p>Less than engineers, but yes.</p>"
        "<script>steal()</script><ul><li>Prototypes</li></ul></body></html>"
    )
    d = load_document(p, "corpus/page.html")
    assert d.title == "Architect FAQ"
    assert "## Do architects code?" in d.text and "Less than engineers, but yes." in d.text
    assert "alert" not in d.text and "steal" not in d.text
    assert "Prototypes" in d.text


def test_pdf_text_and_title(tmp_path):
    p = tmp_path / "guide.pdf"
    p.write_bytes(minimal_pdf("Principal architects shape strategy."))
    d = load_document(p, "corpus/guide.pdf")
    assert "Principal architects shape strategy." in d.text
    assert d.title == "A PDF guide"


def test_unreadable_files_are_skipped_with_a_named_warning(tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\nStaff engineers lead domains.\n")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "empty.md").write_text("---\ntitle: Empty\n---\n")
    (tmp_path / "notes.docx").write_text("ignored format")
    docs, warnings = load_corpus(tmp_path)
    assert [d.source for d in docs] == [f"{tmp_path.name}/good.md"]
    assert len(warnings) == 3
    for name in ("broken.pdf", "latin1.txt", "empty.md"):
        assert any(name in w for w in warnings), (name, warnings)


# -- hostile corpora (issue 9, points 7, 8 and 10) -------------------------------------------------------------
def test_links_out_of_the_corpus_are_never_followed(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.md").write_text("# Good\n\nStaff engineers lead domains.\n")
    (corpus / "inside.md").symlink_to(corpus / "good.md")  # a link within the corpus is fine
    (corpus / "x.md").symlink_to("/etc/passwd")
    (corpus / "sub" / "up.txt").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "outside.txt").write_text("outside text")
    (corpus / "root").symlink_to("/", target_is_directory=True)  # never walked into
    docs, warnings = load_corpus(corpus)
    assert [d.source for d in docs] == ["corpus/good.md", "corpus/inside.md"]
    assert warnings == [
        "skipped corpus/sub/up.txt: symbolic link to "
        + str((tmp_path / "outside.txt").resolve())
        + ", outside corpus/",
        "skipped corpus/x.md: symbolic link to /etc/passwd, outside corpus/",
    ]


def test_a_corpus_dir_that_is_itself_a_link_still_loads(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.md").write_text("# A\n\nArchitects design systems.\n")
    (tmp_path / "corpus").symlink_to(tmp_path / "real", target_is_directory=True)
    docs, warnings = load_corpus(tmp_path / "corpus")
    assert [d.source for d in docs] == ["corpus/a.md"] and warnings == []


def test_files_over_the_size_limit_are_skipped_before_reading(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"word " * 300_000)  # 1.4 MB
    (tmp_path / "small.md").write_text("# Small\n\nPrincipal engineers set direction.\n")
    docs, warnings = load_corpus(tmp_path, max_file_mb=1)
    assert [d.source.split("/")[-1] for d in docs] == ["small.md"]
    assert len(warnings) == 1 and "big.txt" in warnings[0] and "over the 1 MB limit" in warnings[0]
    docs, warnings = load_corpus(tmp_path, max_file_mb=0)  # 0: no limit
    assert len(docs) == 2 and warnings == []


def test_skip_warnings_are_one_line_each(tmp_path):
    (tmp_path / "bad.html").write_bytes(b"\xff\xfe<html>")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog\n\n\n")
    _, warnings = load_corpus(tmp_path)
    assert len(warnings) == 2 and all("\n" not in w and "\r" not in w for w in warnings)


def test_front_matter_aliases_cannot_blow_up(tmp_path):
    """'Billion laughs': nested YAML aliases would print as gigabytes; nested values are dropped."""
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    p = tmp_path / "laughs.md"
    p.write_text("---\n" + "\n".join(levels) + "\ntitle: Laughs\ntags: [ai, careers]\n---\n# Laughs\n\nBody text.\n")
    d = load_document(p, "corpus/laughs.md")
    assert d.title == "Laughs" and d.meta["tags"] == "ai, careers" and "i" not in d.meta
    assert sum(len(v) for v in d.meta.values()) < 1000


@pytest.mark.parametrize(
    ("html", "escaped"),
    [
        ("<a<a", "&lt;a&lt;a"),  # no ">" closes either: no tag starts here
        ("x < y and <b>bold</b>", "x &lt; y and <b>bold</b>"),
        ("<p>a</p>", "<p>a</p>"),
        ("a<", "a&lt;"),
        ("<!-- c -->", "<!-- c -->"),
        ('<a href="x">y</a> 3 < 4', '<a href="x">y</a> 3 &lt; 4'),
    ],
)
def test_escape_unclosed(html, escaped):
    assert escape_unclosed(html) == escaped


def test_an_html_file_of_unclosed_tags_loads_as_its_text(tmp_path):
    """Found by the any-file test: 40,000 "<a " in an .html file kept Python's html.parser busy for minutes
    (it rescans the rest of the file for each unclosed "<"); `make test` hung on it."""
    (tmp_path / "doc.html").write_text("<a " * 40_000)
    docs, warnings = load_corpus(tmp_path)
    assert not warnings and docs[0].text.count("<a") == 40_000
