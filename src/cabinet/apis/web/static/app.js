/* cabinet: the little the pages do in the browser (every form also works without it).
   - form[data-confirm]: asks first in the page's native <dialog id="confirm-dialog">; the message is the attribute.
   - every POST form: busy while it is sent (aria-busy, buttons refuse a second tap); the server is idempotent anyway.
   - button[data-copy]: copies the text (or href) of the element its value names, and says so. */
(function () {
  "use strict";
  var dialog = null;

  function busy(form, on) {
    form.toggleAttribute("data-busy", on);
    form.setAttribute("aria-busy", on ? "true" : "false");
    form.querySelectorAll("button").forEach(function (b) {
      if (on) b.setAttribute("aria-disabled", "true"); else b.removeAttribute("aria-disabled");
    });
  }

  function ask(form, submitter) {
    dialog = dialog || document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return true;  // no dialog support: the server decides
    dialog.querySelector("[data-message]").textContent = form.getAttribute("data-confirm");
    var ok = dialog.querySelector("[data-ok]");
    ok.textContent = form.getAttribute("data-confirm-ok") || ok.getAttribute("data-default");
    ok.className = form.hasAttribute("data-danger") ? "danger" : "";
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return;
      form.setAttribute("data-confirmed", "");
      if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
    };
    dialog.showModal();
    ok.focus();
    return false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-busy")) { event.preventDefault(); event.stopImmediatePropagation(); return; }
    if (form.hasAttribute("data-confirm") && !form.hasAttribute("data-confirmed")) {
      event.preventDefault();
      event.stopImmediatePropagation();
      ask(form, event.submitter);
      return;
    }
    form.removeAttribute("data-confirmed");
  }, true);
  // after the form's own handlers: a form some other script sends itself (the field page's offline queue) is left
  // alone; htmx forms are freed again when their answer is in
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    if (!event.defaultPrevented || form.hasAttribute("hx-post")) busy(form, true);
  });

  // htmx forms stay on the page: free them when their answer is in (an error keeps the form usable)
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (form instanceof HTMLFormElement && document.contains(form)) busy(form, false);
  });
  // back to a page from the history: its forms are not being sent any more
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) document.querySelectorAll("form[data-busy]").forEach(function (f) { busy(f, false); });
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.getAttribute("href") || source.textContent.trim();
    var said = document.getElementById(button.getAttribute("aria-describedby") || "");
    var done = function () {
      if (said) said.textContent = button.getAttribute("data-copied");
      button.classList.add("copied");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { select(source); });
    } else { select(source); }
  });

  function select(element) {  // no clipboard (plain http): select the text so the person copies it
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
