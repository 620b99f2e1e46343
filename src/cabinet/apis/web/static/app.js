/* cabinet: the little the pages do in the browser (every form also works without it).
   - form[data-confirm]: asks first in the page's native <dialog id="confirm-dialog">; the message is the attribute.
   - every POST form: busy while it is sent (aria-busy, buttons refuse a second tap); the server is idempotent anyway.
   - button[data-copy]: copies the text (or href) of the element its value names, and says so.
   - a cost estimate's lines: line totals and the total follow what is typed.
   - a form sent with mistakes comes back (forms.py): its values go back in, each message beside its field, the
     summary on top of the form, the focus on the first field to fix. */
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

  function sentForm(state) {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var f = forms[i];
      var method = (f.getAttribute("method") || "get").toUpperCase();
      if (method === state.method && new URL(f.action, location.href).pathname === state.action) return f;
    }
    return null;
  }

  function fieldsNamed(form, name) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name === name || el.name === name + "[]";
    });
  }

  function putBack(form, name, values) {
    fieldsNamed(form, name).forEach(function (el) {
      var type = (el.type || "").toLowerCase();
      if (type === "password" || type === "hidden" || type === "file" || el.name === "csrf_token") return;
      if (type === "checkbox" || type === "radio") { el.checked = values.indexOf(el.value) >= 0; return; }
      if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
        return;
      }
      if (values.length) el.value = values[0];
    });
  }

  function labelOf(el) {
    var label = el.labels && el.labels[0];
    var fieldset = el.closest("fieldset");
    var text = label ? label.textContent : (fieldset && fieldset.querySelector("legend") || {}).textContent;
    return (text || "").replace(/\s+/g, " ").trim();
  }

  function parseNumber(text) {
    var n = Number(String(text).replace(/\s/g, "").replace(",", "."));
    return String(text).trim() === "" ? NaN : n;
  }

  function liveTotals() {  // an estimate's line totals and its total follow what is typed (the server counts exactly)
    document.querySelectorAll("[data-totals]").forEach(function (list) {
      var money;
      try {
        money = new Intl.NumberFormat(document.documentElement.lang || undefined,
          {style: "currency", currency: list.getAttribute("data-totals")});
      } catch (e) { return; }
      list.addEventListener("input", function () {
        var sum = 0, known = true;
        list.querySelectorAll("form[data-line-total]").forEach(function (form) {
          var total = parseNumber(form.querySelector("[data-count]").value) *
            parseNumber(form.querySelector("[data-price]").value);
          var out = form.querySelector("[data-total]");
          if (isFinite(total)) { out.textContent = money.format(total); sum += total; }
          else { out.textContent = "—"; known = false; }
        });
        var grand = document.querySelector("[data-grand-total]");
        if (grand) grand.textContent = known ? money.format(sum) : "—";
      });
    });
  }

  function sentence(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

  function restoreForm() {
    var data = document.getElementById("form-state");
    if (!data) return;
    var state;
    try { state = JSON.parse(data.textContent); } catch (e) { return; }
    var form = sentForm(state);
    var summary = document.getElementById("form-errors");
    if (!form) { if (summary) summary.focus(); return; }
    var folded = form.closest("details");
    if (folded) folded.open = true;
    Object.keys(state.values || {}).forEach(function (name) { putBack(form, name, state.values[name]); });
    var first = null;
    Object.keys(state.errors || {}).forEach(function (name, n) {
      var fields = fieldsNamed(form, name);
      if (!fields.length) return;
      var field = fields[0];
      var note = document.createElement("p");
      note.className = "field-error";
      note.id = "field-error-" + n;
      note.textContent = sentence(state.errors[name]);
      var anchor = field.closest("label") || field;
      if (field.type === "checkbox" || field.type === "radio") anchor = field.closest("fieldset") || anchor;
      anchor.insertAdjacentElement(anchor === field ? "afterend" : "beforeend", note);
      fields.forEach(function (el) {
        el.setAttribute("aria-invalid", "true");
        var described = el.getAttribute("aria-describedby");
        el.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
      });
      if (summary) {
        var item = summary.querySelector('li[data-field="' + CSS.escape(name) + '"]');
        var label = labelOf(field);
        if (item && label) {
          var link = document.createElement("a");
          link.href = "#" + (field.id || "");
          var said = state.errors[name];
          link.textContent = said.toLowerCase().indexOf(label.toLowerCase()) === 0 ? sentence(said) : label + ": " + said;
          link.addEventListener("click", function (event) { event.preventDefault(); field.focus(); });
          item.textContent = "";
          item.appendChild(link);
        }
      }
      first = first || field;
    });
    if (summary) form.insertBefore(summary, form.firstChild);
    if (first) { first.focus(); first.scrollIntoView({block: "center"}); } else if (summary) summary.focus();
  }

  // a file input is unseen (style.css: input.picker): the names of the files chosen are shown beside its label
  function showPicked() {
    document.querySelectorAll("input[type=file][data-picked]").forEach(function (input) {
      var shown = document.getElementById(input.dataset.picked);
      if (!shown) return;
      input.addEventListener("change", function () {
        shown.textContent = Array.from(input.files, function (file) { return file.name; }).join(", ");
      });
    });
  }

  // a webhook's events: "all events" and a choice of single ones exclude each other (as GitHub's "send me
  // everything" or "let me select"): ticking one unticks the other side
  function eventChoices() {
    document.querySelectorAll('input[name="events"][value="*"]').forEach(function (all) {
      var others = all.closest("fieldset").querySelectorAll('input[name="events"]:not([value="*"])');
      all.addEventListener("change", function () {
        if (all.checked) others.forEach(function (other) { other.checked = false; });
      });
      others.forEach(function (other) {
        other.addEventListener("change", function () { if (other.checked) all.checked = false; });
      });
    });
  }

  function ready() { restoreForm(); liveTotals(); showPicked(); eventChoices(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
