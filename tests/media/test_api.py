"""Pictures through the HTTP API: upload of each type, hostile files, items showing them, and
need-to-know on reads (a writer of another bank gets 403), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from sqlalchemy import func, select

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from itembank import accounts
from itembank.config import Settings
from itembank.db import make_sessionmaker
from itembank.domain import SYSTEM_ACTOR, Level, Part, Role
from itembank.elements import save_element_table
from itembank.experts import ExpertRole, TitleRank, grant_scope, register_expert
from itembank.ledger import query_ledger, verify_ledger
from itembank.occupations import create_bank, create_occupation
from itembank.orm_media import MediaBlobRecord
from tests.api.conftest import LIFECYCLE, OCC, OTHER_OCC, PASSWORD, Api
from tests.itembank.conftest import SMALL_TABLE
from tests.api.test_items import ITEM

from .conftest import CIRCUIT_SVG, photo_jpeg, png_claiming, svg, wiring_png


def _upload(api: Api, headers: dict, data: bytes, name: str, bank_id: int | None = None):  # type: ignore[no-untyped-def]
    return api.client.post(f"/banks/{bank_id or api.bank_id}/media", headers=headers,
                           files={"file": (name, data, "application/octet-stream")})


def _item_with(sha: str, code: str = "Q0001", caption: str = "图1") -> dict:
    content = {**ITEM["content"], "stem": f"如图所示电路：\n![{caption}](media:{sha})\n开关 S 的作用是（　）。"}
    return {**ITEM, "code": code, "content": content}


@pytest.mark.parametrize(("data", "name", "media_type", "source"), [
    (wiring_png(), "接线图.png", "image/png", "png"),
    (photo_jpeg(1200, 900), "配电柜.jpg", "image/jpeg", "jpeg"),
    (CIRCUIT_SVG, "电路.svg", "image/png", "svg"),
    (wiring_png(), "named-wrongly.jpg", "image/png", "png"),
], ids=["png", "jpeg", "svg", "png-named-jpg"])
def test_upload_each_type(api: Api, data: bytes, name: str, media_type: str, source: str) -> None:
    writer = api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    r = _upload(api, writer, data, name)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["media_type"] == media_type and body["markup"] == f"![](media:{body['sha256']})"
    got = Image.open(io.BytesIO(api.client.get(f"/media/{body['sha256']}", headers=writer).content))
    assert got.size == (body["width"], body["height"]) and got.format == ("PNG" if media_type == "image/png" else "JPEG")
    entry = query_ledger(api.session, action="picture.upload")[-1]
    assert entry.details["source_type"] == source and entry.details["name"] == name


@pytest.mark.parametrize(("data", "words"), [
    (b"GIF89a" + bytes(200), "GIF"),
    (png_claiming(60_000, 60_000), "60000 × 60000"),
    (wiring_png()[:120], "damaged"),
    (svg("<script>fetch('/auth/me')</script><rect width='5' height='5'/>"), "script"),
    (svg('<use href="https://example.org/a.svg#x"/>'), "links outside"),
    (b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024), "10 MB"),
], ids=["gif", "bomb", "truncated", "svg-script", "svg-outside", "too-large"])
def test_hostile_uploads_are_refused_with_the_reason_and_store_nothing(api: Api, data: bytes, words: str) -> None:
    writer = api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    r = _upload(api, {**writer, "Accept-Language": "en"}, data, "evil.png")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "picture_invalid" and error["field"] == "file" and words in error["message"]
    assert "evil.png" in error["message"]
    assert api.session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 0


def test_refusals_speak_chinese_by_default_and_english_on_request(api: Api) -> None:
    writer = api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    zh = _upload(api, writer, b"GIF89a" + bytes(100), "a.gif").json()["error"]["message"]
    assert zh.startswith("图片 a.gif：文件是 GIF 格式")
    en = api.client.post(f"/banks/{api.bank_id}/media", headers={**writer, "Accept-Language": "en"},
                         files={"file": ("a.gif", b"GIF89a" + bytes(100))}).json()["error"]["message"]
    assert en.startswith("picture a.gif: the file is GIF")


def test_item_shows_the_picture_and_need_to_know_follows_it(api: Api) -> None:
    writer = api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    colleague = api.add_user("writer2", Role.ITEM_WRITER, occupation=OCC)
    foreign = api.add_user("writer9", Role.ITEM_WRITER, occupation=OTHER_OCC)
    manager = api.add_user("manager1", Role.BANK_MANAGER, occupation=OCC)
    other_manager = api.add_user("manager9", Role.BANK_MANAGER, occupation=OTHER_OCC)
    office = api.add_user("office1", Role.EXAM_OFFICE)
    sha = _upload(api, writer, wiring_png(), "接线图.png").json()["sha256"]
    r = api.client.post(f"/banks/{api.bank_id}/items", headers=writer, json=_item_with(sha))
    assert r.status_code == 201, r.text
    assert f"(media:{sha})" in r.json()["content"]["stem"]

    url = f"/media/{sha}"
    ok = api.client.get(url, headers=manager)
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    assert ok.headers["cache-control"] == "no-store" and ok.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(url, headers=writer).status_code == 200
    for who, code in ((foreign, "permission_denied"), (colleague, "permission_denied"),
                      (other_manager, "permission_denied"), (office, "role_required")):
        r = api.client.get(url, headers=who)
        assert r.status_code == 403 and r.json()["error"]["code"] == code, r.text
    # an unknown picture answers exactly like a forbidden one
    unknown = api.client.get("/media/" + "e" * 64, headers=foreign)
    assert unknown.status_code == 403 and unknown.json()["error"]["code"] == "permission_denied"
    assert api.client.get("/media/NOT-A-HASH", headers=manager).status_code == 422
    reads = query_ledger(api.session, action="picture.read")
    assert [(e.actor, e.object_id) for e in reads] == [("manager1", sha), ("writer1", sha)]


def test_a_writer_of_another_bank_cannot_use_or_read_the_picture(api: Api) -> None:
    """The same picture uploaded to two banks is stored once; each bank's writers reach it only
    through their own upload or items."""
    writer = api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    other_writer = api.add_user("writer9", Role.ITEM_WRITER, occupation=OTHER_OCC)
    other_bank = create_bank(api.session, occupation_code=OTHER_OCC, level=Level.L4)
    api.session.commit()
    sha = _upload(api, writer, wiring_png(), "a.png").json()["sha256"]
    # referring to it from the other bank is refused: it is not in that bank
    r = api.client.post(f"/banks/{other_bank.id}/items", headers=other_writer, json=_item_with(sha, "X1"))
    assert r.status_code == 422 and "不属于本题库" in r.json()["error"]["errors"][0]
    assert api.client.get(f"/media/{sha}", headers=other_writer).status_code == 403
    # uploading the same picture there gives the same address, stored once, and now they may
    again = _upload(api, other_writer, wiring_png(), "mine.png", bank_id=other_bank.id)
    assert again.json()["sha256"] == sha
    assert api.session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 1
    assert api.client.get(f"/media/{sha}", headers=other_writer).status_code == 200
    # uploading into a bank of another occupation is refused
    assert _upload(api, other_writer, wiring_png(seed=2), "x.png").status_code == 403


def test_revision_through_the_api_keeps_the_old_versions_picture(api: Api) -> None:
    writer = api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    first = _upload(api, writer, wiring_png(), "v1.png").json()["sha256"]
    second = _upload(api, writer, photo_jpeg(800, 600), "v2.jpg").json()["sha256"]
    base = f"/banks/{api.bank_id}/items"
    assert api.client.post(base, headers=writer, json=_item_with(first)).status_code == 201
    r = api.client.put(f"{base}/Q0001", headers=writer,
                       json={"content": _item_with(second)["content"], "reason": "换成实物照片"})
    assert r.status_code == 200 and r.json()["version"] == 2
    v1, v2 = api.client.get(f"{base}/Q0001/versions", headers=writer).json()["items"]
    assert first in v1["content"]["stem"] and second in v2["content"]["stem"]
    for sha in (first, second):
        assert api.client.get(f"/media/{sha}", headers=writer).status_code == 200


def test_many_readers_at_once(fresh_engine: Engine) -> None:
    """Concurrent reads and uploads on real connections (not the rolled-back test transaction):
    each read passes need-to-know and is ledgered, the ledger chain stays whole, and one picture
    uploaded by several writers at once is stored once."""
    app = create_app(Settings(database_url=fresh_engine.url.render_as_string(hide_password=False)), engine=fresh_engine, lifecycle_settings=LIFECYCLE)
    with make_sessionmaker(fresh_engine)() as s:
        create_occupation(s, code=OCC, name="电工", category="technical_skill")
        bank = create_bank(s, occupation_code=OCC, level=Level.L5)
        save_element_table(s, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
        for name, role in (("writer1", Role.ITEM_WRITER), ("writer2", Role.ITEM_WRITER),
                           ("writer3", Role.ITEM_WRITER), ("manager1", Role.BANK_MANAGER)):
            accounts.create_user(s, username=name, password=PASSWORD, roles=[(role, OCC)], actor="t")
            if role is Role.ITEM_WRITER:
                register_expert(s, actor=SYSTEM_ACTOR, username=name, name=name, title_rank=TitleRank.SENIOR)
                grant_scope(s, actor=SYSTEM_ACTOR, username=name, occupation_code=OCC, role=ExpertRole.WRITER,
                            years_in_occupation=10, certificate_level=Level.L2)
        s.commit()
        bank_id = bank.id
    with TestClient(app) as client:
        def login(name: str) -> dict[str, str]:
            r = client.post("/auth/token", data={"username": name, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        heads = {n: login(n) for n in ("writer1", "writer2", "writer3", "manager1")}

        def upload(name: str) -> str:
            r = client.post(f"/banks/{bank_id}/media", headers=heads[name], files={"file": ("a.png", wiring_png())})
            assert r.status_code == 201, r.text
            return r.json()["sha256"]

        with ThreadPoolExecutor(3) as pool:
            shas = set(pool.map(upload, ("writer1", "writer2", "writer3")))
        assert len(shas) == 1
        sha = shas.pop()
        r = client.post(f"/banks/{bank_id}/items", headers=heads["writer1"], json=_item_with(sha))
        assert r.status_code == 201, r.text

        def read(i: int) -> int:
            who = ("manager1", "writer1", "writer2")[i % 3]  # writer2 uploaded it too, so may read it
            return client.get(f"/media/{sha}", headers=heads[who]).status_code

        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(read, range(12)))
    assert codes == [200] * 12
    with make_sessionmaker(fresh_engine)() as s:
        assert len(query_ledger(s, action="picture.read")) == 12
        assert s.scalar(select(func.count()).select_from(MediaBlobRecord)) == 1
        assert verify_ledger(s).ok
