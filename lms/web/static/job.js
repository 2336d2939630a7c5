// A job's page updates itself while the job runs, without reloading the page (a timed reload
// would take the reader's place away, WCAG 2.2.1): the progress part is fetched again every few
// seconds and swapped in, and the polite live region reads the new state. Without JavaScript
// the "update now" link does the same by hand.
(function () {
  "use strict";
  const body = document.getElementById("job-body");
  if (!body || !body.dataset.running || !window.fetch || !window.DOMParser) {
    return;
  }
  const every = 3000;
  async function update() {
    try {
      const response = await fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}});
      if (response.ok) {
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.getElementById("job-body");
        if (fresh) {
          body.innerHTML = fresh.innerHTML;
          if (!fresh.dataset.running) {
            delete body.dataset.running;
            return; // finished: stop asking
          }
        }
      }
    } catch (error) {
      // no connection: try again later
    }
    window.setTimeout(update, every);
  }
  window.setTimeout(update, every);
})();
