/* Registers the service worker that keeps visited lessons readable offline (sw.js). The page
   works the same without it. */
"use strict";
(function () {
  const script = document.currentScript;
  if (!script || !("serviceWorker" in navigator) || !window.isSecureContext) {
    return;
  }
  const url = script.dataset.sw;
  const scope = script.dataset.scope;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, {scope: scope}).catch(function () { /* reading online still works */ });
  });
})();
