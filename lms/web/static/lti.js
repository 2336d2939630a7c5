// LTI pages: send the deep linking response on by itself, and tell the platform that opened the
// dynamic registration page that it is done (IMS LTI Dynamic Registration, "org.imsglobal.lti.close").
(function () {
  "use strict";
  var form = document.querySelector("form[data-lti-autosubmit]");
  if (form) { form.submit(); }
  if (document.querySelector("[data-lti-close]")) {
    var target = window.opener || window.parent;
    if (target && target !== window) { target.postMessage({ subject: "org.imsglobal.lti.close" }, "*"); }
  }
}());
