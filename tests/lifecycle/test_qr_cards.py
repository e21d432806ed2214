"""Certificate QR payloads (附件3 第11条 二维码) and card validity (附件2 第16条, 第18条)."""

from __future__ import annotations

import io
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from lifecycle.cards import Training, card_valid_until, card_validity
from lifecycle.qr import build_qr_payload, render_qr, verify_qr_payload

SECRET = "s3cret"
ARGS = dict(code="Y000132000001265000001", holder_name="张三", id_number="11010519491231002X",
            occupation_code="6-31-01-03", level=5, issued_on=date(2026, 12, 20), base_url="https://cert.example.org/v")


def test_payload_verifies_and_carries_the_fields() -> None:
    payload = build_qr_payload(**ARGS, secret=SECRET)
    assert payload.startswith("https://cert.example.org/v?v=1&c=Y000132000001265000001")
    assert "11010519491231002X" not in payload  # the ID number is masked
    v = verify_qr_payload(payload, secret=SECRET)
    assert v.valid and v.fields is not None
    assert v.fields.holder_name == "张三" and v.fields.level == 5 and v.fields.issued_on == date(2026, 12, 20)
    assert v.fields.id_number_masked == "1101**********002X"


def test_altered_or_foreign_payloads_fail() -> None:
    payload = build_qr_payload(**ARGS, secret=SECRET)
    assert not verify_qr_payload(payload.replace("l=5", "l=1"), secret=SECRET).valid
    assert not verify_qr_payload(payload, secret="another centre").valid
    assert "这不是证书二维码（缺少字段" in str(verify_qr_payload("https://x.org/?c=1", secret=SECRET).problem)
    assert not verify_qr_payload("garbage", secret=SECRET).valid


@given(st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s and "\x00" not in s))
def test_any_name_round_trips(name: str) -> None:
    v = verify_qr_payload(build_qr_payload(**{**ARGS, "holder_name": name}, secret=SECRET), secret=SECRET)
    assert v.valid and v.fields is not None and v.fields.holder_name == name


def test_qr_renders_as_png_and_svg() -> None:
    payload = build_qr_payload(**ARGS, secret=SECRET)
    png = render_qr(payload)
    assert png.startswith(b"\x89PNG")
    svg = render_qr(payload, kind="svg")
    assert b"<svg" in svg
    from PIL import Image  # matplotlib's dependency; only to check the image is readable

    assert Image.open(io.BytesIO(png)).size[0] > 100


def test_cards_are_valid_three_years() -> None:
    assert card_valid_until(date(2026, 3, 1)) == date(2029, 2, 28)
    assert card_valid_until(date(2024, 2, 29)) == date(2027, 2, 28)
    kw = dict(number="320500000000110001", issued_on=date(2026, 3, 1), valid_until=date(2029, 2, 28), revoked=False)
    assert card_validity(**kw, trainings=[], on=date(2026, 12, 31)).valid
    expired = card_validity(**kw, trainings=[Training(2027, True), Training(2028, True)], on=date(2029, 3, 1))
    assert not expired.valid and "已于 2029年2月28日 过期（证卡有效期 3 年）" in str(expired.reasons[0])
    early = card_validity(**kw, trainings=[], on=date(2026, 2, 1))
    assert not early.valid


def test_annual_training_lapses_are_enforced() -> None:
    # 附件2 第18条: 对继续教育不合格及未参加继续教育的考评人员取消其考评资格
    kw = dict(number="320500000000110001", issued_on=date(2026, 3, 1), valid_until=date(2029, 2, 28), revoked=False)
    assert card_validity(**kw, trainings=[], on=date(2027, 12, 31)).valid  # 2027 not over yet
    lapsed = card_validity(**kw, trainings=[], on=date(2028, 1, 2))
    assert not lapsed.valid and lapsed.missing_training_years == (2027,)
    failed = card_validity(**kw, trainings=[Training(2027, False)], on=date(2028, 1, 2))
    assert not failed.valid
    retaken = card_validity(**kw, trainings=[Training(2027, False), Training(2027, True)], on=date(2028, 6, 1))
    assert retaken.valid
    revoked = card_validity(**{**kw, "revoked": True}, revoked_reason="徇私舞弊", trainings=[], on=date(2026, 6, 1))
    assert not revoked.valid and "已注销：徇私舞弊" in str(revoked.reasons[0])
