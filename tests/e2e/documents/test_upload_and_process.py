"""Real PDF, DOCX, PPTX, TXT and Markdown files from create-upload to ready through the
local stack: signed-URL PUT to the storage emulator, the bridge's Eventarc event,
process-upload, then the document's status, counts and the stored chunks."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.conftest import need_env
from tests.e2e.documents.conftest import Client, Storage
from tests.unit.documents import samples

pytestmark = pytest.mark.stack


def chunks_of(firestore_db: Any, uid: str, doc_id: str) -> list[dict[str, Any]]:
    col = firestore_db.collection("users").document(uid).collection("documents").document(doc_id).collection("chunks")
    return [s.to_dict() for s in col.order_by("index").stream()]


def test_signed_url_is_bound_to_method_type_size_and_expiry(client: Client, storage: Storage) -> None:
    before = datetime.now(UTC)
    created = client.create("Notes.pdf", samples.PDF, 1234)
    doc, upload = created["document"], created["upload"]
    assert doc["status"] == "awaiting_upload"
    assert doc["progress"] == 0
    assert upload["method"] == "PUT"
    assert upload["headers"] == {
        "Content-Type": "application/pdf",
        "x-goog-content-length-range": "1234,1234",
        "x-goog-if-generation-match": "0",
    }
    url = urlparse(upload["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == f"/{storage.bucket}/users/{client.user.uid}/documents/{doc['id']}/Notes.pdf"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "900"  # 15 minutes: the URL is refused after that
    assert query["X-Goog-SignedHeaders"] == "content-type;host;x-goog-content-length-range;x-goog-if-generation-match"
    signed_at = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((signed_at - before).total_seconds()) < 60
    expires = datetime.fromisoformat(upload["expiresAt"].replace("Z", "+00:00"))
    assert 899 <= (expires - signed_at).total_seconds() <= 901
    assert len(query["X-Goog-Signature"]) == 512  # RSA-2048, hex


def xml_code(response: requests.Response) -> str:
    match = re.search(r"<Code>([^<]+)</Code>", response.text)
    return match.group(1) if match else f"(no XML error: {response.status_code} {response.text[:200]})"


def test_a_signed_put_is_refused_where_storage_refuses_it(client: Client, storage: Storage) -> None:
    """Real PUTs of create-upload's URL through the stack's storage front, which checks V4
    signatures, signed headers, the length range and the generation precondition as GCS does."""
    data = b"Photosynthesis turns light into chemical energy. " * 20
    created = client.create("bio.txt", samples.TXT, len(data))
    upload, doc_id = created["upload"], created["document"]["id"]
    url, headers = upload["url"], upload["headers"]
    name = urlparse(url).path.split("/", 2)[2]

    def put(body: bytes, url: str = url, **changes: str | None) -> requests.Response:
        sent = {k: v for k, v in {**headers, **changes}.items() if v is not None}
        response = requests.put(url, data=body, headers=sent, timeout=30)
        print(f"PUT {changes or ''} {len(body)} bytes -> {response.status_code} {xml_code(response)}")
        return response

    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    refusals = {
        "larger": put(data + b"!"),
        "smaller": put(data[:-1]),
        "other content type": put(data, **{"Content-Type": "text/html"}),
        "without the generation precondition": put(data, **{"x-goog-if-generation-match": None}),
        "other length range": put(data, **{"x-goog-content-length-range": f"0,{len(data) + 1}"}),
        "tampered signature": put(data, url=tampered),
    }
    assert {k: (r.status_code, xml_code(r)) for k, r in refusals.items()} == {
        "larger": (400, "EntityTooLarge"),
        "smaller": (400, "EntityTooSmall"),
        "other content type": (403, "SignatureDoesNotMatch"),
        "without the generation precondition": (403, "SignatureDoesNotMatch"),
        "other length range": (403, "SignatureDoesNotMatch"),
        "tampered signature": (403, "SignatureDoesNotMatch"),
    }
    assert all(r.headers["Content-Type"].startswith("application/xml") for r in refusals.values())
    assert storage.obj(name) is None  # nothing refused was stored

    assert put(data).status_code == 200
    first = storage.obj(name)
    assert first is not None
    assert int(first["size"]) == len(data)
    replay = put(data)
    assert (replay.status_code, xml_code(replay)) == (412, "PreconditionFailed")
    assert client.wait(doc_id)["status"] == "ready"
    assert storage.obj(name)["generation"] == first["generation"]  # the replay overwrote nothing


def test_an_expired_url_is_refused(client: Client, storage: Storage) -> None:
    """A URL signed like create-upload's, by the same local signer, but valid for 1 s: used in
    time it is accepted; after its X-Goog-Date + X-Goog-Expires, 400 ExpiredToken."""
    from google.cloud import storage as gcs
    from google.oauth2 import service_account

    env = need_env("STORAGE_SIGNER_KEY_FILE")
    credentials = service_account.Credentials.from_service_account_file(env["STORAGE_SIGNER_KEY_FILE"])
    bucket = gcs.Client(project="demo-aksio").bucket(storage.bucket)
    data = b"expiring"
    headers = {"x-goog-content-length-range": f"{len(data)},{len(data)}", "x-goog-if-generation-match": "0"}
    urls = {}
    for name in ("in-time", "late"):
        urls[name] = bucket.blob(f"tests/{uuid.uuid4().hex}/{name}.txt").generate_signed_url(
            version="v4",
            method="PUT",
            expiration=timedelta(seconds=1),
            content_type=samples.TXT,
            headers=headers,
            credentials=credentials,
            api_access_endpoint=storage.url,
        )
    sent = {"Content-Type": samples.TXT, **headers}
    in_time = requests.put(urls["in-time"], data=data, headers=sent, timeout=30)
    signed_at = datetime.strptime(parse_qs(urlparse(urls["late"]).query)["X-Goog-Date"][0], "%Y%m%dT%H%M%SZ")
    while datetime.now(UTC).replace(tzinfo=None) <= signed_at + timedelta(seconds=2):
        time.sleep(0.1)
    late = requests.put(urls["late"], data=data, headers=sent, timeout=30)
    print(f"PUT in time -> {in_time.status_code}; PUT after expiry -> {late.status_code} {xml_code(late)}")
    assert in_time.status_code == 200, in_time.text
    assert (late.status_code, xml_code(late)) == (400, "ExpiredToken")
    assert "Request has expired" in late.text


def test_pdf_goes_ready_with_pages_and_chunks(client: Client, firestore_db: Any) -> None:
    doc_id = client.upload("Biology lecture.pdf", samples.PDF, samples.make_pdf(12, sentences=20))
    doc = client.wait(doc_id)
    assert doc["status"] == "ready", doc
    assert (doc["pageCount"], doc["progress"]) == (12, 100)
    assert doc["filename"] == "Biology lecture.pdf"
    chunks = chunks_of(firestore_db, client.user.uid, doc_id)
    assert len(chunks) == doc["chunkCount"] > 1
    text = "\n".join(c["text"] for c in chunks)
    for page in (1, 7, 12):
        for line in samples.page_text(page, 20):
            assert line in text
            owner = next(c for c in chunks if line in c["text"])
            assert owner["pages"][0] <= page <= owner["pages"][1]
    assert all(200 <= c["tokenCount"] <= 1000 for c in chunks[:-1])


def test_docx_pptx_txt_markdown_go_ready(client: Client, firestore_db: Any) -> None:
    docx = samples.make_docx(
        [("Cells", ["The cell is the basic unit of life."]), ("Energy", ["ATP is the energy currency."])]
        + [(f"Extra {i}", [f"Paragraph {i}."]) for i in range(3)]
    )
    pptx = samples.make_pptx([("Intro", ["Osmosis moves water", "Diffusion moves solutes"]), ("End", ["Summary"])])
    txt = b"Plain notes about enzymes.\n\nEnzymes lower activation energy.\fSecond page of notes."
    md = b"# Genetics\n\nDNA is a double helix.\n\n## Replication\n\nDNA replication is semi-conservative.\n"
    ids = {
        "docx": client.upload("cells.docx", samples.DOCX, docx),
        "pptx": client.upload("slides.pptx", samples.PPTX, pptx),
        "txt": client.upload("notes.txt", samples.TXT, txt),
        "md": client.upload("genetics.md", samples.MD, md),
    }
    docs = {k: client.wait(v) for k, v in ids.items()}
    assert {k: (d["status"], d["pageCount"]) for k, d in docs.items()} == {
        "docx": ("ready", 5),
        "pptx": ("ready", 2),
        "txt": ("ready", 2),
        "md": ("ready", 1),
    }
    docx_chunks = chunks_of(firestore_db, client.user.uid, ids["docx"])
    assert [(c["heading"], c["pages"]) for c in docx_chunks][:2] == [("Cells", [1, 1]), ("Energy", [2, 2])]
    assert "ATP is the energy currency." in docx_chunks[1]["text"]
    slides = chunks_of(firestore_db, client.user.uid, ids["pptx"])
    assert [(c["heading"], c["pages"]) for c in slides] == [("Intro", [1, 1]), ("End", [2, 2])]
    assert "Osmosis moves water" in slides[0]["text"]
    notes = chunks_of(firestore_db, client.user.uid, ids["txt"])
    assert notes[0]["text"] == "Plain notes about enzymes.\n\nEnzymes lower activation energy.\n\nSecond page of notes."
    assert notes[0]["pages"] == [1, 2]
    genetics = chunks_of(firestore_db, client.user.uid, ids["md"])
    assert [c["heading"] for c in genetics] == ["Genetics", "Replication"]
    listed = client.ok("GET", "/documents")["documents"]
    assert [d["id"] for d in listed] == list(ids.values())


def test_progress_is_visible_while_processing(client: Client, firestore_db: Any) -> None:
    """Every progress write (at most one a second, each renewing the lease) is a commit a
    Firestore listener sees: the document goes processing → rising progress → ready, and the
    API answers the same progress while it runs."""
    import queue

    pdf = samples.make_pdf(400, sentences=30)
    created = client.create("big.pdf", samples.PDF, len(pdf))
    doc_id = created["document"]["id"]
    ref = firestore_db.document(f"users/{client.user.uid}/documents/{doc_id}")
    seen: queue.Queue[dict[str, Any]] = queue.Queue()
    watch = ref.on_snapshot(lambda docs, changes, at: [seen.put(d.to_dict() or {}) for d in docs])
    try:
        assert seen.get(timeout=30)["status"] == "awaiting_upload"
        assert client.put(created["upload"], pdf).status_code == 200
        states: list[tuple[str, int]] = []
        while not states or states[-1][0] not in ("ready", "failed"):
            data = seen.get(timeout=120)
            states.append((data["status"], int(data.get("progress") or 0)))
    finally:
        watch.unsubscribe()
    assert states[-1] == ("ready", 100), states
    middle = [progress for status, progress in states if status == "processing" and 0 < progress < 100]
    assert middle, states  # at least the first progress write (2 %), which always comes
    assert middle == sorted(middle), states
    assert client.document(doc_id)["pageCount"] == 400


def test_a_new_generation_replaces_the_chunks(client: Client, firestore_db: Any, storage: Storage) -> None:
    long_text = "\n\n".join(" ".join(samples.page_text(p, 12)) for p in range(1, 9)).encode()
    created = client.create("notes.txt", samples.TXT, len(long_text))
    doc_id = created["document"]["id"]
    assert client.put(created["upload"], long_text).status_code == 200
    first = client.wait(doc_id)
    assert first["status"] == "ready"
    assert first["chunkCount"] > 1
    # the URL cannot overwrite (if-generation-match: 0); a writer with rights on the bucket can:
    # the same object written again is a new generation
    assert client.put(created["upload"], long_text).status_code == 412
    storage.write(urlparse(created["upload"]["url"]).path.split("/", 2)[2], b"Short replacement text.", samples.TXT)
    deadline = time.monotonic() + 60
    while (doc := client.document(doc_id))["chunkCount"] != 1:
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)
    assert doc["status"] == "ready"
    assert [c["text"] for c in chunks_of(firestore_db, client.user.uid, doc_id)] == ["Short replacement text."]
    assert len(list(firestore_db.collection(f"users/{client.user.uid}/documents/{doc_id}/index").stream())) == 1
