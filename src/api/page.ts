/**
 * The player page, at `/` and at `/<channel id>`: every channel, and for
 * the one chosen its art, title, a live DJ, progress, the last songs, what
 * comes next, volume, play/stop, listen links and a share link. Titles
 * change as this page's own player plays each seam (see streamPos). One
 * self-contained document: no build step, no CDN, works offline.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sCast</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<style>
  :root { color-scheme: dark; --bg: #111318; --card: #1b1f27; --card2: #232834; --fg: #e8eaf0; --dim: #a3acba; --accent: #4fb3ff; --live: #e5484d; --ok: #2f8f46; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; background: var(--bg); color: var(--fg); }
  a { color: var(--accent); }
  :focus-visible { outline: 3px solid #ffd166; outline-offset: 2px; }
  header { padding: 16px 20px 4px; display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
  header h1 { margin: 0; font-size: 22px; }
  #conn { color: var(--dim); font-size: 13px; }
  .layout { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; padding: 12px 20px 32px; max-width: 1200px; }
  @media (max-width: 820px) { .layout { grid-template-columns: minmax(0, 1fr); padding: 8px 12px 24px; } }
  .panel { background: var(--card); border-radius: 14px; padding: 16px; min-width: 0; }
  .player { display: grid; grid-template-columns: 200px minmax(0, 1fr); gap: 18px; align-items: start; }
  @media (max-width: 560px) { .player { grid-template-columns: minmax(0, 1fr); } .player .art { width: 100%; height: auto; aspect-ratio: 1; max-width: 320px; margin: 0 auto; } }
  .art { width: 200px; height: 200px; border-radius: 10px; object-fit: cover; background: #2d6cdf; display: block; }
  .chname { font-size: 12px; color: var(--dim); text-transform: uppercase; letter-spacing: .05em; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .badge { font-size: 11px; padding: 1px 7px; border-radius: 8px; background: var(--ok); color: #fff; text-transform: uppercase; }
  .badge.off { background: #6b2a2a; }
  .badge.live { background: var(--live); }
  .title { font-size: 22px; font-weight: 650; margin: 6px 0 2px; overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
  .artist { color: var(--dim); overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
  .dj { color: #ffb4b6; font-weight: 600; margin-top: 4px; }
  .req { display: inline-block; font-size: 12px; color: #ffd166; margin: 2px 0; }
  .bar { height: 5px; background: #2c323d; border-radius: 3px; margin: 14px 0 4px; overflow: hidden; }
  .bar > div { height: 100%; width: 0; background: var(--accent); }
  .times { display: flex; justify-content: space-between; font-size: 12px; color: var(--dim); font-variant-numeric: tabular-nums; }
  .controls { display: flex; align-items: center; gap: 12px; margin-top: 12px; flex-wrap: wrap; }
  button { background: var(--accent); color: #06121c; border: 0; border-radius: 18px; padding: 8px 18px; font: inherit; font-weight: 650; cursor: pointer; min-height: 40px; }
  button.quiet { background: var(--card2); color: var(--fg); }
  label.vol { display: flex; align-items: center; gap: 6px; color: var(--dim); font-size: 13px; }
  input[type=range] { width: 120px; accent-color: var(--accent); }
  .next { margin-top: 12px; color: var(--dim); font-size: 14px; overflow-wrap: anywhere; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--dim); margin: 18px 0 8px; }
  ol.history { list-style: none; margin: 0; padding: 0; }
  ol.history li.none { display: block; color: var(--dim); }
  ol.history li { display: grid; grid-template-columns: 28px 44px minmax(0, 1fr); gap: 8px; align-items: center; padding: 5px 0; border-top: 1px solid #262b35; font-size: 14px; }
  ol.history img { width: 28px; height: 28px; border-radius: 4px; object-fit: cover; display: block; }
  ol.history time { color: var(--dim); font-variant-numeric: tabular-nums; }
  ol.history .t { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .links { display: flex; flex-wrap: wrap; gap: 8px 14px; font-size: 13px; }
  .chart { width: 100%; height: 60px; background: var(--card2); border-radius: 8px; display: block; }
  .peak { font-size: 12px; color: var(--dim); margin-top: 4px; }
  .share { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
  .share input { flex: 1; min-width: 0; background: var(--card2); color: var(--fg); border: 1px solid #333a47; border-radius: 8px; padding: 6px 8px; font: inherit; font-size: 13px; }
  ul.channels { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
  ul.channels button { width: 100%; text-align: left; background: var(--card2); color: var(--fg); border-radius: 10px; padding: 10px 12px; display: grid; gap: 2px; font-weight: 400; }
  ul.channels button[aria-current=true] { outline: 2px solid var(--accent); }
  ul.channels .n { font-weight: 650; display: flex; gap: 8px; align-items: center; justify-content: space-between; }
  ul.channels .d, ul.channels .s { font-size: 12px; color: var(--dim); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .empty { color: var(--dim); padding: 24px; }
  [hidden] { display: none !important; }
  .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style>
</head>
<body>
<header><h1>sCast</h1><span id="conn" role="status">connecting…</span></header>
<div class="layout">
  <main class="panel" id="player" aria-labelledby="p-title">
    <p class="empty" id="p-empty">No channel on air yet.</p>
    <div class="player" id="p-body" hidden>
      <img class="art" id="p-art" alt="" width="200" height="200">
      <div>
        <div class="chname"><span id="p-channel"></span><span class="badge" id="p-badge">on air</span><span id="p-listeners"></span></div>
        <div class="title" id="p-title"></div>
        <div class="req" id="p-request" hidden>Requested by a listener</div>
        <div class="artist" id="p-artist"></div>
        <div class="dj" id="p-dj" hidden></div>
        <div class="bar" role="progressbar" aria-label="Song progress" aria-valuemin="0" aria-valuemax="100" id="p-bar"><div></div></div>
        <div class="times"><span id="p-elapsed">–</span><span id="p-duration">–</span></div>
        <div class="controls">
          <button type="button" id="p-play" aria-pressed="false">Play</button>
          <label class="vol">Volume <input type="range" id="p-volume" min="0" max="100" step="1" aria-label="Volume"></label>
        </div>
        <div class="next" id="p-next"></div>
        <div class="sr" aria-live="polite" id="p-announce"></div>
      </div>
    </div>
    <section id="p-more" hidden>
      <h2>Recently played</h2>
      <ol class="history" id="p-history"></ol>
      <h2>Listeners, last 24 hours</h2>
      <svg id="p-chart" class="chart" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-label="Listeners over the last 24 hours"></svg>
      <div class="peak" id="p-peak"></div>
      <h2>Listen</h2>
      <div class="links" id="p-links"></div>
      <div class="share"><input id="p-share" readonly aria-label="Link to this channel"><button type="button" class="quiet" id="p-copy">Copy link</button></div>
    </section>
  </main>
  <aside class="panel" aria-label="Channels">
    <h2 style="margin-top:0">Channels</h2>
    <ul class="channels" id="channels"></ul>
  </aside>
</div>
<audio id="audio" preload="none"></audio>
<script>
(function () {
"use strict";
// Titles follow what this page's own player plays: each song carries its place in the channel's
// stream (streamPos), the station says where this player's stream began, and the page shows a song
// when audio.currentTime reaches it. Without that (not playing, Icecast only) it shows the server's.
var ART = "/art/default.svg";
// Pictures come at 600 px (/art/<id>.jpg) and smaller (-300.jpg, -96.jpg): the smallest that is sharp here.
function sized(a, px) { return /^\\/art\\/[0-9a-f]{24}\\.jpg$/.test(a) ? a.replace(".jpg", "-" + px + ".jpg") : a; }
var channels = new Map();    // id -> channel view, plus timeline (songs, oldest first)
var selected = null;
var audio = document.getElementById("audio");
var sid = null, start = null, playingId = null;
var shown = null;
function $(id) { return document.getElementById(id); }
function fmt(s) { if (s == null || !isFinite(s) || s < 0) return "–"; s = Math.floor(s); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }
function clock(iso) { var d = new Date(iso); return isNaN(d) ? "" : String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0"); }
function newSid() { var b = new Uint8Array(18); crypto.getRandomValues(b); return btoa(String.fromCharCode.apply(null, b)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, ""); }
function idFromPath() { var p = decodeURIComponent(location.pathname.slice(1)); return p && channels.has(p) ? p : null; }

function remember(ch, np) {
  if (!np) return;
  var t = ch.timeline;
  var last = t[t.length - 1];
  if (last && last.startedAt === np.startedAt && last.title === np.title) { t[t.length - 1] = np; return; }
  np.receivedAt = performance.now();
  t.push(np);
  if (t.length > 40) t.splice(0, t.length - 40);
}

function upsert(view) {
  var ch = channels.get(view.id);
  var timeline = ch ? ch.timeline : [];
  ch = Object.assign(ch || {}, view, { timeline: timeline });
  channels.set(view.id, ch);
  remember(ch, view.nowPlaying);
  return ch;
}

function loadHistory(id) {
  fetch("/api/channels/" + encodeURIComponent(id)).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
    var ch = channels.get(id);
    if (!d || !ch) return;
    var older = d.history.slice().reverse().filter(function (h) { return !ch.timeline.some(function (x) { return x.startedAt === h.startedAt; }); });
    ch.timeline = older.concat(ch.timeline);
    ch.listeners = d.listeners;
    if (id === selected) shown = null;
    render();
  });
}

// Seconds of the channel's stream this player is playing now; null when that is not known.
function heard(ch) {
  if (playingId !== ch.id || start === null || audio.paused) return null;
  return start + audio.currentTime;
}

// What the listener hears now, and the songs before and after it.
function place(ch) {
  var t = ch.timeline, pos = heard(ch), i = t.length - 1;
  if (pos !== null) while (i > 0 && t[i].streamPos != null && t[i].streamPos > pos) i--;
  return { now: t[i] || null, before: t.slice(Math.max(0, i - 10), Math.max(0, i)).reverse(), after: t[i + 1] || null, pos: pos };
}

function renderList() {
  var ul = $("channels");
  ul.textContent = "";
  if (channels.size === 0) { var li = document.createElement("li"); li.className = "empty"; li.textContent = "No channels yet."; ul.appendChild(li); }
  channels.forEach(function (ch) {
    var li = document.createElement("li");
    var b = document.createElement("button");
    b.type = "button";
    b.dataset.channel = ch.id;
    b.setAttribute("aria-current", String(ch.id === selected));
    var n = document.createElement("span"); n.className = "n";
    var name = document.createElement("span"); name.textContent = ch.name;
    var badge = document.createElement("span"); badge.className = "badge" + (ch.live ? " live" : ch.onAir ? "" : " off");
    badge.textContent = ch.live ? "live" : ch.onAir ? "on air" : "off air";
    n.appendChild(name); n.appendChild(badge);
    var d = document.createElement("span"); d.className = "d";
    d.textContent = [ch.genre, ch.description].filter(Boolean).join(" · ");
    var s = document.createElement("span"); s.className = "s";
    var np = ch.nowPlaying;
    s.textContent = (np ? (np.artist ? np.artist + " – " : "") + np.title : "Silence") + " · " + ch.listeners + (ch.listeners === 1 ? " listener" : " listeners");
    b.appendChild(n); if (d.textContent) b.appendChild(d); b.appendChild(s);
    b.addEventListener("click", function () { select(ch.id, true); });
    li.appendChild(b); ul.appendChild(li);
  });
}

function select(id, push) {
  if (selected === id) return;
  selected = id;
  if (push) history.pushState(null, "", "/" + encodeURIComponent(id));
  if (playingId && playingId !== id) stop();
  shown = null;
  loadHistory(id);
  chart(id);
  render();
  renderList();
}

function render() {
  var ch = selected && channels.get(selected);
  $("p-empty").hidden = !!ch;
  $("p-body").hidden = !ch;
  $("p-more").hidden = !ch;
  if (!ch) return;
  var p = place(ch), np = p.now;
  document.title = (np ? np.title + " · " : "") + ch.name;
  $("p-channel").textContent = ch.name;
  var badge = $("p-badge");
  var live = !!(np && np.live);
  badge.className = "badge" + (live ? " live" : ch.onAir ? "" : " off");
  badge.textContent = live ? "live" : ch.onAir ? "on air" : "off air";
  $("p-listeners").textContent = ch.listeners + (ch.listeners === 1 ? " listener" : " listeners");
  var key = np ? np.startedAt + "|" + np.title : "";
  if (key !== shown) {
    shown = key;
    $("p-title").textContent = np ? np.title : "Silence";
    $("p-artist").textContent = np ? (np.artist || "") : "waiting for the next song";
    var art = (np && np.art) || ch.art || ART;
    if ($("p-art").getAttribute("src") !== sized(art, 300)) { $("p-art").src = sized(art, 300); $("p-art").srcset = art === sized(art, 300) ? "" : art + " 2x"; }
    $("p-art").alt = np && np.album ? "Cover of " + np.album : "";
    $("p-dj").hidden = !live;
    $("p-request").hidden = !(np && np.request);
    $("p-dj").textContent = live ? "Live: " + ((ch.live && ch.live.dj) || np.artist || np.title) : "";
    if (np && p.pos !== null) $("p-announce").textContent = "Now playing: " + (np.artist ? np.artist + " – " : "") + np.title;
    var next = p.after || ch.next;
    $("p-next").textContent = next ? "Next: " + (next.artist ? next.artist + " – " : "") + next.title : "";
    var ol = $("p-history");
    ol.textContent = "";
    p.before.forEach(function (h) {
      var li = document.createElement("li");
      var img = document.createElement("img"); img.alt = ""; img.width = 28; img.height = 28; img.loading = "lazy"; img.src = sized(h.art || ch.art || ART, 96);
      var t = document.createElement("time"); t.dateTime = h.startedAt; t.textContent = clock(h.startedAt);
      var s = document.createElement("span"); s.className = "t"; s.textContent = (h.artist ? h.artist + " – " : "") + h.title + (h.request ? " · requested" : "") + (h.live ? " · live" : ""); s.title = s.textContent;
      li.appendChild(img); li.appendChild(t); li.appendChild(s); ol.appendChild(li);
    });
    if (!p.before.length) { var li = document.createElement("li"); li.className = "none"; li.textContent = "Nothing yet."; ol.appendChild(li); }
  }
  progress(ch, p);
  links(ch);
}

function progress(ch, p) {
  var np = p.now, elapsed = null;
  if (np) elapsed = p.pos !== null && np.streamPos != null ? p.pos - np.streamPos : (np.elapsedMs + performance.now() - np.receivedAt) / 1000;
  var dur = np && np.durationMs ? np.durationMs / 1000 : null;
  var pct = dur && elapsed !== null ? Math.max(0, Math.min(100, (elapsed / dur) * 100)) : 0;
  $("p-bar").firstChild.style.width = pct + "%";
  $("p-bar").setAttribute("aria-valuenow", String(Math.round(pct)));
  $("p-elapsed").textContent = fmt(elapsed);
  $("p-duration").textContent = fmt(dur);
}

function links(ch) {
  var box = $("p-links"), base = location.origin + ch.mount;
  var list = [["M3U", base + ".m3u"], ["PLS", base + ".pls"], ["XSPF", base + ".xspf"]];
  if (ch.listen.builtin) list.push(["Direct", ch.listen.builtin]);
  ch.listen.icecast.forEach(function (u, i) { list.push(["Icecast" + (ch.listen.icecast.length > 1 ? " " + (i + 1) : ""), u]); });
  (ch.renditions || []).forEach(function (r) { var u = r.listen.builtin || r.listen.icecast[0]; if (u) list.push([r.codec.toUpperCase() + " " + r.bitrate, u]); });
  if (ch.listen.hls) list.push(["HLS", ch.listen.hls]);
  var sig = JSON.stringify(list);
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.textContent = "";
  list.forEach(function (l) { var a = document.createElement("a"); a.href = l[1]; a.textContent = l[0]; box.appendChild(a); });
  $("p-share").value = location.origin + "/" + encodeURIComponent(ch.id);
}

function chart(id) {
  fetch("/api/channels/" + encodeURIComponent(id) + "/listeners").then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
    if (!d || id !== selected) return;
    var svg = $("p-chart"), now = Date.now(), from = now - 864e5;
    var pts = d.points.map(function (p) { return [p[0], p[1] + p[2]]; }).concat([[now, d.current]]);
    var top = Math.max(1, d.peak24h);
    var line = pts.map(function (p) { return (((p[0] - from) / 864e5) * 300).toFixed(1) + "," + (58 - (p[1] / top) * 54).toFixed(1); }).join(" ");
    svg.innerHTML = '<polyline fill="none" stroke="#4fb3ff" stroke-width="1.5" vector-effect="non-scaling-stroke" points="' + line + '"/>';
    $("p-peak").textContent = "Now " + d.current + " · peak " + d.peak24h + " (built-in " + d.builtin + ", Icecast " + d.icecast + ")";
  });
}
setInterval(function () { if (selected) chart(selected); }, 60000);

function play() {
  var ch = channels.get(selected);
  if (!ch) return;
  var url = ch.listen.builtin || ch.listen.icecast[0];
  if (!url) return;
  sid = newSid(); start = null; playingId = ch.id;
  // Only the built-in output knows where this player's stream began.
  audio.src = url + (ch.listen.builtin ? (url.indexOf("?") < 0 ? "?" : "&") + "sid=" + sid : "");
  audio.play().catch(function () { stop(); });
  $("p-play").textContent = "Stop"; $("p-play").setAttribute("aria-pressed", "true");
}
function stop() {
  audio.pause(); audio.removeAttribute("src"); audio.load();
  playingId = null; start = null; shown = null;
  $("p-play").textContent = "Play"; $("p-play").setAttribute("aria-pressed", "false");
  render();
}
function askStart(tries) {
  var id = playingId, mySid = sid;
  if (!id || !channels.get(id).listen.builtin) return;
  fetch("/api/channels/" + encodeURIComponent(id) + "/listeners/" + mySid).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
    if (sid !== mySid) return;
    if (d) { start = d.streamPos; render(); } else if (tries > 0) setTimeout(function () { askStart(tries - 1); }, 300);
  });
}
audio.addEventListener("playing", function () { if (start === null) askStart(5); setTimeout(counts, 1500); });
$("p-play").addEventListener("click", function () { if (audio.paused && !playingId) play(); else stop(); });
var vol = $("p-volume");
var saved = Number(localStorage.getItem("scast.volume"));
vol.value = String(localStorage.getItem("scast.volume") === null || !isFinite(saved) ? 80 : Math.max(0, Math.min(100, saved)));
audio.volume = Number(vol.value) / 100;
vol.addEventListener("input", function () { audio.volume = Number(vol.value) / 100; localStorage.setItem("scast.volume", vol.value); });
$("p-copy").addEventListener("click", function () {
  var v = $("p-share").value;
  (navigator.clipboard ? navigator.clipboard.writeText(v) : Promise.reject()).then(function () { $("p-copy").textContent = "Copied"; }, function () { $("p-share").select(); });
});
window.addEventListener("popstate", function () { var id = idFromPath(); if (id) select(id, false); });

// While playing, look often: a seam is shown within a few tens of ms of being heard.
setInterval(function () { if (selected) { var ch = channels.get(selected); if (ch) { if (playingId) render(); else progress(ch, place(ch)); } } }, 50);
function counts() { fetch("/api/channels").then(function (r) { return r.ok ? r.json() : null; }).then(function (d) { if (d) { d.channels.forEach(function (v) { var c = channels.get(v.id); if (c) { c.listeners = v.listeners; c.live = v.live; } }); renderList(); render(); } }); }
setInterval(counts, 15000);

function firstSelection() {
  if (selected && channels.has(selected)) return;
  var id = idFromPath() || (channels.size ? channels.keys().next().value : null);
  selected = null;
  if (id) select(id, false); else render();
}

var delay = 500;
function connect() {
  var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = function () { delay = 500; $("conn").textContent = "live"; };
  ws.onmessage = function (ev) {
    var m = JSON.parse(ev.data), ch = m.channel && channels.get(m.channel);
    if (m.type === "snapshot") { m.channels.forEach(upsert); firstSelection(); renderList(); }
    else if (m.type === "track" && ch) { ch.nowPlaying = m.nowPlaying; ch.next = m.next; remember(ch, m.nowPlaying); if (m.channel === selected) render(); renderList(); }
    else if ((m.type === "live-start" || m.type === "live-end") && ch) { ch.live = m.type === "live-start" ? { dj: m.show.dj, title: m.show.title, startedAt: m.show.startedAt } : null; renderList(); }
    else if (m.type === "status") {
      if (m.event === "off-air") { channels.delete(m.channel); if (selected === m.channel) { selected = null; if (playingId === m.channel) stop(); firstSelection(); } renderList(); }
      else if (m.event === "on-air") fetch("/api/channels/" + encodeURIComponent(m.channel)).then(function (r) { return r.ok ? r.json() : null; }).then(function (v) { if (v) { upsert(v); firstSelection(); renderList(); } });
    }
  };
  ws.onclose = function () { $("conn").textContent = "reconnecting…"; setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); };
}
connect();
})();
</script>
</body>
</html>
`;

/** The station's icon: a radio wave, in the page's colours. SVG, so one small file serves every size. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1d2433"/><circle cx="32" cy="36" r="6" fill="#f5b942"/><path d="M20 24a17 17 0 0 1 24 0M13 17a27 27 0 0 1 38 0" fill="none" stroke="#f5b942" stroke-width="5" stroke-linecap="round"/></svg>`;

/** Art for a song that has none: the station's wave on a square, large enough for players and Discord embeds alike. */
export const DEFAULT_ART_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2d6cdf"/><stop offset="1" stop-color="#9b3fd1"/></linearGradient></defs><rect width="512" height="512" fill="url(#g)"/><circle cx="256" cy="296" r="40" fill="#f5b942"/><path d="M176 216a113 113 0 0 1 160 0M130 170a180 180 0 0 1 252 0" fill="none" stroke="#f5b942" stroke-width="28" stroke-linecap="round"/></svg>`;
