// Kiosk voice guidance and large text: read the screen aloud from the rendered audio clips, one after another,
// and switch either on or off in place (the server remembers both for this visit; starting over forgets them).
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;
  var voiceForm = document.querySelector('form[data-switch="voice"]');
  var elderForm = document.querySelector('form[data-switch="elder"]');
  if (!voiceForm || !elderForm) return;
  var voiceButton = voiceForm.querySelector("button");
  var elderButton = elderForm.querySelector("button");
  var voiceState = document.getElementById("voice-state");
  var player = document.createElement("audio");
  var queue = [];
  var gapTimer = null;

  player.id = "voice-player";
  player.preload = "none"; // nothing is downloaded until something is read
  player.hidden = true;
  body.appendChild(player);

  function clips(name) {
    try { return JSON.parse(voiceButton.dataset[name] || "[]"); } catch (e) { return []; }
  }

  function stop() {
    queue = [];
    window.clearTimeout(gapTimer);
    player.pause();
    player.removeAttribute("src");
    delete body.dataset.speaking;
  }

  function next() {
    if (!queue.length) {
      delete body.dataset.speaking;
      document.dispatchEvent(new CustomEvent("kiosk:voice-done"));
      return;
    }
    var url = queue.shift();
    if (!url) { gapTimer = window.setTimeout(next, 450); return; } // the pause between groups of a code
    player.src = url;
    var playing = player.play();
    // A browser that refuses to play without a touch stays quiet until the button is pressed.
    if (playing && playing.catch) playing.catch(function (error) { if (error.name === "NotAllowedError") stop(); });
  }

  function speak(urls) {
    stop();
    queue = urls.slice();
    if (!queue.length) return;
    body.dataset.speaking = "1";
    next();
  }

  player.addEventListener("ended", function () { gapTimer = window.setTimeout(next, 150); });
  player.addEventListener("error", function () { if (player.getAttribute("src")) next(); }); // skip a broken clip

  function tell(form, name, on) {
    var data = new FormData(form);
    data.set(name, on ? "on" : "off");
    return window.fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", keepalive: true, headers: { "X-Kiosk-Switch": "1" }
    }).catch(function () { /* the switch still works on this screen */ });
  }

  function switched(on) {
    if (on) document.dispatchEvent(new CustomEvent("kiosk:switched-on")); // kiosk.js arms the idle reset
  }

  function pressed(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.value = on ? "off" : "on"; // what the form sends without this script
  }

  voiceForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var on = voiceButton.getAttribute("aria-pressed") !== "true";
    pressed(voiceButton, on);
    voiceState.hidden = !on;
    body.dataset.voice = on ? "on" : "off";
    tell(voiceForm, "voice", on);
    switched(on);
    if (on) speak(clips("playlist")); else stop();
  });

  elderForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var on = elderButton.getAttribute("aria-pressed") !== "true";
    pressed(elderButton, on);
    root.classList.toggle("elder", on);
    tell(elderForm, "elder", on);
    switched(on);
  });

  document.addEventListener("kiosk:idle-warning", function () {
    if (body.dataset.voice === "on") speak(clips("idlePlaylist"));
  });
  document.addEventListener("kiosk:idle-continue", stop);
  document.addEventListener("kiosk:start-over", stop);

  // Once voice is on, each screen is read as it opens (a kiosk's browser allows playing without a touch).
  if (body.dataset.voice === "on") speak(clips("playlist"));
})();
