// "Đọc to trang này": reads the lesson page aloud with the phone's own Vietnamese voice (Web
// Speech API). Nothing is downloaded; the text itself needs no script. The button stays hidden
// where the browser has no Vietnamese voice, since any other voice would mangle the tones.
(function () {
  'use strict';
  var box = document.querySelector('[data-read-aloud]');
  if (!box || !('speechSynthesis' in window) || !('SpeechSynthesisUtterance' in window)) return;
  var synth = window.speechSynthesis;
  var button = box.querySelector('button');
  var startText = button.textContent;
  var stopText = box.getAttribute('data-stop-text') || startText;
  var reading = false;

  function vietnameseVoice() {
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i++) {
      if (/^vi([-_]|$)/i.test(voices[i].lang)) return voices[i];
    }
    return null;
  }

  // Chrome cuts long utterances short: one per paragraph, list item or heading.
  function chunks() {
    var root = document.querySelector(box.getAttribute('data-read-aloud'));
    var out = [];
    root.querySelectorAll('h1, h2, h3, p, li, td, th, figcaption, .admonition-title').forEach(function (el) {
      if (el.closest('[data-read-aloud]')) return;
      var holder = el.parentElement && el.parentElement.closest('li, td, th');
      if (holder && root.contains(holder)) return; // read once, with the item that holds it
      var text = (el.innerText || '').trim();
      if (text) out.push(text);
    });
    return out;
  }

  function stop() {
    reading = false;
    synth.cancel();
    button.textContent = startText;
    button.setAttribute('aria-pressed', 'false');
  }

  function start() {
    var voice = vietnameseVoice();
    if (!voice) return;
    synth.cancel();
    reading = true;
    button.textContent = stopText;
    button.setAttribute('aria-pressed', 'true');
    var parts = chunks();
    parts.forEach(function (text, index) {
      var u = new SpeechSynthesisUtterance(text);
      u.lang = 'vi-VN';
      try { u.voice = voice; } catch (e) { /* lang alone still picks a Vietnamese voice */ }
      u.rate = 0.9; // a little slower than the default, for older listeners
      if (index === parts.length - 1) u.onend = function () { if (reading) stop(); };
      synth.speak(u);
    });
  }

  function offer() {
    if (vietnameseVoice()) box.hidden = false;
  }

  button.addEventListener('click', function () { if (reading) stop(); else start(); });
  window.addEventListener('pagehide', function () { synth.cancel(); });
  offer();
  if (typeof synth.addEventListener === 'function') synth.addEventListener('voiceschanged', offer);
})();
