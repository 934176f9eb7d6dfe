import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { ConfigError } from '../../src/kernel/errors.js';

describe('environment', () => {
  test('defaults', () => {
    const env = loadEnv({});
    assert.equal(env.HTTP_PORT, 8080);
    assert.equal(env.PLAYLISTS_DIR, './playlists');
    assert.deepEqual(env.ICECAST_URL, []);
    assert.equal(env.ICECAST_METHOD, 'PUT');
    assert.equal(env.BUILTIN_OUTPUT, true);
    assert.ok(Object.isFrozen(env));
  });

  test('ICECAST_URL: one or several servers, credentials decoded', () => {
    const env = loadEnv({ ICECAST_URL: 'http://source:p%40ss@127.0.0.1:8000, http://src:x@[::1]:9000' });
    assert.deepEqual(env.ICECAST_URL, [
      { server: '127.0.0.1:8000', host: '127.0.0.1', port: 8000, user: 'source', password: 'p@ss' },
      { server: '[::1]:9000', host: '::1', port: 9000, user: 'src', password: 'x' },
    ]);
  });

  test('every invalid variable is reported at once, by name, and passwords are not echoed', () => {
    try {
      loadEnv({ HTTP_PORT: 'eighty', LOG_LEVEL: 'loud', ICECAST_URL: 'ftp://source:topsecret@h/x', ICECAST_METHOD: 'POST', CACHE_MAX_MB: '-1' });
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const names = err.issues.map((i) => i.where).sort();
      assert.deepEqual(names, ['CACHE_MAX_MB', 'HTTP_PORT', 'ICECAST_METHOD', 'ICECAST_URL', 'LOG_LEVEL']);
      assert.match(err.message, /HTTP_PORT: expected a whole number/);
      assert.doesNotMatch(err.message, /topsecret/);
    }
  });

  test('regression: an Icecast password containing / or @ is parsed whole and never echoed', () => {
    const env = loadEnv({ ICECAST_URL: 'http://source:a/b@c+d==@ice.example.org:8010' });
    assert.deepEqual(env.ICECAST_URL, [{ server: 'ice.example.org:8010', host: 'ice.example.org', port: 8010, user: 'source', password: 'a/b@c+d==' }]);
    const bad = 'http://source:se/cr@et@ice.example.org:8000/radio.mp3';
    assert.throws(
      () => loadEnv({ ICECAST_URL: bad }),
      (err: Error) => /no path expected/.test(err.message) && !err.message.includes('se/cr') && !err.message.includes('cr@et'),
    );
    assert.equal(loadEnv({ ICECAST_URL: 'http://source:100%zz@h:8000' }).ICECAST_URL[0]!.password, '100%zz', 'an invalid escape is kept as typed');
  });

  test('MEDIA_ALLOW_HOSTS takes names, addresses and networks, and names what it cannot read', () => {
    assert.deepEqual(loadEnv({ MEDIA_ALLOW_HOSTS: 'nas.local, 192.168.1.0/24,::1' }).MEDIA_ALLOW_HOSTS, ['nas.local', '192.168.1.0/24', '::1']);
    assert.throws(() => loadEnv({ MEDIA_ALLOW_HOSTS: '10.0.0.0/99,a b' }), /MEDIA_ALLOW_HOSTS: .*"10\.0\.0\.0\/99", "a b"/);
  });

  test('an Icecast URL without a password is refused', () => {
    assert.throws(() => loadEnv({ ICECAST_URL: 'http://127.0.0.1:8000' }), /password is missing/);
  });
});
