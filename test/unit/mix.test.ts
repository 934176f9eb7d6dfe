import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addInto, envelopeAt, type Envelope } from '../../src/audio/mix.js';

/** addInto as its definition says: every frame times gain × envelopeAt. */
function reference(frames: number, at: number, pcm: Int16Array, gain: number, env: Envelope, from: number): Float32Array {
  const out = new Float32Array((at + frames) * 2);
  for (let i = 0; i < frames; i++) {
    const g = gain * envelopeAt(env, from + i);
    out[(at + i) * 2] = pcm[2 * i]! * g;
    out[(at + i) * 2 + 1] = pcm[2 * i + 1]! * g;
  }
  return out;
}

test('fades stepped by rotation stay on the envelope: in, out, both at once, ends, pieces anywhere in a long fade', () => {
  const cases: { env: Envelope; from: number; frames: number }[] = [
    { env: { fadeInFrames: 441_000, fadeOutStart: null, fadeOutFrames: 0 }, from: 0, frames: 441_000 }, // a 10 s fade-in, whole
    { env: { fadeInFrames: 441_000, fadeOutStart: null, fadeOutFrames: 0 }, from: 300_001, frames: 11_025 }, // a tick deep inside it
    { env: { fadeInFrames: 0, fadeOutStart: 1000, fadeOutFrames: 132_300 }, from: 0, frames: 140_000 }, // plain, a 3 s fade-out, silent past its end
    { env: { fadeInFrames: 5000, fadeOutStart: 2000, fadeOutFrames: 7 }, from: 1500, frames: 10_000 }, // a short song: out starts inside the in
    { env: { fadeInFrames: 3, fadeOutStart: 10, fadeOutFrames: 0 }, from: 0, frames: 20 }, // a cut: silent at once
  ];
  for (const { env, from, frames } of cases) {
    const pcm = new Int16Array(frames * 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = ((i * 7919) % 65_536) - 32_768;
    const at = 3;
    const out = new Float32Array((at + frames) * 2);
    addInto(out, at, Buffer.from(pcm.buffer), 0.8, env, from);
    const want = reference(frames, at, pcm, 0.8, env, from);
    let worst = 0;
    for (let k = 0; k < out.length; k++) worst = Math.max(worst, Math.abs(out[k]! - want[k]!));
    // Float32 rounding of values up to 26,000 is ~0.002; a stray step would show far above it.
    assert.ok(worst < 0.005, `${JSON.stringify(env)} from ${from}: off by ${worst}`);
  }
});

test('mixing adds: what is in the buffer stays, the song is summed onto it', () => {
  const env: Envelope = { fadeInFrames: 100, fadeOutStart: 150, fadeOutFrames: 100 };
  const pcm = new Int16Array(400).fill(1000);
  const out = new Float32Array(400).fill(5);
  addInto(out, 0, Buffer.from(pcm.buffer), 1, env, 0);
  assert.ok(Math.abs(out[0]! - (5 + 1000 * envelopeAt(env, 0))) < 1e-3);
  assert.ok(Math.abs(out[2 * 120]! - 1005) < 1e-3, 'between the fades: full level plus what was there');
  assert.ok(Math.abs(out[2 * 199]! - (5 + 1000 * envelopeAt(env, 199))) < 1e-3);
});
