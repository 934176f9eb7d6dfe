/**
 * Stopping with WebSocket subscribers connected: each is sent a close frame
 * (1001, going away) and the station is stopped in well under a second. An
 * open subscriber used to keep the HTTP server from closing until the
 * service's forced exit (4.5 s).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { makeTone } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('stopping the station', { timeout: 60_000 }, () => {
  test('with three WebSocket subscribers: each is closed with 1001, and the stop takes well under a second', async () => {
    const dir = tempDir('stop');
    await makeTone({ file: path.join(dir, 's.m4a'), freq: 440, seconds: 30, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'radio', { name: 'Radio', mount: '/radio.mp3', tracks: [{ source: 'file', path: 's.m4a' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    const clients = await Promise.all(
      [0, 1, 2].map(async () => {
        const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws`);
        await new Promise((r) => ws.once('message', r));
        const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
        return { ws, closed };
      }),
    );
    const t0 = performance.now();
    await station.close();
    const took = performance.now() - t0;
    const codes = await Promise.all(clients.map((c) => c.closed));
    console.log(`# stop with 3 subscribers: ${took.toFixed(0)} ms, close codes ${codes.join(', ')}`);
    assert.deepEqual(codes, [1001, 1001, 1001]);
    assert.ok(took < 1000, `the stop took ${took.toFixed(0)} ms`);
  });
});
