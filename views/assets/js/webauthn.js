/*
 * Passkey ceremonies for any form marked data-webauthn="register|authenticate". The form's
 * data-options-url gives the server's options; the browser's answer goes into the hidden
 * "response" field and the form is submitted normally, so the server renders the outcome.
 * Uses @simplewebauthn/browser (served locally as SimpleWebAuthnBrowser).
 */
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var errorBox = document.getElementById('js-error');
  var errorText = document.getElementById('js-error-text');

  function showError(key) {
    if (!errorBox) return;
    errorText.textContent = errorBox.getAttribute('data-msg-' + key) || document.body.getAttribute('data-msg-' + key) || key;
    errorBox.hidden = false;
    errorBox.focus();
  }

  function fetchOptions(form) {
    var email = form.querySelector('input[name="email"]');
    return fetch(form.getAttribute('data-options-url'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, accept: 'application/json' },
      body: JSON.stringify({ email: email ? email.value : '' }),
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) { var e = new Error(body.error || 'server'); e.code = body.error || 'server'; e.description = body.error_description; throw e; }
        return body;
      });
    });
  }

  function run(form, autofill) {
    var kind = form.getAttribute('data-webauthn');
    return fetchOptions(form).then(function (options) {
      if (kind === 'register') return lib.startRegistration({ optionsJSON: options });
      return lib.startAuthentication({ optionsJSON: options, useBrowserAutofill: !!autofill });
    }).then(function (response) {
      form.querySelector('input[name="response"]').value = JSON.stringify(response);
      form.setAttribute('data-ready', 'true');
      form.submit();
    });
  }

  function explain(err) {
    if (err && err.description) { errorText.textContent = err.description; errorBox.hidden = false; errorBox.focus(); return; }
    if (err && (err.name === 'NotAllowedError' || err.name === 'AbortError')) return showError('cancelled');
    if (err && err.name === 'InvalidStateError') return showError('exists');
    showError('failed');
  }

  document.querySelectorAll('form[data-webauthn]').forEach(function (form) {
    if (!lib || !lib.browserSupportsWebAuthn()) { showError('unsupported'); return; }
    form.addEventListener('submit', function (ev) {
      if (form.getAttribute('data-ready') === 'true') return;
      ev.preventDefault();
      if (errorBox) errorBox.hidden = true;
      run(form, false).catch(explain);
    });
    if (form.getAttribute('data-autofill') === 'true') {
      lib.browserSupportsWebAuthnAutofill().then(function (ok) {
        if (ok) run(form, true).catch(function () { /* autofill ends quietly when a button ceremony starts */ });
      });
    }
  });
}());
