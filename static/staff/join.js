// The join page: fetch a short-lived token, connect with twilio-video.js, and keep the controls honest.
(function () {
  "use strict";

  var call = document.getElementById("call");
  if (!call) return;
  var text = JSON.parse(document.getElementById("join-text").textContent);
  var names = JSON.parse(document.getElementById("participant-names").textContent);
  var isLocal = call.dataset.local === "1";
  var slotEnd = new Date(call.dataset.slotEnd);

  var joinButton = document.getElementById("join");
  var muteButton = document.getElementById("mute");
  var cameraButton = document.getElementById("camera");
  var leaveButton = document.getElementById("leave");
  var statusLine = document.getElementById("status");
  var reconnecting = document.getElementById("reconnecting");
  var localMedia = document.getElementById("local-media");
  var remoteMedia = document.getElementById("remote-media");
  var placeholder = document.getElementById("remote-placeholder");
  var participantList = document.getElementById("participants");
  var nobody = document.getElementById("nobody");
  var elapsed = document.getElementById("elapsed");
  var remaining = document.getElementById("remaining");

  var room = null;
  var previewStream = null;
  var connectedAt = null;
  var muted = false;
  var cameraOff = false;

  // The page carries the CSRF token: the cookie is HttpOnly, out of reach of any script.
  function csrfToken() {
    return call.getAttribute("data-csrf") || "";
  }

  function say(message) {
    statusLine.textContent = message;
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" : "") + two(m) + ":" + two(s % 60);
  }

  function tick() {
    var now = new Date();
    elapsed.textContent = connectedAt ? clock(now - connectedAt) : "00:00";
    remaining.textContent = slotEnd > now ? clock(slotEnd - now) : text.ended;
  }
  setInterval(tick, 1000);
  tick();

  function nameOf(identity) {
    return names[identity] || text.participant;
  }

  function setControls(active) {
    joinButton.disabled = active;
    muteButton.disabled = !active;
    cameraButton.disabled = !active;
    leaveButton.disabled = !active;
  }

  function listParticipants() {
    participantList.querySelectorAll("li[data-identity]").forEach(function (li) { li.remove(); });
    var people = [];
    if (room) {
      people.push({ identity: room.localParticipant.identity, label: text.you });
      room.participants.forEach(function (p) { people.push({ identity: p.identity, label: nameOf(p.identity) }); });
    } else if (previewStream) {
      people.push({ identity: "local", label: text.you });
    }
    people.forEach(function (person) {
      var li = document.createElement("li");
      li.dataset.identity = person.identity;
      li.textContent = person.label;
      participantList.appendChild(li);
    });
    nobody.hidden = people.length > 0;
    placeholder.hidden = !!(room && room.participants.size);
  }

  function attachTrack(track, container) {
    if (track.kind === "data" || !track.attach) return;
    var element = track.attach();
    element.dataset.trackSid = track.sid || track.name || "";
    container.appendChild(element);
  }

  function detachTrack(track) {
    if (!track.detach) return;
    track.detach().forEach(function (element) { element.remove(); });
  }

  function participantBox(participant) {
    var box = document.createElement("figure");
    box.className = "participant";
    box.id = "p-" + participant.sid;
    var caption = document.createElement("figcaption");
    caption.textContent = nameOf(participant.identity);
    box.appendChild(caption);
    remoteMedia.appendChild(box);
    participant.tracks.forEach(function (publication) {
      if (publication.track) attachTrack(publication.track, box);
    });
    participant.on("trackSubscribed", function (track) { attachTrack(track, box); });
    participant.on("trackUnsubscribed", detachTrack);
  }

  function eachLocalTrack(kind, fn) {
    var publications = kind === "audio" ? room.localParticipant.audioTracks : room.localParticipant.videoTracks;
    publications.forEach(function (publication) { fn(publication.track); });
  }

  function connected(newRoom) {
    room = newRoom;
    connectedAt = new Date();
    say(text.connected);
    setControls(true);
    room.localParticipant.tracks.forEach(function (publication) {
      if (publication.track && publication.track.kind === "video") attachTrack(publication.track, localMedia);
    });
    room.participants.forEach(participantBox);
    room.on("participantConnected", function (p) { participantBox(p); listParticipants(); });
    room.on("participantDisconnected", function (p) {
      var box = document.getElementById("p-" + p.sid);
      if (box) box.remove();
      listParticipants();
    });
    room.on("reconnecting", function () { reconnecting.hidden = false; });
    room.on("reconnected", function () { reconnecting.hidden = true; say(text.connected); });
    room.on("disconnected", function (_room, error) {
      reconnecting.hidden = true;
      room.localParticipant.tracks.forEach(function (publication) {
        if (publication.track) {
          detachTrack(publication.track);
          if (publication.track.stop) publication.track.stop();
        }
      });
      remoteMedia.querySelectorAll(".participant").forEach(function (box) { box.remove(); });
      room = null;
      connectedAt = null;
      setControls(false);
      listParticipants();
      say(error ? text.failed + " " + error.message : text.left);
    });
    listParticipants();
  }

  function startPreview() {
    say(text.connecting);
    navigator.mediaDevices.getUserMedia({ audio: true, video: true }).then(function (stream) {
      previewStream = stream;
      var video = document.createElement("video");
      video.autoplay = true;
      video.muted = true;
      video.playsInline = true;
      video.srcObject = stream;
      localMedia.appendChild(video);
      connectedAt = new Date();
      setControls(true);
      listParticipants();
      say(text.preview);
    }).catch(function (error) {
      say(text.cameraFailed + " " + error.message);
    });
  }

  function join() {
    if (isLocal) return startPreview();
    joinButton.disabled = true;
    say(text.connecting);
    fetch(call.dataset.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.detail || response.statusText);
        return body;
      });
    }).then(function (grant) {
      return Twilio.Video.connect(grant.token, {
        name: grant.room,
        audio: true,
        video: { width: 640, height: 480 },
        networkQuality: false,
      });
    }).then(connected).catch(function (error) {
      joinButton.disabled = false;
      say(text.failed + " " + error.message);
    });
  }

  function toggleMute() {
    muted = !muted;
    if (room) eachLocalTrack("audio", function (track) { if (muted) { track.disable(); } else { track.enable(); } });
    if (previewStream) previewStream.getAudioTracks().forEach(function (t) { t.enabled = !muted; });
    muteButton.setAttribute("aria-pressed", String(muted));
    muteButton.textContent = muted ? text.unmute : text.mute;
  }

  function toggleCamera() {
    cameraOff = !cameraOff;
    if (room) eachLocalTrack("video", function (track) { if (cameraOff) { track.disable(); } else { track.enable(); } });
    if (previewStream) previewStream.getVideoTracks().forEach(function (t) { t.enabled = !cameraOff; });
    cameraButton.setAttribute("aria-pressed", String(cameraOff));
    cameraButton.textContent = cameraOff ? text.cameraOn : text.cameraOff;
  }

  function leave() {
    if (room) {
      room.disconnect();
      return;
    }
    if (previewStream) {
      previewStream.getTracks().forEach(function (t) { t.stop(); });
      previewStream = null;
      localMedia.innerHTML = "";
      connectedAt = null;
      setControls(false);
      listParticipants();
      say(text.left);
    }
  }

  joinButton.addEventListener("click", join);
  muteButton.addEventListener("click", toggleMute);
  cameraButton.addEventListener("click", toggleCamera);
  leaveButton.addEventListener("click", leave);
  window.addEventListener("beforeunload", function () { if (room) room.disconnect(); });
})();
