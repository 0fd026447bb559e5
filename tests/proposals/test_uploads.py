"""Documents: checked by content and size, stored outside the web root, served only to those allowed."""

from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.proposals.models import Attachment, Proposal


@pytest.fixture
def draft(app):
    with app.app_context():
        call = f.call()
        anna = f.applicant()
        f.applicant("bob@other.lu", "Other S.A.")
        f.staff("reviewer")
        proposal = f.draft(call, anna)
        db.session.commit()
        return proposal.id


def upload(web, proposal_id, content: bytes, filename: str, kind="business_plan", app=None):
    with app.app_context():
        version = db.session.get(Proposal, proposal_id).version
    response = web.post(
        f"/proposals/{proposal_id}/documents",
        {"kind": kind, "version": version, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    # The test client spools large bodies to a temporary file; close it here, not at collection.
    response.request.environ["wsgi.input"].close()
    return response


def stored(app, proposal_id):
    with app.app_context():
        return list(
            db.session.scalars(sa.select(Attachment).where(Attachment.proposal_id == proposal_id))
        )


def files_on_disk(app) -> list[str]:
    root = app.config["UPLOAD_FOLDER"]
    return (
        [name for _d, _s, names in os.walk(root) for name in names] if os.path.isdir(root) else []
    )


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (f.PDF_BYTES, "plan.pdf"),
        (f.docx_bytes(), "plan.docx"),
        (f.xlsx_bytes(), "budget.xlsx"),
        (f.PNG_BYTES, "letter.png"),
        (f.jpeg_bytes(), "scan.JPG"),
        (f.odt_bytes(), "plan.odt"),
    ],
)
def test_accepted_types_are_stored_with_their_checksum(app, client, draft, content, filename):
    web = Web(client)
    web.login("anna@company.lu")
    response = upload(web, draft, content, filename, app=app)
    assert response.status_code == 302
    [attachment] = stored(app, draft)
    assert attachment.filename == filename
    assert attachment.size_bytes == len(content)
    assert len(attachment.sha256) == 64
    assert attachment.stored_name != filename and "." not in attachment.stored_name
    assert files_on_disk(app) == [attachment.stored_name]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"MZ\x90\x00 this is a program", "plan.pdf", "not one of the accepted types"),
        (b"<html><script>alert(1)</script></html>", "plan.pdf", "not one of the accepted types"),
        (f.PDF_BYTES, "plan.docx", "its content is PDF"),
        (b"PK\x03\x04 not really a zip", "plan.docx", "not one of the accepted types"),
        (b"", "empty.pdf", "The file is empty."),
        (b"%PDF-" + b"0" * (1024 * 1024), "huge.pdf", "larger than the 1 MB a document may have"),
        # More than the first bytes: a 3-byte "JPEG", images that do not decode.
        (b"\xff\xd8\xff", "scan.jpg", "cannot be read"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "scan.jpg", "cannot be read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "letter.png", "cannot be read"),
        # Polyglots: a PNG with a ZIP after its end, a PDF that is also a web page or a ZIP.
        (f.PNG_BYTES + f.zip_of({"payload.txt": "x"}), "letter.png", "also a ZIP archive"),
        (f.PNG_BYTES + b"trailing", "letter.png", "hidden after its end"),
        (
            b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n",
            "plan.pdf",
            "web-page or script content",
        ),
        (f.PDF_BYTES + f.zip_of({"payload.txt": "x"}), "plan.pdf", "also a ZIP archive"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\n", "plan.pdf", "lacks its header or its end marker"),
        # Macros: a .docm renamed .docx, a VBA project hidden in an XLSX, ODF Basic macros.
        (f.docm_bytes(), "plan.docx", "contains macros"),
        (f.xlsx_with_macros_bytes(), "budget.xlsx", "contains macros"),
        (f.odt_bytes({"Basic/Standard/Module1.xml": "<script/>"}), "plan.odt", "macros or scripts"),
        (
            f.zip_of({"[Content_Types].xml": "<Types/>", "word/document.xml": "<d/>"}),
            "plan.docx",
            "not a plain Word",
        ),
    ],
)
def test_refused_files_leave_nothing_behind(app, client, draft, content, filename, message):
    web = Web(client)
    web.login("anna@company.lu")
    response = upload(web, draft, content, filename, app=app)
    assert response.status_code == 422
    assert message in text(response)
    assert stored(app, draft) == []
    assert files_on_disk(app) == []


def test_a_request_over_the_size_limit_comes_back_to_the_form(app, client, draft):
    web = Web(client)
    web.login("anna@company.lu")
    response = upload(web, draft, b"%PDF-" + b"0" * (3 * 1024 * 1024), "huge.pdf", app=app)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/proposals/{draft}/documents")
    page = text(web.get(response.headers["Location"]))
    assert "Each document may have at most 1 MB" in page
    assert stored(app, draft) == []


def test_a_file_over_the_limit_is_named_at_its_field_and_the_rest_is_kept(app, client, draft):
    web = Web(client)
    web.login("anna@company.lu")
    response = upload(
        web,
        draft,
        b"%PDF-" + b"0" * (1024 * 1024 + 10),
        "annual-report.pdf",
        kind="budget_sheet",
        app=app,
    )
    assert response.status_code == 422
    page = text(response)
    assert "“annual-report.pdf” is larger than the 1 MB a document may have." in page
    assert 'id="file-error"' in page  # next to the file field, for screen readers too
    assert '<option selected value="budget_sheet">' in page  # the kind chosen is kept
    assert stored(app, draft) == [] and files_on_disk(app) == []


def test_downloads_are_attachments_for_those_who_may_see_the_proposal(app, client, draft):
    web = Web(client)
    web.login("anna@company.lu")
    upload(web, draft, f.PDF_BYTES, "plan.pdf", app=app)
    [attachment] = stored(app, draft)
    url = f"/proposals/{draft}/documents/{attachment.id}"
    response = web.get(url)
    assert response.status_code == 200
    assert response.data == f.PDF_BYTES
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
    response.close()

    other = Web(app.test_client())
    other.login("bob@other.lu")
    assert other.get(url).status_code == 404
    # A document id of this proposal under another proposal's id is not found either.
    assert other.get(f"/proposals/{draft + 1}/documents/{attachment.id}").status_code == 404

    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    assert reviewer.get(url).status_code == 404  # staff do not see drafts

    anonymous = app.test_client()
    assert anonymous.get(url).status_code == 302


def test_removing_a_document_deletes_its_file(app, client, draft):
    web = Web(client)
    web.login("anna@company.lu")
    upload(web, draft, f.PDF_BYTES, "plan.pdf", app=app)
    [attachment] = stored(app, draft)
    with app.app_context():
        version = db.session.get(Proposal, draft).version
    response = web.post(
        f"/proposals/{draft}/documents/{attachment.id}/delete", {"version": version}
    )
    assert response.status_code == 302
    assert stored(app, draft) == []
    assert files_on_disk(app) == []


def test_the_limits_are_stated_on_the_form(app, client, draft):
    web = Web(client)
    web.login("anna@company.lu")
    page = text(web.get(f"/proposals/{draft}/documents"))
    assert "at most 1 MB each" in page
    assert "PDF" in page and "DOCX" in page and "JPEG" in page
    assert 'accept=".pdf,.docx,.xlsx,.odt,.ods,.png,.jpg,.jpeg"' in page


def test_an_answer_with_a_refused_document_is_not_sent_and_leaves_no_file(app, client):
    with app.app_context():
        people = f.team()
        owner = f.applicant("carla@answer.lu", "Answer S.A.")
        proposal = f.bring_to("screening", f.call(), owner, people)
        f.take(proposal, "request_information", people["reviewer"])
        db.session.commit()
        proposal_id, version = proposal.id, proposal.version
        before = len(proposal.attachments)
    web = Web(client)
    web.login("carla@answer.lu")
    response = web.post(
        f"/proposals/{proposal_id}/respond",
        {
            "version": version,
            "reason": "Here they are.",
            "files": [
                (io.BytesIO(f.PDF_BYTES), "accounts.pdf"),
                (io.BytesIO(b"MZ\x90 program"), "more.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not one of the accepted types" in text(response)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "info_requested"
        assert len(proposal.attachments) == before
    stored = set(files_on_disk(app))
    with app.app_context():
        kept = {a.stored_name for a in db.session.get(Proposal, proposal_id).attachments}
    assert stored == kept  # the accepted file of the refused answer was removed again
