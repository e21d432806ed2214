"""The web layer without a browser: the formula markup never lets item text through as HTML,
forms need the session's CSRF token, the login never redirects off the site, the session
cookie's attributes, and the pages stay out of the OpenAPI schema."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.web.markup import render_markup
from api.web.session import COOKIE, csrf_for
from itembank.domain import Role
from tests.api.conftest import PASSWORD, Api, _cheap_password_hashing, api  # noqa: F401  (fixtures)


def test_formulas_render_and_text_is_escaped() -> None:
    html = str(render_markup("$I=\\frac{U}{R}$，$P=I^2R$，$U_{AB}$，$\\sqrt{3}$，$30\\degree$，$\\Omega$ 与 \\$5"))
    assert '<span class="frac"><span class="num">U</span><span class="den">R</span></span>' in html
    assert "<sup>2</sup>" in html and "<sub>AB</sub>" in html and "√" in html and "°" in html and "Ω" in html
    assert html.endswith("与 $5")
    hostile = str(render_markup('<script>alert(1)</script> $<img src=x onerror=alert(1)>^{<b>}$ "q"\nline'))
    assert "<script>" not in hostile and "<img" not in hostile and "<b>" not in hostile
    assert "&lt;script&gt;" in hostile and "&lt;img" in hostile and "<br>" in hostile
    assert "&#34;q&#34;" in hostile or "&quot;q&quot;" in hostile
    # unknown commands and broken formulas are shown as written, marked
    assert 'class="unknown"' in str(render_markup("$\\foo x$"))
    assert 'class="math bad"' in str(render_markup("$x^{2$"))
    assert str(render_markup("只有一个 $ 符号")) == "只有一个 $ 符号"


def _login(client: TestClient, username: str, next_url: str = "/") -> str:
    page = client.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/ui/login", data={"username": username, "password": PASSWORD, "csrf_token": token,
                                       "next": next_url}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_login_sets_a_safe_cookie_and_never_redirects_off_site(api: Api) -> None:  # noqa: F811
    api.add_user("writer1", Role.ITEM_WRITER)
    c = api.client
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        c.cookies.clear()
        assert _login(c, "writer1", target) == "/"
    c.cookies.clear()
    page = c.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/ui/login", data={"username": "writer1", "password": PASSWORD, "csrf_token": token,
                                  "next": f"/ui/banks/{api.bank_id}/items"}, follow_redirects=False)
    assert r.headers["location"] == f"/ui/banks/{api.bank_id}/items"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # http here
    # the login form itself needs its token: a cross-site login is refused
    c.cookies.clear()
    r = c.post("/ui/login", data={"username": "writer1", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400 and "登录表单已过期" in r.text
    # a wrong password: the error next to the field, the username kept
    page = c.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/ui/login", data={"username": "writer1", "password": "wrong-password-1", "csrf_token": token})
    assert r.status_code == 401 and "账号或密码错误" in r.text and 'value="writer1"' in r.text


def test_every_post_needs_the_sessions_csrf_token(api: Api) -> None:  # noqa: F811
    api.add_user("writer1", Role.ITEM_WRITER)
    c = api.client
    _login(c, "writer1")
    url = f"/ui/banks/{api.bank_id}/items/new"
    form = {"item_type": "true_false", "code": "CSRF-1", "stem": "36V是安全电压的一个等级。", "points": "1",
            "key_tf": "T", "element_codes": "A-01"}
    for token in (None, "", "0" * 64, csrf_for("some-other-session-token")):
        data = form if token is None else {**form, "csrf_token": token}
        r = c.post(url, data=data, follow_redirects=False)
        assert r.status_code == 400 and "表单安全校验未通过" in r.text, token
    session_token = c.cookies.get(COOKIE)
    r = c.post(url, data={**form, "csrf_token": csrf_for(session_token or "")}, follow_redirects=False)
    assert r.status_code in (303, 422), r.text  # past the CSRF check, to the item rules
    # logging out revokes the token: the old cookie no longer opens a page
    r = c.post("/ui/logout", data={"csrf_token": csrf_for(session_token or "")}, follow_redirects=False)
    assert r.status_code == 303
    c.cookies.set(COOKIE, session_token or "")
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")


def test_item_text_is_shown_escaped_on_every_page(api: Api) -> None:  # noqa: F811
    api.add_user("writer1", Role.ITEM_WRITER)
    c = api.client
    _login(c, "writer1")
    token = csrf_for(c.cookies.get(COOKIE) or "")
    stem = '<script>document.title="x"</script>接地电阻（　）'
    r = c.post(f"/ui/banks/{api.bank_id}/items/new", data={
        "csrf_token": token, "item_type": "single_choice", "code": "XSS-1", "stem": stem, "points": "1",
        "option_A": "<b>4Ω</b>", "option_B": "10Ω", "key_choice": "A", "element_codes": "A-01"})
    assert r.status_code == 200 and "XSS-1" in r.url.path  # followed to the item page
    for page in (c.get(f"/ui/banks/{api.bank_id}/items/XSS-1"), c.get(f"/ui/banks/{api.bank_id}/items")):
        assert "<script>document.title" not in page.text and "<b>4Ω</b>" not in page.text
        assert "&lt;script&gt;" in page.text


def test_pages_stay_out_of_the_openapi_schema(api: Api) -> None:  # noqa: F811
    paths = api.client.get("/openapi.json").json()["paths"]
    assert paths and not [p for p in paths if p == "/" or p.startswith("/ui")]
    assert api.client.get("/ui/static/htmx.min.js").status_code == 200
    assert api.client.get("/ui/static/..%2Fsession.py").status_code == 404
    api.add_user("writer1", Role.ITEM_WRITER)
    _login(api.client, "writer1")
    missing = api.client.get("/ui/no-such-page")
    assert missing.status_code == 404 and "未找到" in missing.text
    page = api.client.get("/")
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_refused_import_lists_every_problem_by_row_and_column(api: Api) -> None:  # noqa: F811
    api.add_user("manager1", Role.BANK_MANAGER, expert=True)  # the writer of what they import
    c = api.client
    _login(c, "manager1")
    token = csrf_for(c.cookies.get(COOKIE) or "")
    template = c.get("/ui/templates/items.csv")
    assert template.status_code == 200
    header, example = template.content.decode("utf-8-sig").splitlines()[:2]
    example = example.removesuffix(",zhangsan") + ","
    bad = example.replace(",D,1,A-01,", ",D,abc,A-01,")  # the points are not a number
    body = f"{header}\n{bad}\n".encode()
    r = c.post(f"/ui/banks/{api.bank_id}/import", data={"csrf_token": token, "kind": "items", "mode": "draft"},
               files={"file": ("items.csv", body, "text/csv")})
    assert r.status_code == 422 and "没有导入任何内容" in r.text
    table = re.search(r'<table id="problems">(.*?)</table>', r.text, re.S).group(1)  # type: ignore[union-attr]
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">(\d*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    assert [(row[1], row[2]) for row in rows] == [("2", "分值")], rows  # the example's row and column
    assert 'value="draft" selected' in r.text  # the choices made are kept
    # without a file: said next to the field
    r = c.post(f"/ui/banks/{api.bank_id}/import", data={"csrf_token": token, "kind": "items", "mode": "draft"})
    assert r.status_code == 422 and "请选择要导入的文件" in r.text
    # the good row imports (dry run: nothing written)
    r = c.post(f"/ui/banks/{api.bank_id}/import", data={"csrf_token": token, "kind": "items", "mode": "draft",
                                                         "dry_run": "1"},
               files={"file": ("items.csv", f"{header}\n{example}\n".encode(), "text/csv")})
    assert r.status_code == 200 and "检查通过" in r.text, r.text[-2000:]


def test_templates_hold_no_chinese_outside_the_catalog() -> None:
    """Every word a template shows goes through ``_()`` (issue 14): Chinese in a template is only
    inside a msgid (the regulation's citations) or a comment."""
    from pathlib import Path

    cjk = re.compile(r"[\u3400-\u9fff]")
    literal = re.compile(r"""_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
    for path in sorted((Path(__file__).parents[2] / "api" / "web" / "templates").glob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        rest = literal.sub("_()", text)
        found = [line for line in rest.splitlines() if cjk.search(line)]
        assert not found, f"{path.name}: Chinese outside _(): {found[:3]}"
