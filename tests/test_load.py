import zlib

from conftest import CORPUS

from advisor.ingest.load import load_corpus, load_document


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
