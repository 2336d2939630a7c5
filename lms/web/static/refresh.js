// A part of a page that is still being made (a job's progress, a certificate's PDF) updates
// itself without reloading the page (a timed reload would take the reader's place away, WCAG
// 2.2.1): every element with an id and data-running is fetched again every few seconds and
// swapped in; its polite live region reads the new state. Without JavaScript the page's own
// "update now" link, or coming back later, does the same by hand.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) {
    return;
  }
  const every = 3000;
  function running() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-running]"), function (el) { return el.id; });
  }
  async function update() {
    let parts = running();
    if (!parts.length) {
      return;
    }
    try {
      const response = await fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}});
      if (response.ok) {
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        parts.forEach(function (part) {
          const fresh = page.getElementById(part.id);
          if (fresh) {
            part.innerHTML = fresh.innerHTML;
            if (!fresh.dataset.running) {
              delete part.dataset.running; // finished: stop asking for this part
            }
          }
        });
      }
    } catch (error) {
      // no connection: try again later
    }
    if (running().length) {
      window.setTimeout(update, every);
    }
  }
  window.setTimeout(update, every);
})();
