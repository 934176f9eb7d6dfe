/** The live side's pure parts: source request heads, title updates, weekly windows, DJ accounts (the `npm run dj` command: test/integration/dj-command.test.ts). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { inWindows, parseWindow } from '../../src/config/week.js';
import { hashPassword, readDjFile, refusal, verifyPassword } from '../../src/live/accounts.js';
import { parseMetadataUpdate } from '../../src/live/metadata.js';
import { basicCredentials, inputFormatOf, parseSourceHead, refuseReply, startsSourceRequest } from '../../src/live/source-head.js';
import { PlaylistError } from '../../src/kernel/errors.js';
import { SignInGuard } from '../../src/live/sign-in-guard.js';
import { CheckGate } from '../../src/live/check-gate.js';
import { ChunkedDecoder } from '../../src/live/chunked.js';
import { clientKey } from '../../src/kernel/client-address.js';
import { tempDir } from '../helpers/station.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('source request heads', () => {
  test('SOURCE and PUT are told from other requests by their first bytes, even split', () => {
    assert.equal(startsSourceRequest(Buffer.from('SOURCE /a.mp3 HTTP/1.0\r\n')), true);
    assert.equal(startsSourceRequest(Buffer.from('PUT /a.mp3 HTTP/1.1')), true);
    assert.equal(startsSourceRequest(Buffer.from('SOU')), null);
    assert.equal(startsSourceRequest(Buffer.from('P')), null);
    assert.equal(startsSourceRequest(Buffer.from('GET / HTTP/1.1')), false);
    assert.equal(startsSourceRequest(Buffer.from('POST /api')), false);
    assert.equal(startsSourceRequest(Buffer.from('\x16\x03\x01')), false, 'TLS');
  });

  test('a head parses with its mount, headers, credentials and the audio after it', () => {
    const raw = Buffer.concat([
      Buffer.from(
        `PUT /live%20show.mp3?x=1 HTTP/1.1\r\nAuthorization: Basic ${b64('alice:pa:ss')}\r\nContent-Type: audio/mpeg\r\nExpect: 100-continue\r\nice-name: Caf\xe9\r\n\r\n`,
        'latin1',
      ),
      Buffer.from([0xff, 0xfb, 0x90]),
    ]);
    const p = parseSourceHead(raw);
    assert.equal(p.kind, 'head');
    if (p.kind !== 'head') return;
    assert.equal(p.head.method, 'PUT');
    assert.equal(p.head.mount, '/live show.mp3');
    assert.deepEqual(p.head.credentials, { user: 'alice', password: 'pa:ss' });
    assert.equal(p.head.expectContinue, true);
    assert.equal(p.head.headers.get('content-type'), 'audio/mpeg');
    assert.deepEqual([...p.rest], [0xff, 0xfb, 0x90]);
    assert.equal(parseSourceHead(raw.subarray(0, 40)).kind, 'more');
  });

  test('a head split at every byte boundary: more until the blank line, then the same head and audio', () => {
    const raw = Buffer.from(`SOURCE /a.mp3 HTTP/1.0\r\nAuthorization: Basic ${b64('dj:pw')}\r\nContent-Type: audio/mpeg\r\n\r\nAUDIO`, 'latin1');
    const end = raw.indexOf('\r\n\r\n') + 4;
    for (let cut = 1; cut <= raw.length; cut++) {
      const p = parseSourceHead(raw.subarray(0, cut));
      if (cut < end) {
        assert.equal(p.kind, 'more', `cut at ${cut}`);
        assert.notEqual(startsSourceRequest(raw.subarray(0, cut)), false, `cut at ${cut}`);
      } else {
        assert.equal(p.kind, 'head', `cut at ${cut}`);
        if (p.kind !== 'head') return;
        assert.deepEqual(p.head.credentials, { user: 'dj', password: 'pw' });
        assert.equal(p.rest.toString(), 'AUDIO'.slice(0, cut - end));
      }
    }
  });

  test('malformed heads are refused with a reason, oversized ones too', () => {
    const bad = (s: string) => parseSourceHead(Buffer.from(s, 'latin1'));
    assert.deepEqual(bad('SOURCE nomount HTTP/1.0\r\n\r\n'), { kind: 'bad', reason: 'malformed request line' });
    assert.deepEqual(bad('SOURCE /a HTTP/1.0\r\nNo colon here\r\n\r\n'), { kind: 'bad', reason: 'malformed header line' });
    assert.equal(bad('SOURCE /a HTTP/1.0\r\nX: a\x00b\r\n\r\n').kind, 'bad');
    assert.equal(bad('SOURCE /%zz HTTP/1.0\r\n\r\n').kind, 'bad');
    assert.equal(bad(`SOURCE /a HTTP/1.0\r\nX: ${'a'.repeat(9000)}`).kind, 'bad', 'no end of head within 8 KiB');
  });

  test('credentials: Basic only; the old "source" user with "user:password"', () => {
    assert.deepEqual(basicCredentials(`Basic ${b64('source:bob:secret')}`), { user: 'bob', password: 'secret' });
    assert.deepEqual(basicCredentials(`Basic ${b64('source:hackme')}`), { user: 'source', password: 'hackme' });
    assert.equal(basicCredentials(`Bearer ${b64('a:b')}`), null);
    assert.equal(basicCredentials(`Basic ${b64('nocolon')}`), null);
    assert.equal(basicCredentials(undefined), null);
  });

  test("audio types map to decoders; others are refused; replies read as Icecast's", () => {
    assert.equal(inputFormatOf('audio/mpeg'), 'mp3');
    assert.equal(inputFormatOf('audio/aacp'), 'aac');
    assert.equal(inputFormatOf('application/ogg; charset=x'), 'ogg');
    assert.equal(inputFormatOf('video/mp4'), null);
    assert.equal(inputFormatOf(undefined), null);
    const r = refuseReply(401, 'You need to authenticate').toString();
    assert.match(r, /^HTTP\/1\.0 401 Authentication Required\r\nWWW-Authenticate: Basic realm="Icecast2 Server"\r\n/);
    assert.match(refuseReply(403, 'a\r\nInjected: x').toString(), /\r\n\r\na +Injected: x\r\n$/, 'no header injection through a reason');
  });
});

describe('title updates (updinfo)', () => {
  test('song= in UTF-8 with its charset, or artist= and title=', () => {
    assert.deepEqual(parseMetadataUpdate(`/admin/metadata?mode=updinfo&mount=%2Fradio.mp3&song=${encodeURIComponent('演示 - 晨光')}&charset=UTF-8`), {
      ok: true,
      mount: '/radio.mp3',
      title: '演示 - 晨光',
    });
    assert.deepEqual(parseMetadataUpdate('/admin/metadata?mode=updinfo&mount=%2fradio%2emp3&charset=UTF%2d8&artist=DJ%20Bob&title=%e5%a4%9c'), {
      ok: true,
      mount: '/radio.mp3',
      title: 'DJ Bob - 夜',
    });
  });

  test('without a charset: UTF-8 when it is valid, else ISO-8859-1; a named charset is honoured', () => {
    assert.equal((parseMetadataUpdate('/m?mode=updinfo&mount=/r&song=Caf%C3%A9') as { title: string }).title, 'Café');
    assert.equal((parseMetadataUpdate('/m?mode=updinfo&mount=/r&song=Caf%E9') as { title: string }).title, 'Café');
    assert.equal((parseMetadataUpdate('/m?mode=updinfo&mount=/r&song=Caf%E9&charset=ISO-8859-1') as { title: string }).title, 'Café');
  });

  test('nonsense is refused with a reason; control characters are cleaned', () => {
    assert.deepEqual(parseMetadataUpdate('/m?mode=updinfo&mount=/r&song=a&charset=klingon'), { ok: false, status: 400, reason: 'unknown charset "klingon"' });
    assert.equal(parseMetadataUpdate('/m?mode=other&mount=/r&song=a').ok, false);
    assert.equal(parseMetadataUpdate('/m?mode=updinfo&song=a').ok, false);
    assert.equal(parseMetadataUpdate('/m?mode=updinfo&mount=/r&title=only-title').ok, false, 'title alone, as Icecast ignores it');
    assert.equal(parseMetadataUpdate('/m?mode=updinfo&mount=/r&song=%zz').ok, false);
    assert.equal((parseMetadataUpdate('/m?mode=updinfo&mount=/r&song=A%0D%0AInjected') as { title: string }).title, 'A Injected');
  });
});

describe('weekly windows', () => {
  test('written as on the command line, ranges wrapping the week', () => {
    assert.deepEqual(parseWindow('mon-fri 07:00-10:00'), { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '10:00' });
    assert.deepEqual(parseWindow('fri-mon 22:00-02:00').days, ['fri', 'sat', 'sun', 'mon']);
    assert.throws(() => parseWindow('funday 10:00-11:00'), /days are/);
    assert.throws(() => parseWindow('mon 10:00-10:00'), /empty/);
    assert.throws(() => parseWindow('mon 25:00-26:00'), /HH:MM/);
  });

  test('read in the zone given, across midnight and daylight-saving changes', () => {
    const w = [parseWindow('sat 22:00-02:00')];
    // Saturday 2026-03-28 23:30 in Berlin is 22:30 UTC (CET, +1).
    assert.equal(inWindows(w, 'Europe/Berlin', new Date('2026-03-28T22:30:00Z')), true);
    // Sunday 01:30 Berlin (still CET): the morning part of Saturday's window.
    assert.equal(inWindows(w, 'Europe/Berlin', new Date('2026-03-29T00:30:00Z')), true);
    // Sunday 03:30 Berlin, after the clocks went forward at 02:00 (01:30 UTC): outside.
    assert.equal(inWindows(w, 'Europe/Berlin', new Date('2026-03-29T01:30:00Z')), false);
    // The same instant in UTC is Sunday 01:30: inside.
    assert.equal(inWindows(w, 'UTC', new Date('2026-03-29T01:30:00Z')), true);
    // Sunday 22:30 Berlin is not a Saturday.
    assert.equal(inWindows(w, 'Europe/Berlin', new Date('2026-03-29T20:30:00Z')), false);
  });
});

describe('DJ accounts', () => {
  test('passwords are kept as scrypt hashes and checked in constant time; a hand-edited hash cannot cost minutes', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^scrypt\$16384\$8\$1\$/);
    assert.ok(!hash.includes('correct'));
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horsE', hash), false);
    assert.equal(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), false);
    assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
  });

  test('a malformed accounts file is refused with the file, JSON path and reason', async () => {
    const file = path.join(tempDir('djs'), 'djs.json');
    writeFileSync(
      file,
      JSON.stringify({
        djs: [
          { user: 'a', channels: ['r'], hash: 'plaintext', timezone: 'Mars/Olympus' },
          { user: 'a', channels: [], hash: 'scrypt$1$1$1$AA$AA' },
        ],
      }),
    );
    const err = await readDjFile(file).catch((e: unknown) => e);
    assert.ok(err instanceof PlaylistError);
    const where = err.issues.map((i) => i.where);
    assert.ok(where.includes('djs[0].hash') && where.includes('djs[0].timezone') && where.includes('djs[1].channels'), where.join(', '));
    assert.deepEqual(await readDjFile(path.join(tempDir('djs'), 'none.json')), { djs: [] });
  });

  test('refusals name the reason: another channel, outside the hours', () => {
    const dj = { user: 'carol', channels: ['radio'], hash: '', timezone: 'UTC', windows: [parseWindow('mon 10:00-11:00')] };
    assert.match(refusal(dj, 'other', new Date('2026-12-07T10:30:00Z'))!, /may not broadcast into channel other/);
    assert.equal(refusal(dj, 'radio', new Date('2026-12-07T10:30:00Z')), null, 'Monday 10:30');
    assert.match(refusal(dj, 'radio', new Date('2026-12-07T11:30:00Z'))!, /outside DJ carol's hours \(mon 10:00-11:00, UTC\)/);
  });
});

describe('failed sign-ins per address', () => {
  test('ten failures in a minute lock an address out for a minute; others are unaffected; success forgets', () => {
    const clock = { t: 0 };
    const g = new SignInGuard({ maxFailures: 10, windowMs: 60_000, lockMs: 60_000, maxAddresses: 3 }, () => clock.t);
    for (let i = 0; i < 9; i++) assert.equal(g.failed('a'), false);
    assert.equal(g.lockedFor('a'), 0);
    assert.equal(g.failed('a'), true, 'the tenth locks');
    assert.equal(g.lockedFor('a'), 60_000);
    assert.equal(g.lockedFor('b'), 0);
    clock.t = 59_999;
    assert.equal(g.lockedFor('a'), 1);
    clock.t = 60_000;
    assert.equal(g.lockedFor('a'), 0, 'unlocked after a minute');
    // Failures spread over more than the window never lock.
    for (let i = 0; i < 20; i++) {
      clock.t += 7000;
      assert.equal(g.failed('c'), false);
    }
    g.failed('d');
    g.admitted('d');
    for (let i = 0; i < 9; i++) g.failed('d');
    assert.equal(g.lockedFor('d'), 0, 'a success started the count afresh');
    // At most maxAddresses remembered: the oldest forgotten.
    g.failed('e');
    g.failed('f');
    assert.equal(g.lockedFor('a'), 0);
  });
});

describe('the password-check budget', () => {
  const budget = { atOnce: 1, lanes: { known: { perSecond: 2, burst: 2, queued: 1 }, other: { perSecond: 5, burst: 4, queued: 2 } }, perAddress: 2 };

  test('a burst arriving in one tick is bounded at reservation, before any check has joined the queue', () => {
    const clock = { t: 0 };
    const gate = new CheckGate(budget, () => clock.t);
    const got = Array.from({ length: 50 }, (_, i) => gate.reserve(`10.0.0.${i}`, 'other'));
    const tickets = got.filter((g) => typeof g !== 'string');
    // atOnce + queued = 3 outstanding at most, whatever the token bucket holds.
    assert.equal(tickets.length, 3);
    assert.deepEqual([...new Set(got.filter((g) => typeof g === 'string'))], ['queue-full']);
    // The known lane is apart: a DJ who went on air before still gets a check.
    assert.equal(typeof gate.reserve('192.0.2.9', 'known'), 'object');
  });

  test('a known address whose lane is spent still has the common lane', async () => {
    const clock = { t: 0 };
    const gate = new CheckGate(budget, () => clock.t);
    // Known lane: burst 2. Sequential checks from one known address: 2 from its lane, then 4 from the common burst.
    let granted = 0;
    for (let i = 0; i < 8; i++) {
      const t = gate.reserve('192.0.2.1', 'known');
      if (typeof t === 'string') break;
      granted += 1;
      await t.run(async () => true);
    }
    assert.equal(granted, 6);
  });

  test('the rate holds whatever the queue: 5 a second sustained after a burst of 4', async () => {
    const clock = { t: 0 };
    const gate = new CheckGate(budget, () => clock.t);
    let granted = 0;
    for (let step = 0; step < 100; step++) {
      clock.t = step * 100;
      const t = gate.reserve(`10.1.0.${step}`, 'other');
      if (typeof t !== 'string') {
        granted += 1;
        await t.run(async () => true);
      }
    }
    // 10 s: the burst (4) plus 5 a second over the rest.
    assert.ok(granted >= 49 && granted <= 54, `${granted} checks in 10 s`);
  });

  test('one address holds at most its share; a released ticket gives its place back', () => {
    const gate = new CheckGate(budget, () => 0);
    const a = gate.reserve('a', 'other');
    const b = gate.reserve('a', 'other');
    assert.equal(gate.reserve('a', 'other'), 'address-busy');
    assert.ok(typeof a !== 'string' && typeof b !== 'string');
    a.release();
    assert.equal(typeof gate.reserve('a', 'other'), 'object');
  });
});

describe('client addresses as counted', () => {
  test('IPv4-mapped addresses are their IPv4 address; IPv6 counts per /64', () => {
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002::ffff'), '2001:db8:1:2::/64');
    assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});

describe('chunked source bodies', () => {
  const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  const body = Buffer.concat([
    Buffer.from('7d0\r\n'),
    payload.subarray(0, 2000),
    Buffer.from('\r\n3E8;name=x\r\n'),
    payload.subarray(2000),
    Buffer.from('\r\n0\r\nX-Trailer: y\r\n\r\n'),
  ]);

  test('decoded whole, byte by byte, and split at every boundary: the payload and nothing else', () => {
    const whole = new ChunkedDecoder();
    assert.deepEqual(whole.push(body), payload);
    assert.equal(whole.done, true);
    const bytewise = new ChunkedDecoder();
    assert.deepEqual(Buffer.concat([...body].map((b) => bytewise.push(Buffer.from([b])))), payload);
    for (let at = 0; at <= body.length; at += 7) {
      const d = new ChunkedDecoder();
      assert.deepEqual(Buffer.concat([d.push(body.subarray(0, at)), d.push(body.subarray(at))]), payload, `split at ${at}`);
      assert.equal(d.error, null);
    }
  });

  test('malformed frames stop the body with a reason', () => {
    const bad = (text: string): string => {
      const d = new ChunkedDecoder();
      d.push(Buffer.from(text, 'latin1'));
      return d.error ?? 'none';
    };
    assert.match(bad('zz\r\nabc'), /not a chunk size line/);
    assert.match(bad('2\r\nabcd\r\n'), /longer than its size line says/);
    assert.match(bad('1'.repeat(2000)), /chunk line over 1024 bytes/);
    assert.match(bad('ffffffffffffffff\r\n'), /not a chunk size line/);
    assert.match(bad(`0\r\n${'X-A: b\r\n'.repeat(33)}`), /trailer of more than 32 lines/);
    assert.equal(bad(`0\r\n${'X-A: b\r\n'.repeat(32)}`), 'none');
    assert.equal(bad('3\r\nabc\r\n'), 'none');
  });

  test('a source head with Transfer-Encoding: chunked is read as chunked; another coding is refused', () => {
    const head = (te: string): ReturnType<typeof parseSourceHead> =>
      parseSourceHead(Buffer.from(`PUT /radio.mp3 HTTP/1.1\r\nTransfer-Encoding: ${te}\r\n\r\n`));
    const ok = head('chunked');
    assert.ok(ok.kind === 'head' && ok.head.chunked);
    const gz = head('gzip');
    assert.ok(gz.kind === 'bad' && /unsupported Transfer-Encoding "gzip"/.test(gz.reason));
  });
});
