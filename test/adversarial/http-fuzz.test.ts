/**
 * Attack: requests of every malformed shape at every route of a running
 * station process, the WebSocket upgrade included, and pipelining on a
 * mount. The station must answer each with an HTTP status in the project's
 * error shape (never a 5xx), keep its process up without the guard catching
 * anything, and keep a separate listener at full rate throughout.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { Listener } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { rateWatch, startStationProcess, type StationProcess, steadyListener } from '../helpers/station-process.js';
import { tempDir, writePlaylist } from '../helpers/station.js';

const TOKEN = 'fuzz-control-token-0123456789';

/** Send raw bytes on a fresh connection; collect what comes back until the server closes or `waitMs` passes. */
function exchange(
  port: number,
  payload: Buffer | string,
  opts: { localAddress?: string; waitMs?: number } = {},
): Promise<{ data: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: opts.localAddress ?? '127.0.0.1' });
    const timer = setTimeout(() => socket.destroy(), opts.waitMs ?? 1500);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      // A stream: enough seen.
      if (Buffer.concat(chunks).length > 64 * 1024) socket.destroy();
    });
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closedByServer });
    });
  });
}

interface Verdict {
  status: number | null;
  problem: string | null;
}

/** What a response says, and what is wrong with it if anything. */
function judge(data: Buffer): Verdict {
  const text = data.subarray(0, 4096).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
  if (!m) return { status: null, problem: null }; // closed without an answer: allowed for garbage
  const status = Number(m[1]);
  if (status >= 500) return { status, problem: `answered ${status}` };
  if (status >= 400) {
    // The first answer only: a payload carrying more than one request gets more than one.
    const headEnd = text.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, headEnd))?.[1];
    let body = text.slice(headEnd + 4);
    if (length !== undefined) body = body.slice(0, Number(length));
    if (body.length > 0) {
      try {
        const json = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
        if (typeof json.error?.code !== 'string' || !json.error.code.startsWith('SCAST_') || typeof json.error.message !== 'string')
          return { status, problem: `error body not in the project's shape: ${body.slice(0, 200)}` };
      } catch {
        if (status !== 400 || !/Bad Request/.test(text)) return { status, problem: `error body not JSON: ${body.slice(0, 200)}` };
      }
    }
  }
  return { status, problem: null };
}

const H = 'Host: station\r\n';
const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

/** Hand-made attacks: the shapes that broke servers like this one before. */
function handMade(): [string, string | Buffer][] {
  const post = (p: string, body: string, extra = '') =>
    `POST ${p} HTTP/1.1\r\n${H}${AUTH}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
  return [
    ['upgrade with a target that is not a path (the 70-byte crash)', `GET //[ HTTP/1.1\r\n${H}${UPGRADE}\r\n`],
    ['upgrade, absolute-form target', `GET http://[::1 HTTP/1.1\r\n${H}${UPGRADE}\r\n`],
    ['upgrade, asterisk target', `GET * HTTP/1.1\r\n${H}${UPGRADE}\r\n`],
    ['upgrade, bad percent-encoding in the channel', `GET /ws?channel=%E0%A4%A HTTP/1.1\r\n${H}${UPGRADE}\r\n`],
    ['upgrade to an unknown channel', `GET /ws?channel=nope HTTP/1.1\r\n${H}${UPGRADE}\r\n`],
    ['upgrade on a mount', `GET /fuzz.mp3 HTTP/1.1\r\n${H}${UPGRADE}\r\n`],
    [
      'upgrade, wrong WebSocket version',
      `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x\r\n\r\n`,
    ],
    ['upgrade, no key', `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`],
    ['upgrade by POST', `POST /ws HTTP/1.1\r\n${H}${UPGRADE}Content-Length: 0\r\n\r\n`],
    ['upgrade to h2c', `GET / HTTP/1.1\r\n${H}Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`],
    ['bad percent-encoding on a mount path', `GET /%E0%A4%A.mp3 HTTP/1.1\r\n${H}\r\n`],
    ['lone percent', `GET /% HTTP/1.1\r\n${H}\r\n`],
    ['NUL in the path', `GET /fuzz.mp3%00 HTTP/1.1\r\n${H}\r\n`],
    ['raw NUL in the request line', Buffer.from(`GET /fu\0zz.mp3 HTTP/1.1\r\n${H}\r\n`, 'latin1')],
    ['dot segments', `GET /api/channels/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\n${H}\r\n`],
    ['absolute-form', `GET http://evil.example/fuzz.mp3 HTTP/1.1\r\n${H}\r\n`],
    ['asterisk', `OPTIONS * HTTP/1.1\r\n${H}\r\n`],
    ['CONNECT', `CONNECT evil.example:443 HTTP/1.1\r\n${H}\r\n`],
    ['unknown method', `BREW /fuzz.mp3 HTTP/1.1\r\n${H}\r\n`],
    ['HTTP/9.9', `GET / HTTP/9.9\r\n${H}\r\n`],
    ['HTTP/0.9', `GET /\r\n\r\n`],
    ['no Host on HTTP/1.1', `GET /health HTTP/1.1\r\n\r\n`],
    ['two Hosts', `GET /health HTTP/1.1\r\n${H}${H}\r\n`],
    ['header without a colon', `GET /health HTTP/1.1\r\n${H}NoColonHere\r\n\r\n`],
    ['header with a space before the colon', `GET /health HTTP/1.1\r\n${H}X-A : b\r\n\r\n`],
    ['obsolete line folding', `GET /health HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`],
    ['bare LF line endings', `GET /health HTTP/1.1\n${H.trim()}\n\n`],
    ['bare CR', `GET /health HTTP/1.1\r${H}\r\n`],
    ['control characters in a header value', Buffer.from(`GET /health HTTP/1.1\r\n${H}X-A: \x01\x02\x7f\r\n\r\n`, 'latin1')],
    ['high bytes in the target', Buffer.concat([Buffer.from('GET /'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(` HTTP/1.1\r\n${H}\r\n`)])],
    ['a 20 KB header', `GET /health HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a 20 KB target', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`],
    ['500 headers', `GET /health HTTP/1.1\r\n${H}${Array.from({ length: 500 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`],
    [
      'Content-Length and chunked together (smuggling)',
      `POST /api/reload HTTP/1.1\r\n${H}${AUTH}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\n${H}\r\n`,
    ],
    ['two Content-Lengths that differ', `POST /api/reload HTTP/1.1\r\n${H}${AUTH}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx`],
    ['negative Content-Length', `POST /api/reload HTTP/1.1\r\n${H}${AUTH}Content-Length: -1\r\n\r\n`],
    ['Content-Length past 2^53', `POST /api/reload HTTP/1.1\r\n${H}${AUTH}Content-Length: 99999999999999999999\r\n\r\n`],
    [
      'bad chunk size',
      `POST /api/channels/fuzz/queue HTTP/1.1\r\n${H}${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ],
    ['body over the limit', post('/api/channels/fuzz/queue', `{"source":"file","path":"${'x'.repeat(70_000)}"}`)],
    ['body that is not JSON', post('/api/channels/fuzz/queue', '{"source": ')],
    ['JSON null body', post('/api/channels/fuzz/queue', 'null')],
    ['JSON array body', post('/api/channels/fuzz/queue', '[]')],
    ['JSON string body', post('/api/channels/fuzz/queue', '"file"')],
    ['prototype pollution', post('/api/channels/fuzz/queue', '{"__proto__":{"source":"file"},"constructor":{"prototype":{"x":1}}}')],
    ['deeply nested JSON', post('/api/channels/fuzz/queue', `${'['.repeat(20_000)}${']'.repeat(20_000)}`)],
    ['a url track to a file: URL', post('/api/channels/fuzz/queue', '{"source":"url","url":"file:///etc/passwd"}')],
    ['a file track outside the folder', post('/api/channels/fuzz/queue', '{"source":"file","path":"../../../../etc/passwd"}')],
    ['a file track with NUL', post('/api/channels/fuzz/queue', '{"source":"file","path":"a\\u0000b"}')],
    [
      'charset the parser does not know',
      `POST /api/channels/fuzz/queue HTTP/1.1\r\n${H}${AUTH}Content-Type: application/json; charset=utf-32\r\nContent-Length: 2\r\n\r\n{}`,
    ],
    [
      'content type it does not take',
      `POST /api/channels/fuzz/queue HTTP/1.1\r\n${H}${AUTH}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b`,
    ],
    ['a 10 KB bearer token', `POST /api/reload HTTP/1.1\r\n${H}Authorization: Bearer ${'t'.repeat(10_000)}\r\nContent-Length: 0\r\n\r\n`],
    ['Basic instead of Bearer', `POST /api/reload HTTP/1.1\r\n${H}Authorization: Basic ###\r\nContent-Length: 0\r\n\r\n`],
    ['channel id of odd characters', `GET /api/channels/%F0%9F%92%A9%00%0A HTTP/1.1\r\n${H}\r\n`],
    ['channel id of 5000 characters', `POST /api/channels/${'c'.repeat(5000)}/skip HTTP/1.1\r\n${H}${AUTH}Content-Length: 0\r\n\r\n`],
    ['Icy-MetaData twice', `GET /fuzz.mp3 HTTP/1.1\r\n${H}Icy-MetaData: 1\r\nIcy-MetaData: 1\r\n\r\n`],
    ['HEAD on a mount', `HEAD /fuzz.mp3 HTTP/1.1\r\n${H}\r\n`],
    ['query of 10 000 parameters', `GET /api/channels?${Array.from({ length: 2000 }, (_, i) => `a${i}=${i}`).join('&')} HTTP/1.1\r\n${H}\r\n`],
    ['favicon', `GET /favicon.ico HTTP/1.1\r\n${H}\r\n`],
    ['AzuraCast now playing, every channel', `GET /api/nowplaying HTTP/1.1\r\n${H}\r\n`],
    ['AzuraCast station of odd characters', `GET /api/nowplaying/%F0%9F%92%A9%00 HTTP/1.1\r\n${H}\r\n`],
    ['AzuraCast station by a huge number', `GET /api/station/99999999999999999999999 HTTP/1.1\r\n${H}\r\n`],
    ['request search of 5000 characters', `GET /api/station/fuzz/requests?searchPhrase=${'%25'.repeat(1700)} HTTP/1.1\r\n${H}\r\n`],
    ['request list with a negative page', `GET /api/station/fuzz/requests?page=-1&per_page=1e9 HTTP/1.1\r\n${H}\r\n`],
    ['request list with repeated parameters', `GET /api/station/fuzz/requests?searchPhrase=a&searchPhrase=b&page=1&page=2 HTTP/1.1\r\n${H}\r\n`],
    ['a request for a path', post('/api/station/fuzz/request/..%2f..%2fetc%2fpasswd', '')],
    ['a request with a body of 60 KiB', post(`/api/station/fuzz/request/${'0'.repeat(24)}`, `{"x":"${'y'.repeat(60_000)}"}`)],
    ['a request on a channel without requests', post(`/api/station/nope/request/${'0'.repeat(24)}`, '')],
    ['listen file for a mount with a NUL', `GET /fuzz.mp3%00.pls HTTP/1.1\r\n${H}\r\n`],
    ['listen files', `GET /fuzz.mp3.xspf HTTP/1.1\r\n${H}\r\n`],
    ['a stream with a 5000-character session id', `GET /fuzz.mp3?sid=${'s'.repeat(5000)} HTTP/1.1\r\n${H}\r\n`],
    ['a listener start for odd ids', `GET /api/channels/fuzz/listeners/%00%0A${'x'.repeat(300)} HTTP/1.1\r\n${H}\r\n`],
    ['listener figures', `GET /api/channels/fuzz/listeners HTTP/1.1\r\n${H}\r\n`],
    ['the page at a channel', `GET /fuzz HTTP/1.1\r\n${H}\r\n`],
    ['HLS master', `GET /hls/fuzz/live.m3u8 HTTP/1.1\r\n${H}\r\n`],
    ['HLS playlist through a traversal', `GET /hls/fuzz/..%2f..%2fetc/index.m3u8 HTTP/1.1\r\n${H}\r\n`],
    ['HLS segment of 5000 characters', `GET /hls/fuzz/aac_64/${'a'.repeat(5000)}.aac HTTP/1.1\r\n${H}\r\n`],
    ['HLS segment with a NUL and a huge number', `GET /hls/fuzz/aac_64/deadbeef-99999999999999999999%00.aac HTTP/1.1\r\n${H}\r\n`],
    ['an Opus rendition asked for ICY', `GET /fuzz.opus HTTP/1.1\r\n${H}Icy-MetaData: 1\r\n\r\n`],
    ['a picture by a traversal', `GET /art/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\n${H}\r\n`],
    ['a picture of an odd size', `GET /art/0123456789abcdef01234567-9999999999.jpg HTTP/1.1\r\n${H}\r\n`],
    ['a picture with a 60-character name', `GET /art/${'f'.repeat(60)}.jpg HTTP/1.1\r\n${H}If-None-Match: ${'"x'.repeat(2000)}\r\n\r\n`],
    ['default art', `GET /art/default.svg HTTP/1.1\r\n${H}\r\n`],
    ['favicon with a body and a bad method', `DELETE /favicon.ico HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`],
    ['links from a Host that is not a host', `GET /api/channels HTTP/1.1\r\nHost: evil.example/<script>\r\n\r\n`],
    ['links from an unclosed IPv6 Host', `GET /api/channels/fuzz HTTP/1.1\r\nHost: [::1\r\n\r\n`],
    ['links from a 300-character Host', `GET /health HTTP/1.1\r\nHost: ${'a'.repeat(300)}.example:99999\r\n\r\n`],
    ['links with a hostile forwarded scheme', `GET /api/channels HTTP/1.1\r\n${H}X-Forwarded-Proto: javascript\r\n\r\n`],
    ['feed snapshot for a forged Host', `GET /ws?channel=fuzz HTTP/1.1\r\nHost: "><img>\r\n${UPGRADE.slice(0)}\r\n`],
    ['TLS ClientHello on the HTTP port', Buffer.from('16030100a5010000a10303' + '00'.repeat(160), 'hex')],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['nothing but CRLFs', '\r\n'.repeat(5000)],
    ['random binary', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
  ];
}

/** A seeded PRNG, so a failing mutation can be reproduced from the test output. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid requests, each byte-mutated: flips, insertions of delimiters, deletions, truncations. */
function mutated(count: number, seed: number): [string, Buffer][] {
  const rnd = prng(seed);
  const bases = [
    `GET /fuzz.mp3 HTTP/1.1\r\n${H}Icy-MetaData: 1\r\n\r\n`,
    `GET /api/channels/fuzz HTTP/1.1\r\n${H}\r\n`,
    `GET /ws?channel=fuzz HTTP/1.1\r\n${H}${UPGRADE}\r\n`,
    `POST /api/channels/fuzz/queue HTTP/1.1\r\n${H}${AUTH}Content-Type: application/json\r\nContent-Length: 33\r\n\r\n{"source":"file","path":"a.m4a"}`,
    `GET /health HTTP/1.1\r\n${H}\r\n`,
    `GET /metrics HTTP/1.1\r\n${H}\r\n`,
    `GET /favicon.ico HTTP/1.1\r\n${H}\r\n`,
    `GET /api/channels HTTP/1.1\r\nHost: 192.168.1.20:8080\r\nX-Forwarded-Proto: https\r\n\r\n`,
    `GET /api/nowplaying/fuzz HTTP/1.1\r\n${H}\r\n`,
    `GET /api/station/fuzz/requests?searchPhrase=tone&page=1&per_page=2 HTTP/1.1\r\n${H}\r\n`,
    `POST /api/station/fuzz/request/0123456789abcdef01234567 HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`,
    `GET /fuzz.mp3.m3u HTTP/1.1\r\n${H}\r\n`,
    `GET /hls/fuzz/aac_64/index.m3u8 HTTP/1.1\r\n${H}\r\n`,
    `GET /fuzz.opus HTTP/1.1\r\n${H}\r\n`,
    `GET /art/0123456789abcdef01234567-96.jpg HTTP/1.1\r\n${H}If-None-Match: "0123456789abcdef01234567-96"\r\n\r\n`,
  ];
  const specials = ['\r', '\n', '\0', '%', ':', ' ', '/', '[', ']', '?', '#', '\u00ff', '"', '{', '\\'];
  const out: [string, Buffer][] = [];
  for (let i = 0; i < count; i++) {
    const base = Buffer.from(bases[Math.floor(rnd() * bases.length)]!, 'latin1');
    const bytes = [...base];
    const edits = 1 + Math.floor(rnd() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rnd() * bytes.length);
      const kind = rnd();
      if (kind < 0.35) bytes[at] = Math.floor(rnd() * 256);
      else if (kind < 0.7) bytes.splice(at, 0, specials[Math.floor(rnd() * specials.length)]!.charCodeAt(0));
      else if (kind < 0.9) bytes.splice(at, 1 + Math.floor(rnd() * 8));
      else bytes.length = at;
    }
    out.push([`mutation ${i} of seed ${seed}`, Buffer.from(bytes)]);
  }
  return out;
}

describe('adversarial: malformed requests at every route', { timeout: 240_000 }, () => {
  let station: StationProcess;
  let listener: Listener;

  before(async () => {
    const dir = tempDir('fuzz');
    for (const [i, f] of [440, 550, 660].entries())
      await makeTone({ file: path.join(dir, `t${i}.m4a`), freq: f, seconds: 4, args: ['-c:a', 'aac'], title: `Tone ${i}` });
    writePlaylist(dir, 'fuzz', {
      name: 'Fuzz',
      mount: '/fuzz.mp3',
      requests: true,
      // Renditions and HLS: their routes are fuzzed too.
      renditions: [
        { codec: 'aac', bitrate: 64, mount: '/fuzz.aac' },
        { codec: 'opus', bitrate: 48, mount: '/fuzz.opus' },
      ],
      hls: true,
      tracks: [0, 1, 2].map((i) => ({ source: 'file', path: `t${i}.m4a` })),
    });
    station = await startStationProcess({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('fuzz-cache'), CONTROL_TOKEN: TOKEN, MAX_CONNECTIONS_PER_ADDRESS: '0' });
    // The listener who must not notice any of it, from an address of its own.
    listener = await steadyListener(`${station.url}/fuzz.mp3`);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('every hand-made and mutated request gets an answer in the error shape or a close, never a 5xx or a crash', async () => {
    const watch = rateWatch(listener, 128);
    const cases = [...handMade(), ...mutated(400, 20261201)];
    const problems: string[] = [];
    const statuses = new Map<string, number>();
    // A few at a time: attacks overlap, as they would.
    for (let i = 0; i < cases.length; i += 16) {
      const batch = cases.slice(i, i + 16);
      const results = await Promise.all(batch.map(([, payload]) => exchange(station.port, payload, { waitMs: 700 })));
      results.forEach((r, j) => {
        const v = judge(r.data);
        const key = v.status === null ? 'closed' : String(v.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (v.problem) problems.push(`${batch[j]![0]}: ${v.problem}`);
      });
      assert.ok(station.alive(), `the station process died at case ${i}: ${station.stray().slice(-2000)}`);
    }
    console.log(
      `# ${cases.length} requests: ${JSON.stringify(Object.fromEntries(statuses))}; listener at ${(watch.share() * 100).toFixed(1)} % of 128 kbit/s, longest gap ${watch.maxGapMs()} ms`,
    );
    assert.deepEqual(problems, []);
    assert.ok(station.alive());
    assert.equal(station.find(/caught by the process guard/).length, 0, 'nothing reached the process guard');
    const metrics = await (await fetch(`${station.url}/metrics`)).text();
    assert.match(metrics, /^scast_process_faults_total 0$/m);
    assert.ok(watch.deficitMs() < 300, `listener ${Math.round(watch.deficitMs())} ms short of real time (${(watch.share() * 100).toFixed(1)} %)`);
    assert.ok(watch.maxGapMs() < 1000, `longest gap in the listener's audio ${watch.maxGapMs()} ms`);
    assert.equal(listener.closed, false);
  });

  test('regression: the 70-byte upgrade that ended the process is answered 404, and the feed still works', async () => {
    const r = await exchange(station.port, `GET //[ HTTP/1.1\r\n${H}${UPGRADE}\r\n`);
    assert.match(r.data.toString(), /^HTTP\/1\.1 404 /);
    assert.match(r.data.toString(), /"code":"SCAST_NOT_FOUND"/);
    const ws = new WebSocket(`ws://127.0.0.1:${station.port}/ws?channel=fuzz`);
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal((JSON.parse(first) as { type: string }).type, 'snapshot');
  });

  test('pipelining 50 GETs on one connection makes one listener, and the connection is closed', async () => {
    const before = ((await (await fetch(`${station.url}/api/channels/fuzz`)).json()) as { listeners: number }).listeners;
    const many = `GET /fuzz.mp3 HTTP/1.1\r\n${H}\r\n`.repeat(50);
    const socket = net.connect({ port: station.port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    let data = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
    });
    socket.on('error', () => undefined);
    socket.write(many);
    const closed = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 3000);
      socket.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    socket.destroy();
    const during = ((await (await fetch(`${station.url}/api/channels/fuzz`)).json()) as { listeners: number }).listeners;
    assert.ok(closed, 'the server closed the pipelining connection');
    const headers = data.toString('latin1').split('HTTP/1.0 200 OK').length - 1;
    assert.ok(headers <= 1, `${headers} stream answers on one connection`);
    assert.ok(during <= before, `listeners ${before} before, ${during} after`);
    assert.ok(station.alive());
  });
});
