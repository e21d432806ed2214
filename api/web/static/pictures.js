// 插入图片 (issue 17): put a picture's text at the cursor of the item form's text field used
// last (the stem when none was), then let the live preview know (an "input" event).
(function () {
  "use strict";
  var last = null;
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el && el.form && el.form.id === "item-form" &&
        (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text"))) {
      last = el;
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-picture]") : null;
    if (!button) { return; }
    var field = last && document.body.contains(last) ? last : document.getElementById("f-stem");
    if (!field) { return; }
    var text = button.getAttribute("data-insert-picture");
    var start = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === "number" ? field.selectionEnd : start;
    var before = field.value.slice(0, start);
    var after = field.value.slice(end);
    var piece = text;
    if (field.tagName === "TEXTAREA") {  // a picture stands on a line of its own
      piece = (before && before.slice(-1) !== "\n" ? "\n" : "") + text + (after.charAt(0) === "\n" ? "" : "\n");
    }
    field.value = before + piece + after;
    field.focus();
    var at = (before + piece).length;
    field.setSelectionRange(at, at);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
