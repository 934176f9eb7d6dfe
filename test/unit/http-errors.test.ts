/**
 * Both services answer errors in one shape, through app.inject(): a known
 * error as written for the caller, anything else at 5xx as "internal
 * error" (its own message, which may name hosts or paths, goes to the log
 * only). api-proxy used to send a raw err.message on a 5xx.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { buildProxyApp } from '../../api-proxy/app.js';
import type { QqService } from '../../api-proxy/qq/service.js';
import { UpstreamError, errorResponse } from '../../src/kernel/errors.js';

const TOKEN = 'a-token-of-sixteen-chars';

describe('error answers, one shape for both services', () => {
  test('a known error keeps its code and message; anything else at 5xx is "internal error"', () => {
    const known = errorResponse(new UpstreamError('QQ Music answered 500'));
    assert.equal(known.status, 502);
    assert.equal(known.body.error.code, 'SCAST_UPSTREAM_FAILED');
    assert.match(known.body.error.message, /QQ Music answered 500/);
    assert.equal(known.logIt, false);
    const raw = errorResponse(new Error('connect ECONNREFUSED 10.1.2.3:6379 /srv/secret'));
    assert.deepEqual(raw, { status: 500, body: { error: { code: 'SCAST_INTERNAL', message: 'internal error' } }, logIt: true });
    const client = errorResponse(Object.assign(new Error('body is not JSON'), { statusCode: 400 }));
    assert.deepEqual(client.body, { error: { code: 'SCAST_BAD_REQUEST', message: 'body is not JSON' } });
  });

  test('api-proxy, through inject(): a bug in a route answers 500 "internal error", never its message', async () => {
    const qq = {
      song: async () => Promise.reject(new Error('Cannot read properties of undefined (reading "songmid") at /srv/app/qq.js')),
    } as unknown as QqService;
    const app = buildProxyApp({ qq, token: TOKEN, logger: pino({ level: 'silent' }), cacheStatus: () => 'disabled' as never, inFlight: () => 0 });
    const res = await app.inject({ method: 'GET', url: '/v1/qq/songs/0039MnYb0qxYhV', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: { code: 'SCAST_INTERNAL', message: 'internal error' } });
    const unauth = await app.inject({ method: 'GET', url: '/v1/qq/songs/0039MnYb0qxYhV' });
    assert.equal(unauth.statusCode, 401);
    assert.equal(unauth.json().error.code, 'SCAST_UNAUTHORIZED');
    await app.close();
  });
});
