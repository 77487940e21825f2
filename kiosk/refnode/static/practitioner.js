// The practitioner's side of a consultation, in the browser's own WebRTC, speaking the
// same client REST API v2 as the kiosk: request_token with the host PIN, an EventSource on
// events, participants/<uuid>/unlock to admit, calls + ack for media. Transcoded rooms
// answer our offer at once; direct-media rooms hold it until the admitted guest answers.
"use strict";

const API = "/api/client/v2/conferences/";
const GATHER_WAIT_MS = 3000;

// Everything a test (or a curious developer) may read; nothing here is ever stored.
const state = {
  joined: false,
  directMedia: false,
  participantUuid: null,
  roster: {},
  admitted: [],
  departed: [],
  log: [],
  videoFrames: 0,
  callUuid: null,
  callState: "none",
};
window.practitioner = state;

let token = null;
let alias = null;
let events = null;
let pc = null;
let localStream = null;
let syncing = null;
let refreshTimer = null;
let retryTimer = null;

const $ = (id) => document.getElementById(id);

function note(what) {
  state.log.push(what);
  $("status").textContent = what;
}

async function api(path, body, headers) {
  const all = { "Content-Type": "application/json", ...(headers || {}) };
  if (token) all.token = token;
  const response = await fetch(API + encodeURIComponent(alias) + path, {
    method: "POST",
    headers: all,
    body: JSON.stringify(body || {}),
  });
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    throw new Error(`${path.split("/").pop()} answered HTTP ${response.status}`);
  }
  return data ? data.result : null;
}

// -- joining and the token ----------------------------------------------------------------

async function join(meeting, pin, name) {
  alias = meeting;
  note("joining");
  const result = await api("/request_token", { display_name: name }, { pin: pin || "none" });
  token = result.token;
  state.participantUuid = result.participant_uuid;
  state.directMedia = result.direct_media === true;
  state.joined = true;
  scheduleRefresh(Number(result.expires) || 120);
  localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  openEvents();
  $("login").hidden = true;
  $("leave").disabled = false;
  note(state.directMedia ? "joined (direct media)" : "joined");
  if (!state.directMedia) {
    await startCall();
  }
}

function scheduleRefresh(expires) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    try {
      const result = await api("/refresh_token");
      token = result.token;
      scheduleRefresh(Number(result.expires) || 120);
    } catch (error) {
      note(`token refresh failed: ${error.message}`);
    }
  }, (expires * 1000) / 2);
}

// -- the event stream ---------------------------------------------------------------------

function openEvents() {
  if (events) events.close();
  const url = `${API}${encodeURIComponent(alias)}/events?token=${encodeURIComponent(token)}`;
  events = new EventSource(url);
  const on = (name, handler) =>
    events.addEventListener(name, (message) => {
      let data = null;
      try {
        data = message.data ? JSON.parse(message.data) : null;
      } catch (_) {
        return;
      }
      handler(data);
    });
  on("participant_sync_begin", () => { syncing = {}; });
  on("participant_sync_end", () => {
    if (syncing) {
      state.roster = syncing;
      syncing = null;
      changed();
    }
  });
  on("participant_create", upsert);
  on("participant_update", upsert);
  on("participant_delete", (data) => {
    const gone = state.roster[data.uuid];
    delete state.roster[data.uuid];
    if (gone && gone.role !== "chair") {
      state.departed.push(data.uuid);
      const item = document.createElement("li");
      item.dataset.uuid = data.uuid;
      item.textContent = `${gone.display_name} left`;
      $("departed").appendChild(item);
      note("patient left");
    }
    changed();
  });
  on("call_disconnected", (data) => {
    if (data && data.call_uuid === state.callUuid) {
      note("call disconnected");
      closeCall();
      changed();
    }
  });
  on("peer_disconnect", async () => {
    // Direct media: the patient's side went away. As PexRTC does, hang up this call and
    // place a new one; the node pairs its offer with the patient's next call.
    note("peer disconnected");
    const callUuid = state.callUuid;
    closeCall();
    if (callUuid) {
      try {
        await api(
          `/participants/${encodeURIComponent(state.participantUuid)}/calls/` +
            `${encodeURIComponent(callUuid)}/disconnect`,
        );
      } catch (error) {
        note(`call disconnect failed: ${error.message}`);
      }
    }
    changed();
  });
  on("refresh_token", async () => {
    try {
      const result = await api("/refresh_token");
      token = result.token;
      scheduleRefresh(Number(result.expires) || 120);
    } catch (error) {
      note(`token refresh failed: ${error.message}`);
    }
  });
  on("disconnect", () => { note("removed by the node"); shutDown(); });
  events.onerror = () => {
    // The browser retries with the URL's old token; reopen with the current one instead.
    if (!state.joined) return;
    events.close();
    setTimeout(() => state.joined && openEvents(), 1000);
  };
}

function upsert(participant) {
  const target = syncing || state.roster;
  target[participant.uuid] = participant;
  if (!syncing) changed();
}

function guests(serviceType) {
  return Object.values(state.roster).filter(
    (p) => p.role !== "chair" && p.uuid !== state.participantUuid && p.service_type === serviceType,
  );
}

function changed() {
  render();
  if (state.directMedia && !pc && guests("conference").length > 0) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { if (!pc) startCall(); }, 0);
  }
}

// -- what is shown ------------------------------------------------------------------------

function render() {
  fill("waiting", guests("waiting_room"), "admit", "Admit", admit);
  fill("in-call", guests("conference"), "end", "End", endFor);
}

function fill(listId, people, buttonClass, buttonText, action) {
  const list = $(listId);
  list.replaceChildren(
    ...people.map((p) => {
      const item = document.createElement("li");
      item.dataset.uuid = p.uuid;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = p.display_name;
      const button = document.createElement("button");
      button.type = "button";
      button.className = buttonClass;
      button.textContent = buttonText;
      button.addEventListener("click", () => action(p.uuid));
      item.append(name, button);
      return item;
    }),
  );
  $(`${listId}-empty`).hidden = people.length > 0;
}

async function admit(uuid) {
  try {
    await api(`/participants/${encodeURIComponent(uuid)}/unlock`);
    state.admitted.push(uuid);
    note("admitted");
  } catch (error) {
    note(`admit failed: ${error.message}`);
  }
}

async function endFor(uuid) {
  try {
    await api(`/participants/${encodeURIComponent(uuid)}/disconnect`);
    note("disconnected the patient");
  } catch (error) {
    note(`end failed: ${error.message}`);
  }
}

// -- media --------------------------------------------------------------------------------

function gathered(connection) {
  if (connection.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (connection.iceGatheringState === "complete") resolve();
    };
    connection.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_WAIT_MS);
  });
}

function countFrames(video) {
  if (!("requestVideoFrameCallback" in video)) return;
  const tick = () => {
    state.videoFrames += 1;
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
}

async function startCall() {
  const connection = new RTCPeerConnection();
  pc = connection;
  state.callState = "offering";
  for (const track of localStream.getTracks()) connection.addTrack(track, localStream);
  connection.ontrack = (event) => {
    const stream = event.streams[0] || new MediaStream([event.track]);
    if (event.track.kind === "video") {
      $("remote-video").srcObject = stream;
    } else {
      $("remote-audio").srcObject = stream;
    }
  };
  connection.onconnectionstatechange = () => {
    if (pc === connection) state.callState = connection.connectionState;
  };
  await connection.setLocalDescription(await connection.createOffer());
  await gathered(connection);
  let result;
  try {
    result = await api(`/participants/${encodeURIComponent(state.participantUuid)}/calls`, {
      call_type: "WEBRTC",
      sdp: connection.localDescription.sdp,
    });
  } catch (error) {
    note(`call failed: ${error.message}`);
    if (pc === connection) closeCall();
    return;
  }
  if (pc !== connection) return;
  state.callUuid = result.call_uuid;
  if (!result.sdp) {
    // Direct media and nobody answered in time: try again while someone is admitted.
    closeCall();
    changed();
    return;
  }
  await connection.setRemoteDescription({ type: "answer", sdp: result.sdp });
  await api(
    `/participants/${encodeURIComponent(state.participantUuid)}/calls/` +
      `${encodeURIComponent(result.call_uuid)}/ack`,
  );
  state.callState = "answered";
  note("media connected");
}

function closeCall() {
  if (pc) pc.close();
  pc = null;
  state.callUuid = null;
  state.callState = "none";
  $("remote-video").srcObject = null;
  $("remote-audio").srcObject = null;
}

// Inbound figures from the browser's own statistics.
state.stats = async () => {
  const figures = { framesDecoded: 0, audioEnergy: 0, audioLevel: 0, audioPackets: 0 };
  if (!pc) return figures;
  const report = await pc.getStats();
  report.forEach((entry) => {
    if (entry.type !== "inbound-rtp") return;
    if (entry.kind === "video") {
      figures.framesDecoded += entry.framesDecoded || 0;
    } else if (entry.kind === "audio") {
      figures.audioEnergy += entry.totalAudioEnergy || 0;
      figures.audioLevel = Math.max(figures.audioLevel, entry.audioLevel || 0);
      figures.audioPackets += entry.packetsReceived || 0;
    }
  });
  return figures;
};

// -- leaving ------------------------------------------------------------------------------

function shutDown() {
  state.joined = false;
  clearTimeout(refreshTimer);
  clearTimeout(retryTimer);
  if (events) events.close();
  closeCall();
  if (localStream) localStream.getTracks().forEach((track) => track.stop());
  $("leave").disabled = true;
}

async function leave() {
  try {
    await api("/release_token");
  } catch (_) {
    // Leaving anyway: the node drops the token when it expires.
  }
  shutDown();
  note("left");
}

// -- start --------------------------------------------------------------------------------

countFrames($("remote-video"));
$("leave").addEventListener("click", leave);
$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  join($("alias").value.trim(), $("pin").value.trim(), $("name").value.trim() || "Clinician")
    .catch((error) => note(`join failed: ${error.message}`));
});

const params = new URLSearchParams(location.search);
if (params.get("alias")) $("alias").value = params.get("alias");
if (params.get("pin")) $("pin").value = params.get("pin");
if (params.get("name")) $("name").value = params.get("name");
render();
if (params.get("alias") && params.get("pin") && params.get("autojoin") === "1") {
  $("join-form").requestSubmit();
}
