"""Bounded input (issue 12): a request never takes the service down.

Body sizes are refused before they are read (413, per route); archives are checked before and
while they are unpacked (422, memory bounded); text documents cannot hold is refused wherever it
enters and never breaks an export; a header-only CSV is refused; LIKE wildcards are literal."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from api.app import create_app
from itembank import archive, imports, qti
from itembank.archive import ArchiveLimitError, ArchiveLimits, SafeZip, WorkbookLimits, check_workbook
from itembank.config import Settings
from itembank.domain import Role
from itembank.imports import CSV_COLUMNS
from itembank.orm import ItemVersionRecord

from .conftest import Api, page_csrf, page_headers

# --------------------------------------------------------------------------------------
# Request bodies


def _asgi(app, method: str, path: str, *, headers: list[tuple[bytes, bytes]], chunks):  # type: ignore[no-untyped-def]
    """Call the app with a body delivered by ``chunks`` (an iterator of bytes); return the
    status and how many body bytes the app pulled."""
    pulled = 0
    sent: list[dict] = []
    it = iter(chunks)

    async def receive() -> dict:
        nonlocal pulled
        try:
            chunk = next(it)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
             "raw_path": path.encode(), "query_string": b"", "headers": headers, "client": ("10.1.2.3", 5000),
             "server": ("testserver", 80), "scheme": "http", "root_path": "", "state": {}}
    # a thread of its own: the session's browser (Playwright's sync API) keeps an event loop
    # running in this one once a browser test has run in the worker
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], pulled, dict(start["headers"])


def _endless(size: int = 256 * 1024, total: int = 16 * 2**20):  # type: ignore[no-untyped-def]
    """Far more than any limit (bounded, so that an app without limits answers instead of hanging)."""
    for _ in range(total // size):
        yield b"x" * size


def test_an_announced_huge_body_is_refused_before_a_byte_is_read(api: Api) -> None:
    app = api.client.app
    status, pulled, headers = _asgi(app, "POST", "/analyses", chunks=_endless(), headers=[
        (b"content-type", b"application/json"), (b"content-length", str(200 * 2**20).encode())])
    assert status == 413 and pulled == 0 and headers[b"cache-control"] == b"no-store"


def test_a_body_without_length_is_stopped_at_the_limit(api: Api) -> None:
    app = api.client.app
    status, pulled, _ = _asgi(app, "POST", "/analyses", chunks=_endless(),
                              headers=[(b"content-type", b"application/json")])
    limit = Settings().max_body_bytes
    assert status == 413 and limit < pulled <= limit + 256 * 1024


def test_oversized_json_answers_413_not_401(api: Api) -> None:
    r = api.client.post("/analyses", content=b"[" + b"0," * (1_500_000) + b"0]",
                        headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_uploads_have_their_own_larger_limit(api: Api) -> None:
    app = api.client.app
    url = f"/banks/{api.bank_id}/imports/items"
    three_mib = b"x" * (3 * 2**20)
    # a 3 MiB upload gets past the body limit (to the login check); the same body as JSON does not
    r = api.client.post(url, files={"file": ("bank.csv", three_mib, "text/csv")})
    assert r.status_code == 401
    assert api.client.post("/analyses", content=three_mib, headers={"content-type": "application/json"}
                           ).status_code == 413
    status, pulled, _ = _asgi(app, "POST", url, chunks=_endless(), headers=[
        (b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", str(51 * 2**20).encode())])
    assert status == 413 and pulled == 0
    # the import page is an upload route too
    assert app.state.settings.max_upload_bytes == 50 * 2**20


def test_a_route_limit_can_be_configured(engine) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), body_limits={"POST /analyses": 4096})
    with TestClient(create_app(settings, engine=engine)) as client:
        r = client.post("/analyses", content=b"x" * 5000, headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = client.post("/analyses", content=b"{}", headers={"content-type": "application/json"})
        assert r.status_code == 401


# --------------------------------------------------------------------------------------
# Archives


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


MANIFEST = b'<?xml version="1.0"?><manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1">' \
           b'<resources><resource identifier="R1" type="imsqti_item_xmlv3p0" href="items/big.xml"/></resources></manifest>'


def test_qti_bomb_is_refused_with_bounded_memory(api: Api) -> None:
    bomb = _zip({"imsmanifest.xml": MANIFEST, "items/big.xml": b" " * (500 * 2**20)})
    assert len(bomb) < 600 * 1024  # half a megabyte on the wire
    tracemalloc.start()
    try:
        items, problems = qti.read_package(bomb, source="bomb.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert items == [] and "items/big.xml" in str(problems[0].message.params)
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    r = api.client.post(f"/banks/{api.bank_id}/imports/qti", headers=mgr,
                        files={"file": ("bomb.zip", bomb, "application/zip")})
    assert r.status_code == 422 and "big.xml" in r.text


def _lie_about_size(data: bytes, name: bytes, claimed: int) -> bytes:
    """Rewrite the uncompressed size of ``name`` in the local and central headers."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04" + out[4:4])  # the first local header
    while local >= 0:
        n = int.from_bytes(out[local + 26:local + 28], "little")
        if out[local + 30:local + 30 + n] == name:
            out[local + 22:local + 26] = claimed.to_bytes(4, "little")
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central >= 0:
        n = int.from_bytes(out[central + 28:central + 30], "little")
        if out[central + 46:central + 46 + n] == name:
            out[central + 24:central + 28] = claimed.to_bytes(4, "little")
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_a_member_lying_about_its_size_is_stopped_while_unpacking() -> None:
    honest = _zip({"imsmanifest.xml": MANIFEST, "items/big.xml": b"<a>" + b" " * (30 * 2**20) + b"</a>"})
    lying = _lie_about_size(honest, b"items/big.xml", 100)
    items, problems = qti.read_package(lying, source="lying.zip")
    assert items == [] and problems and "big.xml" in str(problems[0].message.params)


def test_member_count_is_refused_before_the_directory_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _zip({f"m{i}.xml": b"<a/>" for i in range(12)})

    def no_zipfile(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(archive.zipfile, "ZipFile", no_zipfile)
    with pytest.raises(ArchiveLimitError) as refused:
        SafeZip(data, limits=ArchiveLimits(max_members=10, max_member_bytes=2**20, max_total_bytes=2**20),
                source="many.zip")
    assert refused.value.params == {"source": "many.zip", "n": 12, "limit": 10}


def test_compression_ratio_and_total_are_checked_on_the_declared_sizes() -> None:
    data = _zip({"a.xml": b"0" * (3 * 2**20)})
    with pytest.raises(ArchiveLimitError) as refused:
        SafeZip(data, limits=archive.QTI_LIMITS, source="ratio.zip")
    assert "is compressed {ratio:.0f} times" in refused.value.head_text.msgid
    assert refused.value.params["member"] == "a.xml" and refused.value.params["ratio"] > 100
    spread = _zip({f"p{i}.bin": bytes(range(256)) * 4096 for i in range(3)})  # 1 MiB each, incompressible
    with pytest.raises(ArchiveLimitError, match="解压后为"):
        SafeZip(spread, limits=ArchiveLimits(max_members=10, max_member_bytes=2 * 2**20,
                                             max_total_bytes=2 * 2**20), source="total.zip")


def _workbook_with(member: str, xml: bytes) -> bytes:
    """The item template workbook with one member replaced."""
    template = zipfile.ZipFile(io.BytesIO(imports.items_template()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in template.infolist():
            if info.filename != member:
                out.writestr(info.filename, template.read(info.filename))
        out.writestr(member, xml)
    return buf.getvalue()


def _shared_strings(n: int) -> bytes:
    return (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + b"".join(b"<si><t>%d</t></si>" % i for i in range(n)) + b"</sst>")


def test_a_workbook_with_millions_of_strings_never_reaches_the_reader(api: Api,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = _workbook_with("xl/sharedStrings.xml", _shared_strings(400_000))
    import openpyxl

    def never(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the spreadsheet reader was called")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    items, problems = imports.parse_items_xlsx(data, source="strings.xlsx")
    assert items == [] and problems[0].message.params["limit"] == 300000
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    r = api.client.post(f"/banks/{api.bank_id}/imports/items", headers=mgr,
                        files={"file": ("strings.xlsx", data, "application/octet-stream")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "import_invalid"


def test_rows_and_cells_are_counted_while_unpacking() -> None:
    rows = b"".join(b'<row r="%d"/>' % i for i in range(1, 2001))
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + rows + \
        b"</sheetData></worksheet>"
    data = _workbook_with("xl/worksheets/sheet1.xml", sheet)
    with pytest.raises(ArchiveLimitError) as refused:
        check_workbook(data, source="rows.xlsx", counts=WorkbookLimits(max_rows=1000))
    assert "more than {limit} rows" in refused.value.head_text.msgid and refused.value.params["limit"] == 1000
    check_workbook(data, source="rows.xlsx", counts=WorkbookLimits(max_rows=5000))  # under the limit: fine


# --------------------------------------------------------------------------------------
# Text documents cannot hold


ITEM = {"code": "C0001", "content": {"item_type": "true_false", "stem": "接地\x01电阻", "points": 1,
                                     "element_codes": ["A-01"], "key": ["T"]}}


def test_control_characters_are_refused_by_the_api(api: Api) -> None:
    w = api.add_user("wr1", Role.ITEM_WRITER)
    r = api.client.post(f"/banks/{api.bank_id}/items", headers=w, json=ITEM)
    assert r.status_code == 422 and "U+0001" in r.text
    admin = api.add_user("root", Role.ADMIN)
    r = api.client.post("/minimum-rules", headers=admin, json={"part": "theory", "minimum": 100, "note": "说明\x07"})
    assert r.status_code == 422 and "U+0007" in r.text


def test_control_characters_are_refused_by_the_pages(api: Api) -> None:
    w = api.add_user("wr1", Role.ITEM_WRITER)
    r = api.client.post(f"/ui/banks/{api.bank_id}/items/new", headers=page_headers(w), data={
        "csrf_token": page_csrf(w), "item_type": "true_false", "code": "C0002", "stem": "接地\x02电阻",
        "points": "1", "element_codes": "A-01", "key_choice": "T"}, follow_redirects=False)
    assert r.status_code == 422 and "U+0002" in r.text


def _csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _row(code: str, stem: str) -> list[object]:
    return [code, "单项选择题", stem, "36V", "24V", "12V", "110V", "", "", "D", 1, "A-01", 2, 60, "", "", "", "", "",
            "wr1"]


def test_control_characters_are_refused_by_imports(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    api.add_user("wr1", Role.ITEM_WRITER)
    r = api.client.post(f"/banks/{api.bank_id}/imports/items", headers=mgr,
                        files={"file": ("bank.csv", _csv([_row("IM-1", "安全\x01电压")]), "text/csv")})
    assert r.status_code == 422
    (problem,) = [p for p in r.json()["error"]["problems"] if "U+0001" in p["message"]]
    assert problem["row"] == 2 and problem["column"]
    # QTI: XML 1.0 has no way to write U+0001 (&#1; is not well-formed): refused, never stored
    item = (b'<?xml version="1.0"?><qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" '
            b'identifier="Q1" title="t"><qti-item-body><p>&#1;</p></qti-item-body></qti-assessment-item>')
    r = api.client.post(f"/banks/{api.bank_id}/imports/qti", headers=mgr,
                        files={"file": ("q.xml", item, "application/xml")})
    assert r.status_code == 422


def test_exports_survive_text_already_stored(api: Api) -> None:
    from itembank.occupations import get_bank_by_id
    from tests.api.test_assembly_and_sealing import _stock

    _stock(api)
    # a stem stored before the check existed (or by another way into the database)
    api.session.execute(update(ItemVersionRecord).values(stem=ItemVersionRecord.stem + "\x01"))
    api.session.commit()
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    r = api.client.get(f"/banks/{api.bank_id}/readiness/document", headers=mgr)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert api.client.get(f"/banks/{api.bank_id}/element-tables/theory/document", headers=mgr).status_code == 200
    from itembank.readiness import set_minimum_rule

    set_minimum_rule(api.session, part="theory", minimum=100, actor="admin", note="旧说明\x01")
    api.session.commit()
    assert api.client.get("/readiness/document", headers=mgr).status_code == 200
    from tests.api.test_assembly_and_sealing import _blueprint_spec

    bp = api.client.post(f"/banks/{api.bank_id}/blueprints", headers=mgr, json={"spec": _blueprint_spec()}).json()
    run = api.client.post(f"/banks/{api.bank_id}/assembly-runs", headers=mgr,
                          json={"blueprint_id": bp["id"], "n_forms": 1, "n_backups": 0}).json()
    # the test app runs jobs inline (api.jobs.InlineJobs): the run is done when the request answers
    code = api.client.get(f"/assembly-runs/{run['id']}", headers=mgr).json()["paper_codes"][0]
    doc = api.client.get(f"/papers/{code}/documents/paper", headers=mgr)
    assert doc.status_code == 200
    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(doc.content)).paragraphs)
    assert "\ufffd" in text and "\x01" not in text
    assert get_bank_by_id(api.session, api.bank_id)


# --------------------------------------------------------------------------------------
# Empty imports, LIKE wildcards


def test_a_header_only_csv_is_refused(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    r = api.client.post(f"/banks/{api.bank_id}/imports/items", headers=mgr,
                        files={"file": ("bank.csv", _csv([]), "text/csv")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "import_invalid"
    r = api.client.post(f"/banks/{api.bank_id}/imports/items", headers=mgr,
                        files={"file": ("bank.xlsx", imports.items_template(), "application/octet-stream")})
    assert r.status_code == 422


def test_like_wildcards_are_literal(api: Api) -> None:
    from tests.api.test_items import ITEM as PLAIN

    w = api.add_user("wr1", Role.ITEM_WRITER)
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    base = f"/banks/{api.bank_id}/items"
    api.client.post(base, headers=w, json=PLAIN)
    percent = {**PLAIN, "code": "Q0100", "content": {**PLAIN["content"], "stem": "合格率为95%的题（　）。"}}
    assert api.client.post(base, headers=w, json=percent).status_code == 201
    for q, want in (("%", ["Q0100"]), ("_", []), ("Q00_1", [])):
        found = [i["code"] for i in api.client.get(base, headers=mgr, params={"q": q}).json()["items"]]
        assert found == want, q
    office = api.add_user("office", Role.EXAM_OFFICE)
    api.client.post("/staff", headers=office, json={"name": "钱考评"})
    assert api.client.get("/staff", headers=office, params={"name": "%"}).json()["total"] == 0
    assert api.client.get("/staff", headers=office, params={"name": "钱"}).json()["total"] == 1
