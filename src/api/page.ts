/**
 * The listening page at `/`: one card per channel with cover, title, artist,
 * progress and a play button, updated live from the WebSocket feed. One
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
  :root { color-scheme: dark; --bg: #111318; --card: #1b1f27; --fg: #e8eaf0; --dim: #9aa3b2; --accent: #4fb3ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif; background: var(--bg); color: var(--fg); }
  header { padding: 20px 24px 4px; display: flex; align-items: baseline; gap: 12px; }
  header h1 { margin: 0; font-size: 22px; }
  #conn { color: var(--dim); font-size: 13px; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 16px; padding: 16px 24px 32px; }
  .card { background: var(--card); border-radius: 12px; padding: 14px; display: grid; grid-template-columns: 96px 1fr; gap: 14px; align-items: center; }
  .cover { width: 96px; height: 96px; border-radius: 8px; object-fit: cover; background: linear-gradient(135deg, #2d6cdf, #9b3fd1); }
  .name { font-size: 12px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; display: flex; gap: 8px; align-items: center; }
  .badge { font-size: 10px; padding: 1px 6px; border-radius: 8px; background: #2a7a3b; color: #fff; }
  .badge.off { background: #7a2a2a; }
  .title { font-size: 17px; font-weight: 600; margin: 4px 0 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .artist { color: var(--dim); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .bar { height: 4px; background: #2c323d; border-radius: 2px; margin: 10px 0 6px; overflow: hidden; }
  .bar > div { height: 100%; width: 0; background: var(--accent); }
  .row { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
  .time, .next { font-size: 12px; color: var(--dim); }
  button { background: var(--accent); color: #06121c; border: 0; border-radius: 16px; padding: 5px 14px; font-weight: 600; cursor: pointer; }
  .empty { color: var(--dim); padding: 24px; }
</style>
</head>
<body>
<header><h1>sCast</h1><span id="conn">connecting…</span></header>
<main id="channels"><p class="empty">No channels yet.</p></main>
<script>
"use strict";
const cards = new Map();
const state = new Map();
const $ = (sel, el) => el.querySelector(sel);
const fmt = (ms) => { if (ms == null || !isFinite(ms)) return "–"; const s = Math.max(0, Math.floor(ms / 1000)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); };
const COVER = "data:image/svg+xml," + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2d6cdf"/><stop offset="1" stop-color="#9b3fd1"/></linearGradient></defs><rect width="96" height="96" fill="url(#g)"/><text x="48" y="60" font-size="40" text-anchor="middle" fill="white">♪</text></svg>');

function card(ch) {
  let el = cards.get(ch.id);
  if (el) return el;
  el = document.createElement("section");
  el.className = "card";
  el.dataset.channel = ch.id;
  el.innerHTML = '<img class="cover" alt=""><div><div class="name"><span class="cname"></span><span class="badge">on air</span></div>' +
    '<div class="title"></div><div class="artist"></div><div class="bar"><div></div></div>' +
    '<div class="row"><span class="time"></span><button type="button">Play</button></div><div class="next"></div></div>' +
    '<audio preload="none"></audio>';
  $("img", el).addEventListener("error", (e) => { e.target.src = COVER; });
  const audio = $("audio", el);
  $("button", el).addEventListener("click", () => {
    if (audio.paused) { audio.src = audio.dataset.src + (audio.dataset.src.includes("?") ? "&" : "?") + "t=" + Date.now(); audio.play(); $("button", el).textContent = "Stop"; }
    else { audio.pause(); audio.removeAttribute("src"); audio.load(); $("button", el).textContent = "Play"; }
  });
  const main = document.getElementById("channels");
  const empty = $(".empty", main);
  if (empty) empty.remove();
  main.appendChild(el);
  cards.set(ch.id, el);
  return el;
}

function render(ch) {
  const el = card(ch);
  state.set(ch.id, ch);
  $(".cname", el).textContent = ch.name;
  const audio = $("audio", el);
  audio.dataset.src = ch.listen.builtin || ch.listen.icecast[0] || "";
  $(".badge", el).textContent = ch.onAir ? "on air" : "off air";
  $(".badge", el).classList.toggle("off", !ch.onAir);
  showSong(ch.id, ch.nowPlaying, ch.next);
}

function showSong(id, np, next) {
  const el = cards.get(id);
  if (!el) return;
  const ch = state.get(id);
  if (ch) { ch.nowPlaying = np; ch.next = next; ch.receivedAt = performance.now(); }
  $(".title", el).textContent = np ? np.title : "Silence";
  $(".artist", el).textContent = np ? (np.artist || "") : "waiting for the next song";
  const img = $("img", el);
  const src = (np && np.coverUrl) || COVER;
  if (img.getAttribute("src") !== src) img.src = src;
  $(".next", el).textContent = next ? "Next: " + next.title + (next.artist ? " — " + next.artist : "") : "";
  tick();
}

function tick() {
  for (const [id, ch] of state) {
    const el = cards.get(id);
    const np = ch.nowPlaying;
    if (!el || !np) continue;
    const elapsed = np.elapsedMs + (performance.now() - (ch.receivedAt || performance.now()));
    const pct = np.durationMs ? Math.min(100, (elapsed / np.durationMs) * 100) : 0;
    $(".bar > div", el).style.width = pct + "%";
    $(".time", el).textContent = fmt(elapsed) + " / " + fmt(np.durationMs);
  }
}
setInterval(tick, 500);

let delay = 500;
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => { delay = 500; document.getElementById("conn").textContent = "live"; };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "snapshot") { for (const ch of m.channels) render(ch); }
    else if (m.type === "track") showSong(m.channel, m.nowPlaying, m.next);
    else if (m.type === "status") {
      if (m.event === "off-air") { const el = cards.get(m.channel); if (el) { el.remove(); cards.delete(m.channel); state.delete(m.channel); } }
      else if (m.event === "on-air") fetch("/api/channels/" + encodeURIComponent(m.channel)).then((r) => r.ok ? r.json() : null).then((ch) => ch && render(ch));
    }
  };
  ws.onclose = () => { document.getElementById("conn").textContent = "reconnecting…"; setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); };
}
connect();
</script>
</body>
</html>
`;

/** The station's icon: a radio wave, in the page's colours. SVG, so one small file serves every size. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1d2433"/><circle cx="32" cy="36" r="6" fill="#f5b942"/><path d="M20 24a17 17 0 0 1 24 0M13 17a27 27 0 0 1 38 0" fill="none" stroke="#f5b942" stroke-width="5" stroke-linecap="round"/></svg>`;

/** Art for a song that has none: the station's wave on a square, large enough for players and Discord embeds alike. */
export const DEFAULT_ART_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2d6cdf"/><stop offset="1" stop-color="#9b3fd1"/></linearGradient></defs><rect width="512" height="512" fill="url(#g)"/><circle cx="256" cy="296" r="40" fill="#f5b942"/><path d="M176 216a113 113 0 0 1 160 0M130 170a180 180 0 0 1 252 0" fill="none" stroke="#f5b942" stroke-width="28" stroke-linecap="round"/></svg>`;
