"""The OpenAPI description is what a centre's IT staff read: every operation has a tag that
is described, a summary in words, and the shared error body."""

from __future__ import annotations

from api.app import TAGS

from .conftest import Api


def test_every_operation_is_described(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    described = {t["name"] for t in TAGS}
    missing = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            if not op.get("summary") or op["summary"].lower() == op.get("operationId", "").replace("_", " "):
                missing.append(f"{where}: no summary")
            if not set(op.get("tags", [])) <= described or not op.get("tags"):
                missing.append(f"{where}: tags {op.get('tags')}")
            bad = op.get("responses", {}).get("422", {}).get("content", {}).get("application/json", {})
            if bad and bad.get("schema", {}).get("$ref") != "#/components/schemas/ErrorBody":
                missing.append(f"{where}: 422 is not the shared error body")
    assert not missing, "\n".join(missing)
    assert {o["in"] for o in spec["paths"]["/banks"]["get"]["parameters"]} == {"query"}
    assert {p["name"] for p in spec["paths"]["/banks"]["get"]["parameters"]} >= {"offset", "limit"}
