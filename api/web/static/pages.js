/* itembank pages: the little the pages do in the browser (no inline script: the CSP allows
 * only files of this site). Everything here also works by keyboard; without script every
 * page still works, only these conveniences are missing.
 *
 * 1. Forms marked data-keep="key" keep what is typed in this tab's sessionStorage, so that a
 *    login that expired while typing loses nothing: after logging in again the page comes back
 *    with the typed content (the server re-renders the form body from it when the form has a
 *    data-refresh URL). A page reached with ?done= (a form was saved) forgets kept content.
 * 2. An htmx request answered 401 (the login expired) shows a notice with a link to log in.
 * 3. A checkbox data-tick-all="name" ticks every checkbox of that name in its form.
 * Words come from data-msg-* attributes of <body> (rendered in the reader's language).
 */
(function () {
  "use strict";
  var PREFIX = "itembank-keep:";
  var MAX_AGE_MS = 12 * 3600 * 1000;

  function msg(name) {
    return (document.body && document.body.getAttribute("data-msg-" + name)) || "";
  }

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function entries(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || name === "action" || typeof value !== "string") { return; }
      out.push([name, value]);
    });
    return out;
  }

  function forgetAll(store) {
    var keys = [];
    for (var i = 0; i < store.length; i++) {
      if (store.key(i).indexOf(PREFIX) === 0) { keys.push(store.key(i)); }
    }
    keys.forEach(function (k) { store.removeItem(k); });
  }

  function notice(text, kind, before) {
    var box = document.createElement("div");
    box.className = "flash " + (kind || "warn");
    box.setAttribute("role", "status");
    box.textContent = text;
    before.parentNode.insertBefore(box, before);
    return box;
  }

  function keep(form, store) {
    var key = PREFIX + form.getAttribute("data-keep");
    var timer = null;
    function save() {
      timer = null;
      store.setItem(key, JSON.stringify({at: Date.now(), path: location.pathname, fields: entries(form)}));
    }
    form.addEventListener("input", function () { if (!timer) { timer = setTimeout(save, 250); } });
    form.addEventListener("change", function () { if (!timer) { timer = setTimeout(save, 250); } });
    form.addEventListener("submit", save);
    var raw = store.getItem(key);
    if (!raw) { return; }
    var kept;
    try { kept = JSON.parse(raw); } catch (e) { store.removeItem(key); return; }
    if (!kept || kept.path !== location.pathname || Date.now() - kept.at > MAX_AGE_MS) { store.removeItem(key); return; }
    var now = JSON.stringify(entries(form));
    if (JSON.stringify(kept.fields) === now) { return; }
    restore(form, kept.fields);
  }

  function restore(form, fields) {
    var url = form.getAttribute("data-refresh");
    var target = url && document.querySelector(form.getAttribute("data-refresh-target") || "");
    var done = function () {
      notice(msg("restored"), "warn", form.firstElementChild || form);
      form.dispatchEvent(new Event("change", {bubbles: true}));  // the live preview follows
    };
    if (!url || !target) {
      fields.forEach(function (pair) {
        var el = form.elements.namedItem(pair[0]);
        if (el && "value" in el && el.type !== "checkbox" && el.type !== "radio") { el.value = pair[1]; }
      });
      done();
      return;
    }
    // the server renders the form body from the kept fields (options, scoring points, type)
    var data = new URLSearchParams();
    fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    var token = form.querySelector("input[name=csrf_token]");
    if (token) { data.append("csrf_token", token.value); }
    fetch(url, {method: "POST", body: data, credentials: "same-origin",
                headers: {"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        target.innerHTML = html;
        if (window.htmx) { window.htmx.process(target); }
        done();
      })
      .catch(function () { /* the form stays as the server gave it */ });
  }

  function tickAll(box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-tick-all");
      var scope = box.form || document;
      scope.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (c) { c.checked = box.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (store) {
      if (/[?&]done=/.test(location.search)) { forgetAll(store); }
      document.querySelectorAll("form[data-keep]").forEach(function (f) { keep(f, store); });
    }
    document.querySelectorAll("input[data-tick-all]").forEach(tickAll);
    document.body.addEventListener("htmx:responseError", function (ev) {
      var xhr = ev.detail && ev.detail.xhr;
      if (!xhr || xhr.status !== 401 || document.getElementById("login-expired")) { return; }
      var main = document.querySelector("main") || document.body;
      var box = notice(msg("expired") + " ", "bad", main.firstElementChild || main);
      box.id = "login-expired";
      var link = document.createElement("a");
      link.href = "/ui/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search);
      link.textContent = msg("login");
      box.appendChild(link);
    });
  });
})();
