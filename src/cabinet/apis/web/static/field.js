// The field page offline (issue 19): what the person types is kept on the phone (IndexedDB) as they type; the
// report goes into an outbox on the phone (field-outbox.js) and is sent to POST /shared/call/done with an
// Idempotency-Key (so a retry after a lost answer applies once) when there is a network: by the service worker's
// Background Sync where the browser has it, else by the page now, on the "online" event, on the next visit, or
// after a back-off. The page says, in its language, what is on the phone and what has reached the office.
(function () {
  "use strict";
  const CACHE = "cabinet-field-v1";
  const form = document.getElementById("field-report");
  const status = document.getElementById("field-status");
  const token = status && status.dataset.token;
  if (!token) return;
  const draftKey = "draft:" + token;
  const Outbox = self.cabinetOutbox;
  const transact = Outbox.transact;
  let retryTimer = null;
  let tries = 0;
  let reloadAfter = false;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/ui/field-sw.js", { scope: "/ui/link/" })
      .then(() => navigator.serviceWorker.ready)
      .then(() => caches.open(CACHE))
      .then((cache) => cache.add(location.pathname))
      .catch(() => undefined);
    // The service worker sent something (Background Sync): say so, and show the Done view once the report is in.
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (!event.data || event.data.type !== "cabinet-outbox" || event.data.token !== token) return;
      heard(event.data.outcome, { kind: event.data.kind }, event.data.answer || "");
    });
  }

  // Background Sync where the browser has it: the service worker sends the outbox when the network returns, even
  // with the page closed. Elsewhere the page sends it itself (now, on "online", on the next visit, with back-off).
  function registerSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => (registration.sync ? registration.sync.register(Outbox.SYNC_TAG) : undefined))
      .then(() => { if (status) status.dataset.sync = "registered"; })
      .catch(() => undefined);
  }

  function say(name, extra) {
    if (!status) return;
    const text = status.dataset[name] || "";
    status.textContent = extra ? text + " " + extra : text;
    status.dataset.state = name;
  }

  function withStore(name, mode, work) {
    return transact(name, mode, (transaction) => work(transaction.objectStore(name)));
  }

  // --- what is on the phone and what reached the office, in the page's language -----------------------------
  const where = document.getElementById("field-where");

  function listOf(counts) {
    const labels = where.dataset;
    return ["report", "visit", "signature", "photo"].filter((kind) => counts[kind])
      .map((kind) => (labels[kind] || kind).replace("{n}", counts[kind])).join(", ");
  }

  let looks = 0;  // show() reads the stores asynchronously: only the latest look may paint (an older one is stale)

  function show() {
    if (!where) return Promise.resolve();
    const look = ++looks;
    return Promise.all([Outbox.waiting(token), Outbox.office(token)]).then(([items, office]) => {
      if (look !== looks) return;
      const onPhone = {};
      for (const item of items) onPhone[item.kind] = (onPhone[item.kind] || 0) + 1;
      const phone = listOf(onPhone);
      const sent = listOf(office.sent);
      where.querySelector("[data-phone]").hidden = !phone;
      where.querySelector("[data-phone] span").textContent = phone;
      where.querySelector("[data-office]").hidden = !sent;
      where.querySelector("[data-office] span").textContent = sent;
      where.hidden = !phone && !sent;
      // The report is in and nothing waits: the page shows the call as the office has it now (the Done view).
      if (reloadAfter && form && !items.length) { say("sent"); setTimeout(() => location.reload(), 500); }
    });
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
    const counts = {};  // one line per expense item: rows naming the same item add up
    for (const [name, value] of Object.entries(values)) {
      let match = /^task_(\d+)$/.exec(name);
      if (match && (value === "Done" || value === "Canceled")) {
        report.callTaskResults.push({ taskId: Number(match[1]), newStatus: value });
      }
      match = /^expense_row_(\d+)_count$/.exec(name);
      const item = match ? values["expense_row_" + match[1] + "_item"] : null;
      if (match && item && String(value).trim() && number(value) > 0) {
        counts[item] = (counts[item] || 0) + number(value);
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
    for (const [item, count] of Object.entries(counts)) {
      report.expenses.push({ expenditureItemId: Number(item), count: Math.round(count * 1000) / 1000 });
    }
    return report;
  }

  function heard(outcome, item, answer) {
    if (outcome === "refused") say("refused", answer);
    if (outcome === "sent" && item.kind === "report") reloadAfter = true;
    show().catch(() => undefined);
  }

  function send() {
    clearTimeout(retryTimer);
    return Outbox.waiting(token).then((items) => {
      if (!items.length) return;
      say("sending");
      return Outbox.drain(token, heard).then((empty) => {
        if (empty) {
          tries = 0;
          if (status.dataset.state === "sending") say("sent");
          return;
        }
        tries += 1;
        say("queued");
        retryTimer = setTimeout(send, Math.min(60000, 1000 * 2 ** Math.min(tries, 6)));
      });
    }).then(show);
  }

  // An outbox entry: its own Idempotency-Key, kept with it across reloads and retries; sent in the order of "at".
  function stamped(item, at) {
    item.id = uuid();
    item.key = uuid();
    item.token = token;
    item.at = at;
    return item;
  }

  function queuedNow() {
    say("queued");
    registerSync();
    return show();
  }

  function enqueue(item) {
    return withStore("outbox", "readwrite", (store) => store.put(stamped(item, Date.now())))
      .then(queuedNow)
      .then(() => (navigator.onLine ? send() : undefined));
  }

  function linkUrl(path) {
    return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
  }

  // --- photos: downscaled on the phone (longest side 2560 px, JPEG, upright), sent after the report -----------
  const PHOTO_SIDE = 2560;

  function downscale(file) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then((bitmap) => {
      const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise((resolve) => canvas.toBlob((blob) => resolve(blob || file), "image/jpeg", 0.9));
    }).catch(() => file);
  }

  function photoKey() { return "photos:" + token; }

  function photosOnPhone() {
    return withStore("drafts", "readonly", (store) => store.get(photoKey())).then((list) => list || []);
  }

  function showPhotos() {
    return photosOnPhone().then((list) => {
      for (const counter of document.querySelectorAll("[data-photo-count]")) {
        const n = list.filter((p) => String(p.taskId) === counter.dataset.photoCount).length;
        counter.textContent = n ? (status.dataset.photos || "") + " " + n : "";
      }
    });
  }

  for (const input of document.querySelectorAll("input[data-photos-for]")) {
    input.addEventListener("change", () => {
      const taskId = input.dataset.photosFor;
      Promise.all(Array.from(input.files, (file) => downscale(file).then((blob) => ({
        taskId: taskId, blob: blob, filename: (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg",
      })))).then((added) => photosOnPhone().then((list) => withStore("drafts", "readwrite", (store) => store.put(list.concat(added), photoKey()))))
        .then(() => { input.value = ""; say("saved"); return showPhotos(); })
        .catch(() => undefined);
    });
  }

  function photoItem(photo) {
    return {
      kind: "photo",
      url: linkUrl("/shared/callTask/" + photo.taskId + "/attachment"),
      parts: [{ name: "Attachment", blob: photo.blob, filename: photo.filename }],
    };
  }

  // The report, the signature not yet saved (if any) and the photos of the tasks marked Done move into the outbox
  // in ONE transaction over both stores: a reload at any moment finds all of them in the outbox or none of them
  // (and then the photos still in the drafts). The photos go after the report (the server takes a photo of a Done
  // task only); those of tasks left for later stay in the drafts.
  function queueReport(report, signature) {
    const done = report.callTaskResults.filter((r) => r.newStatus === "Done").map((r) => String(r.taskId));
    const at = Date.now();
    return transact(["outbox", "drafts"], "readwrite", (transaction) => {
      const outbox = transaction.objectStore("outbox");
      const drafts = transaction.objectStore("drafts");
      outbox.put(stamped({ kind: "report", url: linkUrl("/shared/call/done"), body: report }, at));
      if (signature) outbox.put(stamped(signature, at + 1));
      const photos = drafts.get(photoKey());
      photos.onsuccess = () => {
        const list = photos.result || [];
        list.filter((p) => done.includes(String(p.taskId)))
          .forEach((photo, index) => outbox.put(stamped(photoItem(photo), at + 2 + index)));
        const kept = list.filter((p) => !done.includes(String(p.taskId)));
        if (kept.length) drafts.put(kept, photoKey());
        else drafts.delete(photoKey());
      };
      return null;
    }).then(() => { status.dataset.report = "queued"; return queuedNow(); });
  }

  // --- visits: check-in / check-out with the phone's time and, if allowed, its position -----------------------
  function position() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracyMeters: p.coords.accuracy }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }
      );
    });
  }

  for (const button of document.querySelectorAll("button[data-visit]")) {
    button.addEventListener("click", () => {
      const clientTime = new Date().toISOString();
      // the other one is the likely next tap: it becomes the filled button
      for (const other of document.querySelectorAll("button[data-visit]")) {
        other.classList.toggle("secondary", other === button);
      }
      position().then((where) => enqueue({
        kind: "visit",
        url: linkUrl("/shared/call/visit"),
        body: Object.assign({ action: button.dataset.visit, clientTime: clientTime }, where || {}),
      }));
    });
  }

  // --- the customer's signature: pointer events on a canvas (finger, pen or mouse) ---------------------------
  let unsavedSignature = () => Promise.resolve(null);
  let signatureSent = () => undefined;
  const pad = document.getElementById("signature-pad");
  if (pad) {
    const ink = pad.getContext("2d");
    let drawing = false;
    let signed = false;
    ink.lineWidth = 2.5;
    ink.lineCap = "round";
    ink.strokeStyle = "#000";
    const at = (event) => {
      const box = pad.getBoundingClientRect();
      return [(event.clientX - box.left) * (pad.width / box.width), (event.clientY - box.top) * (pad.height / box.height)];
    };
    pad.addEventListener("pointerdown", (event) => {
      drawing = true;
      pad.setPointerCapture(event.pointerId);
      ink.beginPath();
      ink.moveTo(...at(event));
    });
    pad.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      ink.lineTo(...at(event));
      ink.stroke();
      signed = true;
    });
    const stop = () => { drawing = false; };
    pad.addEventListener("pointerup", stop);
    pad.addEventListener("pointercancel", stop);
    document.getElementById("signature-clear").addEventListener("click", () => {
      ink.clearRect(0, 0, pad.width, pad.height);
      signed = false;
    });
    const name = document.getElementById("signer-name");
    const clear = () => { ink.clearRect(0, 0, pad.width, pad.height); signed = false; };
    const signature = () => new Promise((resolve) => pad.toBlob((blob) => resolve({
      kind: "signature",
      url: linkUrl("/shared/call/signature"),
      parts: [{ name: "file", blob: blob, filename: "signature.png" }, { name: "signerName", value: name.value.trim() }],
    }), "image/png"));
    document.getElementById("signature-save").addEventListener("click", () => {
      if (!signed || !name.value.trim()) { name.reportValidity(); return; }
      signature().then(enqueue).then(clear);
    });
    // A signature drawn and named but not saved on its own goes with the report, in the same transaction.
    unsavedSignature = () => (signed && name.value.trim() ? signature() : Promise.resolve(null));
    signatureSent = clear;
  }

  window.addEventListener("online", () => { tries = 0; send(); });

  // Expenses and materials one row at a time, none at first: a row appears with "Add …" (or when a draft has it
  // filled); "Remove" takes a row out and moves the rows below it up, so the rows stay numbered 1, 2, 3 as their
  // labels say.
  const groups = Array.from(document.querySelectorAll("[data-rows]"));

  function controlsOf(row) { return Array.from(row.querySelectorAll("input, select")); }
  function filled(row) { const key = row.querySelector("[data-row-key]"); return !!key && !!key.value.trim(); }
  function reset(row) {
    for (const control of controlsOf(row)) {
      if (control.tagName === "SELECT") {
        const chosen = Array.from(control.options).findIndex((o) => o.defaultSelected);
        control.selectedIndex = Math.max(0, chosen);
      } else {
        control.value = control.defaultValue;
      }
    }
  }

  function layout(group, reveal) {
    const rows = Array.from(group.querySelectorAll("[data-row]"));
    if (reveal) {  // none shown until one is added (most reports have no materials), or up to the last filled
      let last = -1;
      rows.forEach((row, index) => { if (filled(row)) last = index; });
      rows.forEach((row, index) => { row.hidden = index > last; });
    }
    const shown = rows.filter((row) => !row.hidden);
    for (const row of rows) row.querySelector("[data-row-remove]").hidden = row.hidden;
    group.querySelector("[data-row-add]").hidden = shown.length === rows.length;
  }

  for (const group of groups) {
    const add = group.querySelector("[data-row-add]");
    add.addEventListener("click", () => {
      const next = group.querySelector("[data-row][hidden]");
      if (!next) return;
      next.hidden = false;
      layout(group, false);
      controlsOf(next)[0].focus();
    });
    for (const button of group.querySelectorAll("[data-row-remove]")) {
      button.addEventListener("click", () => {
        const rows = Array.from(group.querySelectorAll("[data-row]")).filter((row) => !row.hidden);
        const from = rows.indexOf(button.closest("[data-row]"));
        for (let index = from; index < rows.length - 1; index += 1) {
          const below = controlsOf(rows[index + 1]);
          controlsOf(rows[index]).forEach((control, n) => { control.value = below[n].value; });
        }
        const last = rows[rows.length - 1];
        reset(last);
        last.hidden = true;
        layout(group, false);
        const stay = rows[Math.min(from, rows.length - 2)];
        (stay && !stay.hidden ? controlsOf(stay)[0] : group.querySelector("[data-row-add]")).focus();
        if (form) saveDraft();
      });
    }
    group.addEventListener("input", () => layout(group, false));
    layout(group, true);
  }

  // A draft kept before the expense rows had one field per item (expense_<item id>): it becomes rows.
  function migrated(values) {
    const out = {};
    let row = 0;
    for (const [name, value] of Object.entries(values)) {
      const match = /^expense_(\d+)$/.exec(name);
      if (!match) { out[name] = value; continue; }
      if (!String(value).trim()) continue;
      row += 1;
      out["expense_row_" + row + "_item"] = match[1];
      out["expense_row_" + row + "_count"] = value;
    }
    return out;
  }

  if (form) {
    withStore("drafts", "readonly", (store) => store.get(draftKey))
      .then((draft) => {
        if (!draft) return;
        restore(migrated(draft.values));
        for (const group of groups) layout(group, true);
        say("saved");
      })
      .catch(() => undefined);
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
    let submitting = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (submitting) return;  // a double tap queues one report
      submitting = true;
      const report = reportOf(fieldsOf());
      unsavedSignature()
        .then((signature) => queueReport(report, signature).then(() => { if (signature) signatureSent(); }))
        .then(() => (navigator.onLine ? send() : undefined))
        .catch(() => { submitting = false; say("stuck"); });
    });
  }
  showPhotos().catch(() => undefined);
  Outbox.waiting(token).then((items) => {
    if (!items.length) return;
    say("queued");
    registerSync();
    if (navigator.onLine) send();
  }).then(show).catch(() => undefined);
})();
