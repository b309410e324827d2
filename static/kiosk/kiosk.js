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
    document.dispatchEvent(new CustomEvent("kiosk:start-over")); // voice.js falls silent
    resetForm.submit();
  }

  function warn() {
    var left = warningSeconds;
    var counter = dialog.querySelector("[data-countdown]");
    counter.textContent = left;
    dialog.hidden = false;
    dialog.querySelector("[data-idle-continue]").focus();
    document.dispatchEvent(new CustomEvent("kiosk:idle-warning")); // read aloud when voice is on
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
    if (!dialog.hidden) document.dispatchEvent(new CustomEvent("kiosk:idle-continue"));
    dialog.hidden = true;
    idleTimer = window.setTimeout(warn, idleSeconds * 1000);
  }

  function arm() {
    if (!idleSeconds || !dialog || !resetForm || arm.done) return;
    arm.done = true;
    ["pointerdown", "keydown", "input", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, touched, { passive: true, capture: true });
    });
    touched();
  }
  arm();
  // Voice or large text turned on where there was nothing to forget yet: now there is (voice.js tells us).
  document.addEventListener("kiosk:switched-on", function () {
    if (!idleSeconds) idleSeconds = parseInt(body.dataset.idleOnSwitch || "0", 10);
    arm();
  });

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
