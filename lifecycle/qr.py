"""The certificate's QR code (附件3 第11条 二维码): a verification URL carrying the
certificate's fields and an HMAC-SHA256 signature, and its rendering with segno. Pure.

A third party scans the code and opens the URL; the centre's verification service
(``lifecycle.certificates.verify_certificate``) checks the signature with the secret key and
then the certificate's current status (issued, revoked ...). The signature proves the fields
were written by the centre; the lookup proves the certificate is still valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import segno

from lifecycle.idnumbers import mask_id_number
from itembank.i18n import Message, Text

PAYLOAD_VERSION = "1"
_FIELDS = ("v", "c", "n", "i", "o", "l", "d")


@dataclass(frozen=True, slots=True)
class QrFields:
    code: str
    holder_name: str
    id_number_masked: str
    occupation_code: str
    level: int
    issued_on: date


@dataclass(frozen=True, slots=True)
class QrVerification:
    valid: bool
    fields: QrFields | None
    problem: Text = ""


def _message(values: dict[str, str]) -> bytes:
    return "|".join(values[k] for k in _FIELDS).encode("utf-8")


def _signature(secret: str, values: dict[str, str]) -> str:
    mac = hmac.new(secret.encode("utf-8"), _message(values), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def build_qr_payload(
    *, code: str, holder_name: str, id_number: str, occupation_code: str, level: int, issued_on: date,
    secret: str, base_url: str,
) -> str:
    """``{base_url}?v=1&c=CODE&n=NAME&i=3201**********1234&o=6-31-01-03&l=5&d=20261201&s=SIG``.

    The ID number is masked; the signature covers every other field (128-bit HMAC-SHA256).
    """
    values = {"v": PAYLOAD_VERSION, "c": code, "n": holder_name, "i": mask_id_number(id_number),
              "o": occupation_code, "l": str(int(level)), "d": issued_on.strftime("%Y%m%d")}
    query = urlencode({**values, "s": _signature(secret, values)}, quote_via=quote)
    return f"{base_url}?{query}"


def verify_qr_payload(payload: str, *, secret: str) -> QrVerification:
    """Check the signature of a scanned payload; any edited field makes it invalid."""
    try:
        query = dict(parse_qsl(urlsplit(payload.strip()).query, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return QrVerification(False, None, Message("This is not the QR code of a certificate."))
    missing = [k for k in (*_FIELDS, "s") if k not in query]
    if missing:
        return QrVerification(False, None, Message("This is not the QR code of a certificate (the fields {fields} "
                                                   "are missing).", fields=missing))
    if query["v"] != PAYLOAD_VERSION:
        return QrVerification(False, None, Message("Unknown version {version} of the certificate QR code.",
                                                   version=query["v"]))
    values = {k: query[k] for k in _FIELDS}
    if not hmac.compare_digest(_signature(secret, values), query["s"]):
        return QrVerification(False, None, Message(
            "The signature does not match: the QR code was altered or not issued by this centre."))
    try:
        d = values["d"]
        fields = QrFields(values["c"], values["n"], values["i"], values["o"], int(values["l"]),
                          date(int(d[:4]), int(d[4:6]), int(d[6:8])))
    except ValueError:
        return QrVerification(False, None, Message("The level or the date in the QR code is malformed."))
    return QrVerification(True, fields)


def render_qr(payload: str, *, kind: str = "png", scale: int = 4) -> bytes:
    """The QR code as PNG or SVG bytes (error correction level M)."""
    if kind not in ("png", "svg"):
        raise ValueError("kind is png or svg")
    qr = segno.make(payload, error="m", micro=False)
    buf = io.BytesIO()
    qr.save(buf, kind=kind, scale=scale, border=2)
    return buf.getvalue()
