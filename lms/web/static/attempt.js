/* Attempt page: save each answer as it is given. An answer that cannot be sent (no connection)
   waits in localStorage and is sent again when the connection returns, or when the page is
   opened again. Each question says "saved" or "waiting" in its aria-live line. Without this
   script the form's own Save / Submit buttons save everything. */
"use strict";
(function () {
  const form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch) {
    return;
  }
  const key = "lms-pending-answers:" + form.dataset.attempt;
  const token = (form.querySelector("input[name=csrf_token]") || {}).value || "";
  const text = {saved: form.dataset.savedText, waiting: form.dataset.waitingText, failed: form.dataset.failedText};
  let counter = Date.now();
  let sending = false;
  let again = false;

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "{}") || {};
    } catch (error) {
      return {};
    }
  }

  function store(pending) {
    try {
      if (Object.keys(pending).length) {
        window.localStorage.setItem(key, JSON.stringify(pending));
      } else {
        window.localStorage.removeItem(key);
      }
    } catch (error) { /* storage full or refused: the answer is still sent while online */ }
  }

  function fieldsetFor(questionId) {
    return Array.prototype.find.call(form.querySelectorAll("fieldset[data-question]"),
      (fs) => fs.dataset.question === questionId) || null;
  }

  function show(fieldset, state, message) {
    const line = fieldset && fieldset.querySelector("[data-save-state]");
    if (line) {
      line.dataset.state = state;
      line.textContent = message;
    }
  }

  // The question's fields exactly as the form would send them.
  function fieldsOf(fieldset) {
    const fields = [];
    fieldset.querySelectorAll("input, select, textarea").forEach((el) => {
      if (!el.name || el.disabled || ((el.type === "radio" || el.type === "checkbox") && !el.checked)) {
        return;
      }
      fields.push([el.name, el.value]);
    });
    return fields;
  }

  // After a reload, put answers not yet sent back into the inputs.
  function restore(fieldset, fields) {
    const given = {};
    fields.forEach(([name, value]) => { (given[name] = given[name] || []).push(value); });
    fieldset.querySelectorAll("input, select, textarea").forEach((el) => {
      const values = given[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values.includes(el.value);
      } else if (el.name) {
        el.value = values.length ? values[0] : "";
      }
    });
  }

  async function send(questionId, entry) {
    const body = new URLSearchParams(entry.fields);
    body.append("csrf_token", token);
    const url = form.dataset.autosave.replace("__Q__", encodeURIComponent(questionId));
    try {
      return await fetch(url, {method: "POST", body: body, credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": token}});
    } catch (error) {
      return null; // no connection
    }
  }

  async function flush() {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    try {
      do {
        again = false;
        const pending = load();
        for (const questionId of Object.keys(pending)) {
          const entry = pending[questionId];
          const response = await send(questionId, entry);
          const fieldset = fieldsetFor(questionId);
          // 400 (session or CSRF token expired), 401, 429 and 5xx may pass: keep the answer.
          const final = response && (response.ok || [404, 409, 422].includes(response.status));
          if (final) {
            const now = load();
            if (now[questionId] && now[questionId].seq === entry.seq) { // not changed meanwhile
              delete now[questionId];
              store(now);
            }
          }
          if (response && response.ok) {
            const data = await response.json().catch(() => null);
            // a ranking still being filled in is not an error: nothing to save yet
            show(fieldset, data && data.status === "incomplete" ? "idle" : "saved",
                 data && data.status === "incomplete" ? "" : text.saved);
          } else if (final) {
            const data = await response.json().catch(() => null);
            show(fieldset, "error", (data && data.error && data.error.message) || text.failed);
          } else {
            show(fieldset, "waiting", text.waiting);
          }
        }
      } while (again);
    } finally {
      sending = false;
    }
  }

  function record(fieldset) {
    const pending = load();
    counter += 1;
    pending[fieldset.dataset.question] = {fields: fieldsOf(fieldset), seq: counter};
    store(pending);
    show(fieldset, "waiting", text.waiting);
    flush();
  }

  let typing = null;
  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset[data-question]");
    if (fieldset) {
      window.clearTimeout(typing);
      record(fieldset);
    }
  });
  form.addEventListener("input", (event) => {
    const fieldset = event.target.closest("fieldset[data-question]");
    if (fieldset && event.target.type === "text") {
      window.clearTimeout(typing);
      typing = window.setTimeout(() => record(fieldset), 800);
    }
  });
  form.addEventListener("submit", (event) => {
    if (!navigator.onLine) {
      event.preventDefault();
      const notice = form.querySelector("[data-offline-notice]");
      if (notice) {
        notice.textContent = form.dataset.offlineText;
      }
      return;
    }
    store({}); // the form carries every answer itself
  });
  window.addEventListener("online", flush);
  window.setInterval(() => {
    if (Object.keys(load()).length) {
      flush();
    }
  }, 30000);

  const waiting = load();
  Object.keys(waiting).forEach((questionId) => {
    const fieldset = fieldsetFor(questionId);
    if (fieldset) {
      restore(fieldset, waiting[questionId].fields || []);
      show(fieldset, "waiting", text.waiting);
    }
  });
  flush();
})();
