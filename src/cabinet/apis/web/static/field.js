// The field page offline (issue 19): what the person types is kept on the phone (IndexedDB) as they type; the
// report goes into an outbox on the phone and is sent to POST /shared/call/done with an Idempotency-Key (so a
// retry after a lost answer applies once), when there is a network: now, on the "online" event, on the next
// visit, or after a back-off. The status line says, in the page's language, what is on the phone and what has
// reached the office.
(function () {
  "use strict";
  const CACHE = "cabinet-field-v1";
  const form = document.getElementById("field-report");
  const status = document.getElementById("field-status");
  const token = status && status.dataset.token;
  if (!token) return;
  const draftKey = "draft:" + token;
  let retryTimer = null;
  let tries = 0;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/ui/field-sw.js", { scope: "/ui/link/" })
      .then(() => navigator.serviceWorker.ready)
      .then(() => caches.open(CACHE))
      .then((cache) => cache.add(location.pathname))
      .catch(() => undefined);
  }

  function say(name, extra) {
    if (!status) return;
    const text = status.dataset[name] || "";
    status.textContent = extra ? text + " " + extra : text;
    status.dataset.state = name;
  }

  function database() {
    return new Promise((resolve, reject) => {
      const opening = indexedDB.open("cabinet-field", 1);
      opening.onupgradeneeded = () => {
        opening.result.createObjectStore("drafts");
        opening.result.createObjectStore("outbox", { keyPath: "id" });
      };
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error);
    });
  }

  function withStore(name, mode, work) {
    return database().then((db) => new Promise((resolve, reject) => {
      const transaction = db.transaction(name, mode);
      const request = work(transaction.objectStore(name));
      transaction.oncomplete = () => resolve(request ? request.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    }));
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // --- drafts: every field as typed ------------------------------------------------------------------------
  function fieldsOf() {
    const values = {};
    for (const element of form.elements) {
      if (!element.name || element.name === "csrf_token" || element.type === "file") continue;
      if (element.type === "radio") {
        if (element.checked) values[element.name] = element.value;
      } else {
        values[element.name] = element.value;
      }
    }
    return values;
  }

  function restore(values) {
    for (const element of form.elements) {
      if (!(element.name in values)) continue;
      if (element.type === "radio") element.checked = element.value === values[element.name];
      else if (element.type !== "file") element.value = values[element.name];
    }
  }

  function saveDraft() {
    return withStore("drafts", "readwrite", (store) => store.put({ values: fieldsOf(), saved: Date.now() }, draftKey))
      .then(() => say("saved"))
      .catch(() => undefined);
  }

  // --- the outbox ----------------------------------------------------------------------------------------------
  function number(text) {
    return Number(String(text).trim().replace(",", "."));
  }

  function reportOf(values) {
    const report = { comments: values.comments || "", callTaskResults: [], expenses: [], materials: [] };
    for (const [name, value] of Object.entries(values)) {
      let match = /^task_(\d+)$/.exec(name);
      if (match && (value === "Done" || value === "Canceled")) {
        report.callTaskResults.push({ taskId: Number(match[1]), newStatus: value });
      }
      match = /^expense_(\d+)$/.exec(name);
      if (match && String(value).trim() && number(value) > 0) {
        report.expenses.push({ expenditureItemId: Number(match[1]), count: number(value) });
      }
      match = /^material_(\d+)_name$/.exec(name);
      if (match && String(value).trim()) {
        const row = "material_" + match[1] + "_";
        report.materials.push({
          name: value.trim(),
          serialNumber: (values[row + "serial"] || "").trim(),
          ownerType: values[row + "owner"],
          count: number(values[row + "count"] || "1"),
          price: number(values[row + "price"] || "0"),
        });
      }
    }
    return report;
  }

  function queued() {
    return withStore("outbox", "readonly", (store) => store.getAll()).then((items) => items.filter((i) => i.token === token));
  }

  function send() {
    clearTimeout(retryTimer);
    return queued().then((items) => {
      if (!items.length) return;
      say("sending");
      return items.reduce((chain, item) => chain.then(() => deliver(item)), Promise.resolve());
    });
  }

  function deliver(item) {
    return fetch(item.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": item.key },
      body: JSON.stringify(item.body),
      credentials: "omit",
    }).then((response) => {
      if (response.ok) {
        tries = 0;
        return withStore("outbox", "readwrite", (store) => store.delete(item.id))
          .then(() => withStore("drafts", "readwrite", (store) => store.delete(draftKey)))
          .then(() => { say("sent"); setTimeout(() => location.reload(), 800); });
      }
      if (response.status >= 500 || response.status === 408 || response.status === 429) throw new Error("retry");
      return response.text().then((text) => {
        withStore("outbox", "readwrite", (store) => store.delete(item.id));
        say("refused", text);
      });
    }).catch(() => {
      tries += 1;
      say("queued");
      retryTimer = setTimeout(send, Math.min(60000, 1000 * 2 ** Math.min(tries, 6)));
    });
  }

  window.addEventListener("online", () => { tries = 0; send(); });

  if (form) {
    withStore("drafts", "readonly", (store) => store.get(draftKey))
      .then((draft) => { if (draft) { restore(draft.values); say("saved"); } })
      .catch(() => undefined);
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const item = {
        id: uuid(),
        key: uuid(),
        token: token,
        url: "/shared/call/done?token=" + encodeURIComponent(token),
        body: reportOf(fieldsOf()),
        at: Date.now(),
      };
      withStore("outbox", "readwrite", (store) => store.put(item))
        .then(() => { say("queued"); return navigator.onLine ? send() : undefined; });
    });
  }
  queued().then((items) => { if (items.length) { say("queued"); if (navigator.onLine) send(); } }).catch(() => undefined);
})();
