/** Pure rules applied to everything that crosses the station's boundary. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressPolicy, plainAddress } from '../../src/config/address-policy.js';
import { cleanDisplayText } from '../../src/config/playlist.js';
import { effectiveConnectionCap, descriptorLimit } from '../../src/api/connection-guard.js';
import { encodeIcyMetadata } from '../../src/audio/icy.js';
import { isGarbled } from '../../src/outputs/icecast/metadata.js';
import { redactUrl } from '../../src/kernel/redact.js';

describe('media address policy', () => {
  test('loopback, private, link-local, CGNAT, multicast and mapped forms are refused; public addresses pass', () => {
    const policy = new AddressPolicy();
    for (const a of [
      '127.0.0.1',
      '127.8.9.10',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.10',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '[::1]',
      '::ffff:10.0.0.1',
    ]) {
      assert.equal(policy.allows(a), false, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(policy.allows(a), true, a);
  });

  test('listed hosts, addresses and networks are allowed, and nothing else with them', () => {
    const policy = new AddressPolicy(['nas.local', '192.168.1.0/24', '::1']);
    assert.equal(policy.allows('192.168.1.77'), true);
    assert.equal(policy.allows('192.168.2.1'), false);
    assert.equal(policy.allows('::1'), true);
    assert.equal(policy.allows('10.0.0.5', 'nas.local'), true, 'a listed name may resolve anywhere');
    assert.equal(policy.allows('10.0.0.5', 'NAS.local.'), true);
    assert.equal(policy.allows('10.0.0.5', 'evil.example'), false);
    assert.equal(policy.allows('not-an-ip'), false);
    assert.equal(plainAddress('[::ffff:127.0.0.1]'), '127.0.0.1');
  });
});

describe('secrets in URLs', () => {
  test('credentials and every query value are masked; the rest stays readable', () => {
    assert.equal(
      redactUrl('https://bob:hunter2@cdn.example.org:8443/a/b.m4a?vkey=SECRET&guid=123'),
      'https://***@cdn.example.org:8443/a/b.m4a?vkey=***&guid=***',
    );
    assert.equal(redactUrl('http://example.org/song.mp3'), 'http://example.org/song.mp3');
    const notUrl = redactUrl('//user:pw@host/x?token=abc');
    assert.ok(!notUrl.includes('pw') && !notUrl.includes('abc'), notUrl);
  });
});

describe('display text from tags and services', () => {
  test('control, line-break and bidi-override characters go, length is bounded, empty becomes undefined', () => {
    assert.equal(cleanDisplayText('Song\r\nInjected: header\u0000\u0007'), 'Song Injected: header');
    assert.equal(cleanDisplayText('\u202eevil\u202c name'), 'evil name');
    assert.equal(cleanDisplayText('  \t\n '), undefined);
    assert.equal(cleanDisplayText(undefined), undefined);
    const long = cleanDisplayText('晨'.repeat(10_000))!;
    assert.equal([...long].length, 500);
    assert.equal(cleanDisplayText('晨光 (Morning Light)'), '晨光 (Morning Light)');
  });

  test("regression: a title with '; cannot end the ICY StreamTitle early and inject a StreamUrl", () => {
    const block = encodeIcyMetadata("A';StreamUrl='http://evil.example/';x='");
    const text = block.subarray(1).toString('utf8').replace(/\0+$/, '');
    assert.equal(text.indexOf("';"), text.length - 2, `only the closing '; remains: ${text}`);
    assert.ok(text.startsWith("StreamTitle='A\u2019;StreamUrl=\u2019http"), text);
  });
});

describe('titles as Icecast shows them', () => {
  test('entities and Latin-1 readings of the sent title are garbled; the title itself or another one is not', () => {
    const sent = '演示乐队 - 晨光';
    assert.equal(isGarbled(sent, '&#28436;&#31034;&#20048;&#38431; - &#26216;&#20809;'), true);
    assert.equal(isGarbled(sent, Buffer.from(sent, 'utf8').toString('latin1')), true);
    assert.equal(isGarbled(sent, sent), false);
    assert.equal(isGarbled(sent, 'Previous Song'), false, 'a stale title is not a charset problem');
  });
});

describe('descriptor budget', () => {
  test('the connection cap stays a reserve below the descriptor limit', () => {
    assert.equal(effectiveConnectionCap(4096, 1024, 128), 896);
    assert.equal(effectiveConnectionCap(100, 1024, 128), 100);
    assert.equal(effectiveConnectionCap(4096, null, 128), 4096);
    assert.equal(effectiveConnectionCap(4096, 100, 128), 1, 'never zero');
    const limit = descriptorLimit();
    assert.ok(limit === null || limit > 0);
    assert.equal(descriptorLimit('/nonexistent/limits'), null);
  });
});
