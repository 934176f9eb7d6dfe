import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeaderValueError } from '../../src/kernel/errors.js';
import { buildSourceRequest, ReplyParser, type SourceRequest } from '../../src/outputs/icecast/protocol.js';

const base: SourceRequest = {
  method: 'PUT',
  mount: '/radio.mp3',
  host: '127.0.0.1:8000',
  user: 'source',
  password: 'pä:ss',
  userAgent: 'sCast/test',
  info: { name: '测试 Radio', description: 'd', genre: 'g', url: 'http://example.org', public: false, bitrateKbps: 128, sampleRate: 44100, channels: 2 },
};

function headers(buf: Buffer): { start: string; map: Map<string, string> } {
  const text = buf.toString('utf8');
  assert.ok(text.endsWith('\r\n\r\n'));
  const [start, ...lines] = text.slice(0, -4).split('\r\n');
  return { start: start!, map: new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)])) };
}

describe('source request', () => {
  test('PUT over HTTP/1.1 with Expect, Basic auth, ice-* headers, and no body framing', () => {
    const { start, map } = headers(buildSourceRequest(base));
    assert.equal(start, 'PUT /radio.mp3 HTTP/1.1');
    assert.equal(map.get('expect'), '100-continue');
    assert.equal(map.get('authorization'), `Basic ${Buffer.from('source:pä:ss').toString('base64')}`);
    assert.equal(map.get('content-type'), 'audio/mpeg');
    assert.equal(map.get('ice-name'), '测试 Radio');
    assert.equal(map.get('ice-public'), '0');
    assert.equal(map.get('ice-genre'), 'g');
    assert.equal(map.get('ice-url'), 'http://example.org');
    assert.equal(map.get('ice-description'), 'd');
    assert.equal(map.get('ice-audio-info'), 'ice-bitrate=128;ice-channels=2;ice-samplerate=44100');
    assert.equal(map.has('content-length'), false);
    assert.equal(map.has('transfer-encoding'), false);
  });

  test('legacy SOURCE over HTTP/1.0 without Expect', () => {
    const { start, map } = headers(buildSourceRequest({ ...base, method: 'SOURCE' }));
    assert.equal(start, 'SOURCE /radio.mp3 HTTP/1.0');
    assert.equal(map.has('expect'), false);
  });

  test('CR or LF in a header value is refused', () => {
    assert.throws(() => buildSourceRequest({ ...base, info: { ...base.info, name: 'a\r\nX-Evil: 1' } }), HeaderValueError);
    assert.throws(() => buildSourceRequest({ ...base, info: { ...base.info, genre: 'a\nb' } }), HeaderValueError);
    assert.throws(() => buildSourceRequest({ ...base, mount: '/a b' }), HeaderValueError);
  });

  test('long values are cut to keep the request under Icecast 2.4 limit', () => {
    const long = buildSourceRequest({ ...base, info: { ...base.info, description: '长'.repeat(2000) } });
    assert.ok(long.length < 4096);
    assert.ok(!long.toString('utf8').includes('\ufffd'));
    assert.throws(
      () =>
        buildSourceRequest({
          ...base,
          info: { ...base.info, name: 'n'.repeat(1000), description: 'd'.repeat(1000), genre: 'g'.repeat(1000), url: 'u'.repeat(1000) },
        }),
      /at most 4095/,
    );
  });
});

// Replies as Icecast 2.4.4 sent them here (captured), and as 2.5 sends them (reference).
const R24_OK = 'HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\n';
const R24_BUSY = 'HTTP/1.0 403 Forbidden\r\nServer: Icecast 2.4.4\r\nConnection: Close\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMountpoint in use';
const R24_AUTH =
  'HTTP/1.0 401 Authentication Required\r\nServer: Icecast 2.4.4\r\nConnection: Close\r\nWWW-Authenticate: Basic realm="Icecast2 Server"\r\n\r\nYou need to authenticate\r\n';
const cases: [string, string, string, number][] = [
  ['2.4 100 then 200 in one read', R24_OK, 'accepted', 100],
  ['2.5 PUT: 100 only', 'HTTP/1.1 100 Continue\r\n\r\n', 'accepted', 100],
  ['SOURCE: 200', 'HTTP/1.0 200 OK\r\n\r\n', 'accepted', 200],
  ['ICE/1.0 200', 'ICE/1.0 200 OK\r\n\r\n', 'accepted', 200],
  ['2.4 wrong password', R24_AUTH, 'auth', 401],
  ['2.5 wrong password', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n', 'auth', 401],
  ['2.4 mount busy', R24_BUSY, 'busy', 403],
  ['2.5 mount busy', 'HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n', 'busy', 409],
  ['2.4 too many sources', 'HTTP/1.0 403 Forbidden\r\n\r\ntoo many sources connected', 'limit', 403],
  ['2.5 source limit', 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nfull', 'limit', 503],
  ['2.4 no content type', 'HTTP/1.0 403 Forbidden\r\n\r\nNo Content-type given', 'refused', 403],
  ['2.5 bad request', 'HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad', 'refused', 400],
  ['2.5 unknown transfer encoding', 'HTTP/1.1 501 Not Implemented\r\n\r\n', 'refused', 501],
];

describe('reply parser', () => {
  for (const [name, reply, verdict, status] of cases) {
    test(`${name} -> ${verdict}, whole, byte by byte and split anywhere`, () => {
      const bytes = Buffer.from(reply, 'latin1');
      const feed = (chunks: Buffer[]) => {
        const p = new ReplyParser();
        for (const c of chunks) {
          const r = p.push(c);
          if (r) return r;
        }
        return p.end(); // the server closed the connection
      };
      const whole = feed([bytes]);
      assert.equal(whole?.verdict, verdict);
      assert.equal(whole?.status, status);
      assert.deepEqual(feed([...bytes].map((b) => Buffer.from([b]))), whole);
      for (let cut = 1; cut < bytes.length; cut++) {
        assert.deepEqual(feed([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `cut at ${cut}`);
      }
    });
  }

  test('the 403 reason is in the message a person reads', () => {
    const p = new ReplyParser();
    assert.equal(p.push(Buffer.from(R24_BUSY)), null, 'waits for the end of a body without length');
    assert.match(p.end()!.message, /Mountpoint in use/);
  });

  test('a connection closed before any reply is no reply', () => {
    assert.equal(new ReplyParser().end(), null);
  });

  test('bytes that are not HTTP are an error', () => {
    assert.throws(() => new ReplyParser().push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /not an HTTP reply/);
  });
});
