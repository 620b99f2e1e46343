// The field page's outbox on the phone (issue 19), shared by the page (field.js) and its service worker
// (field-sw.js, Background Sync): IndexedDB "cabinet-field" with two stores, "drafts" (what is typed, photos not yet
// sent, and what reached the office) and "outbox" (requests waiting for a network, each with its Idempotency-Key).
// Whoever drains the outbox (the page on "online" or a visit, the service worker on "sync") holds a Web Lock, so
// the two never send the same request at once; a repeat after a lost answer is replayed by the server anyway.
(function (scope) {
  "use strict";
  const SYNC_TAG = "cabinet-field-outbox";

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

  // One IndexedDB transaction over the named stores: all of its writes land, or none (a reload or a closed tab in
  // the middle leaves the stores as they were before it).
  function transact(names, mode, work) {
    return database().then((db) => new Promise((resolve, reject) => {
      const transaction = db.transaction(names, mode);
      const request = work(transaction);
      transaction.oncomplete = () => { db.close(); resolve(request ? request.result : undefined); };
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    }));
  }

  function officeKey(token) { return "office:" + token; }

  function waiting(token) {
    return transact("outbox", "readonly", (t) => t.objectStore("outbox").getAll())
      .then((items) => items.filter((i) => !token || i.token === token).sort((a, b) => a.at - b.at));
  }

  // What reached the office from this phone (counts per kind) and what the office refused (its answer).
  function office(token) {
    return transact("drafts", "readonly", (t) => t.objectStore("drafts").get(officeKey(token)))
      .then((record) => record || { sent: {}, refused: [] });
  }

  function requestOf(item) {
    const headers = { "Idempotency-Key": item.key };
    if (!item.parts) {
      headers["Content-Type"] = "application/json";
      return { method: "POST", headers: headers, body: JSON.stringify(item.body), credentials: "omit" };
    }
    const data = new FormData();
    for (const part of item.parts) {
      if (part.blob) data.append(part.name, part.blob, part.filename);
      else data.append(part.name, part.value);
    }
    return { method: "POST", headers: headers, body: data, credentials: "omit" };
  }

  // The item leaves the outbox and the office record counts it, in one transaction; a report that reached the
  // office also ends its draft.
  function settle(item, refusal) {
    return transact(["outbox", "drafts"], "readwrite", (t) => {
      const drafts = t.objectStore("drafts");
      t.objectStore("outbox").delete(item.id);
      const read = drafts.get(officeKey(item.token));
      read.onsuccess = () => {
        const record = read.result || { sent: {}, refused: [] };
        if (refusal === null) record.sent[item.kind] = (record.sent[item.kind] || 0) + 1;
        else record.refused.push({ kind: item.kind, answer: refusal.slice(0, 500) });
        drafts.put(record, officeKey(item.token));
        if (refusal === null && item.kind === "report") drafts.delete("draft:" + item.token);
      };
      return null;
    });
  }

  function retryable(status) {
    return status >= 500 || status === 408 || status === 429;
  }

  // One request: true once the office answered it (taken or refused), false when it must wait (no network, or the
  // office busy). tell(outcome, item, answer) hears each answer.
  function deliver(item, tell) {
    return fetch(item.url, requestOf(item)).then((response) => {
      if (response.ok) return settle(item, null).then(() => { tell("sent", item, ""); return true; });
      if (retryable(response.status)) return false;
      return response.text().then((text) => settle(item, text).then(() => { tell("refused", item, text); return true; }));
    }, () => false);
  }

  // Sends what waits (one link's, or every link's when token is null), oldest first, stopping at the first that
  // must wait. Resolves true when the outbox has nothing left to send.
  function drain(token, tell) {
    const run = () => waiting(token).then((items) => items.reduce(
      (chain, item) => chain.then((ok) => (ok ? deliver(item, tell) : false)), Promise.resolve(true)));
    const locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request(SYNC_TAG, run) : run();
  }

  scope.cabinetOutbox = { SYNC_TAG, transact, waiting, office, drain };
})(self);
