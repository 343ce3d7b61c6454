// Passkeys (WebAuthn): runs the ceremony whose options the page's form carries, then posts the
// authenticator's answer with that form. Served by the provider itself (CSP: script-src 'self').
// Without JavaScript the button stays hidden and the page says so; the code path still works.
(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  var button = document.getElementById("passkey-start");
  var status = document.getElementById("passkey-status");
  if (!form || !button) { return; }
  if (!window.PublicKeyCredential || !navigator.credentials) {
    status.textContent = form.getAttribute("data-unsupported");
    return;
  }
  var mode = form.getAttribute("data-mode");
  var options = JSON.parse(form.getAttribute("data-options")).publicKey;

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) {
      var copy = Object.assign({}, c);
      copy.id = toBuffer(c.id);
      return copy;
    });
  }

  options.challenge = toBuffer(options.challenge);
  if (mode === "create") {
    options.user.id = toBuffer(options.user.id);
    options.excludeCredentials = ids(options.excludeCredentials);
  } else {
    options.allowCredentials = ids(options.allowCredentials);
  }

  function answer(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (mode === "create") {
      out.response = {
        attestationObject: toText(r.attestationObject),
        clientDataJSON: toText(r.clientDataJSON)
      };
    } else {
      out.response = {
        authenticatorData: toText(r.authenticatorData),
        clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature),
        userHandle: r.userHandle ? toText(r.userHandle) : null
      };
    }
    return JSON.stringify(out);
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = form.getAttribute("data-waiting");
    var call = mode === "create"
      ? navigator.credentials.create({ publicKey: options })
      : navigator.credentials.get({ publicKey: options });
    call.then(function (cred) {
      form.elements.namedItem("credential").value = answer(cred);
      form.submit();
    }, function () {
      status.textContent = form.getAttribute("data-failed");
      button.disabled = false;
    });
  });
})();
