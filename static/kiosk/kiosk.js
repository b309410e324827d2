// Community kiosk: start over after a while without a touch, print the receipt, and block double taps.
(function () {
  "use strict";
  var body = document.body;
  var idleSeconds = parseInt(body.dataset.idleSeconds || "0", 10);
  var warningSeconds = parseInt(body.dataset.warningSeconds || "20", 10);
  var dialog = document.getElementById("idle-warning");
  var resetForm = document.getElementById("idle-reset");
  var idleTimer = null;
  var countdownTimer = null;

  function startOver() {
    resetForm.submit();
  }

  function warn() {
    var left = warningSeconds;
    var counter = dialog.querySelector("[data-countdown]");
    counter.textContent = left;
    dialog.hidden = false;
    dialog.querySelector("[data-idle-continue]").focus();
    countdownTimer = window.setInterval(function () {
      left -= 1;
      counter.textContent = Math.max(left, 0);
      if (left <= 0) {
        window.clearInterval(countdownTimer);
        startOver();
      }
    }, 1000);
  }

  function touched() {
    if (!idleSeconds || !dialog) return;
    window.clearTimeout(idleTimer);
    window.clearInterval(countdownTimer);
    dialog.hidden = true;
    idleTimer = window.setTimeout(warn, idleSeconds * 1000);
  }

  if (idleSeconds && dialog && resetForm) {
    ["pointerdown", "keydown", "input", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, touched, { passive: true, capture: true });
    });
    touched();
  }

  // A page brought back by the browser's Back button from its memory (back/forward cache) may show what
  // someone else typed: fetch it again so that the server decides what is shown.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // A second tap on a confirm button must not send the form twice; the server replays it anyway.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
})();
