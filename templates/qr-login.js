// QR login: poll the state of the code this page shows; swap the code when it rotates; once
// the app approved (or refused), submit the "continue" form. Without JavaScript the page works
// with its button (and the QR page refreshes itself).
(function () {
  "use strict";
  var box = document.getElementById("qr-login");
  var form = document.getElementById("qr-continue");
  if (!box || !form || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.status === "approved" || s.status === "denied") {
          form.submit();
          return;
        }
        if (s.status === "expired") {
          return;
        }
        var text = document.getElementById("qr-payload");
        if (s.payload && text && text.textContent !== s.payload) {
          document.getElementById("qr-image").innerHTML = s.svg;
          text.textContent = s.payload;
        }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
