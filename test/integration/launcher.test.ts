import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { resolveFfmpegPath } from '../../src/ffmpeg/binaries.js';
import { ffmpegCommand } from '../../src/ffmpeg/command.js';
import { launchWhen, sharedLauncher } from '../../src/ffmpeg/launcher.js';
import { until } from '../helpers/ports.js';

const ffmpegPath = resolveFfmpegPath();
// A secret in the station's environment, before the launcher starts: neither it nor what it starts may see it.
const SECRET = 'launcher-test-secret-3f9c';
process.env.ICECAST_SOURCE_PASSWORD = SECRET;
// As a station past 32 channels asks for it (main.ts); the last test turns it off.
launchWhen(() => true);
const song = path.resolve(import.meta.dirname, '../../playlists/media/chime.ogg');
const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', song, '-f', 's16le', '-ac', '2', '-ar', '44100', 'pipe:1'];

/** Set when an ffmpeg this file started could read the secret from its environment. */
let secretSeen = false;

interface Run {
  bytes: Buffer;
  error: Error | null;
  stderr: string;
  pid: number | undefined;
  parent: number | undefined;
}

/** Decode `input` to PCM through ffmpegCommand, as the station's decoders do; `during` runs once ffmpeg has started. */
function decode(input: string, during?: (pid: number, command: ReturnType<typeof ffmpegCommand>) => void): Promise<Run> {
  return new Promise((resolve) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    let pid: number | undefined;
    let parent: number | undefined;
    const command = ffmpegCommand(ffmpegPath, { stdoutLines: 20 })
      .input(input)
      .noVideo()
      .audioChannels(2)
      .audioFrequency(44100)
      .format('s16le')
      .outputOptions(['-hide_banner', '-loglevel', 'error']);
    command.on('start', () => {
      pid = (command as unknown as { ffmpegProc: { pid: number } }).ffmpegProc.pid;
      parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      secretSeen ||= readFileSync(`/proc/${pid}/environ`, 'utf8').includes(SECRET);
      during?.(pid, command);
    });
    // The pipe's end and the process's may come in either order, as with any child process.
    const drained = new Promise((r) => out.once('end', r));
    const done = (error: Error | null, stderr = ''): void => resolve({ bytes: Buffer.concat(chunks), error, stderr, pid, parent });
    command.on('end', () => void drained.then(() => done(null)));
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => done(err, stderr ?? ''));
    command.pipe(out, { end: true });
  });
}

/** Running, not a zombie (a process whose launcher died is reaped by init, whenever that gets to it). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

describe('ffmpeg started by the launcher', () => {
  test('a decoder gets the bytes a directly spawned ffmpeg gives, from a process the launcher forked', async () => {
    const direct = spawnSync(ffmpegPath, args, { maxBuffer: 64 * 1024 * 1024 }).stdout;
    const run = await decode(song);
    assert.equal(run.error, null);
    assert.ok(direct.length > 100_000, `${direct.length} bytes decoded directly`);
    assert.ok(run.bytes.equals(direct), `${run.bytes.length} bytes through the launcher, ${direct.length} directly`);
    const launcher = sharedLauncher()!;
    assert.ok(launcher.pid && launcher.pid !== process.pid);
    assert.equal(run.parent, launcher.pid, "ffmpeg is the launcher's child, not the station's");
    assert.equal(secretSeen, false, "ffmpeg's environment holds the station's secret");
    assert.equal(launcher.running, 0, 'nothing left running');
    const environ = readFileSync(`/proc/${launcher.pid}/environ`, 'utf8');
    assert.match(environ, /PATH=/);
    assert.ok(!environ.includes(SECRET), "the launcher's environment holds the station's secret");
  });

  test("a process that writes at once and exits loses none of its output (ffmpeg's own format list, twenty times)", async () => {
    const direct = spawnSync(ffmpegPath, ['-hide_banner', '-formats']).stdout.toString();
    const pending = Array.from({ length: 20 }, () => {
      // A command of its own each time: fluent-ffmpeg caches what it learned, not what a new command asks.
      const command = ffmpegCommand(ffmpegPath);
      return new Promise<string>((resolve, reject) => {
        (command as unknown as { _spawnFfmpeg(a: string[], o: object, cb: (err: Error | null, out: { get(): string }) => void): void })._spawnFfmpeg(
          ['-hide_banner', '-formats'],
          { captureStdout: true, stdoutLines: 0 },
          (err, out) => (err ? reject(err) : resolve(out.get())),
        );
      });
    });
    // The station's main thread busy (as with 100 channels) while the twenty run: the launcher waits for its
    // handles' receipts while the processes write and exit. Not a wait for an event: the busy thread is the
    // condition under test, so it comes before the results are awaited (after, it tested nothing).
    const until = performance.now() + 500;
    while (performance.now() < until);
    const lists = await Promise.all(pending);
    const lines = (text: string): number => text.split('\n').filter((l) => l.trim()).length;
    assert.ok(lines(direct) > 100, `${lines(direct)} formats listed directly`);
    for (const list of lists) assert.equal(lines(list), lines(direct));
  });

  test("a bad file fails with ffmpeg's own words", async () => {
    const run = await decode('/nonexistent/song.m4a');
    assert.ok(run.error);
    assert.match(run.error.message + run.stderr, /No such file or directory/);
  });

  test('a kill stops it and is reported as one', async () => {
    const run = await decode(`${song}`, (_pid, command) => command.kill('SIGKILL'));
    assert.match(run.error?.message ?? '', /killed with signal SIGKILL/);
    assert.ok(!alive(run.pid!));
  });

  test('the launcher dying stops what it started, reports it killed, and the next decoder gets a new launcher', async () => {
    const first = sharedLauncher()!.pid!;
    // Slow input (read at real time) so the decoder is still running when its launcher goes.
    const run = await new Promise<Run>((resolve) => {
      const out = new PassThrough();
      let pid: number | undefined;
      const command = ffmpegCommand(ffmpegPath, { stdoutLines: 20 }).input(song).inputOptions(['-re']).format('s16le').outputOptions(['-loglevel', 'error']);
      command.on('start', () => {
        pid = (command as unknown as { ffmpegProc: { pid: number } }).ffmpegProc.pid;
        out.once('data', () => process.kill(first, 'SIGKILL'));
      });
      command.on('error', (err: Error) => resolve({ bytes: Buffer.alloc(0), error: err, stderr: '', pid, parent: undefined }));
      command.on('end', () => resolve({ bytes: Buffer.alloc(0), error: null, stderr: '', pid, parent: undefined }));
      command.pipe(out, { end: true });
      out.resume();
    });
    assert.match(run.error?.message ?? '', /killed with signal SIGKILL/, 'reported as a killed decoder');
    // Killed by the station as it heard of the launcher's end; no event tells another process's death, so it is watched for.
    await until('its ffmpeg gone with the launcher', () => (alive(run.pid!) ? undefined : true), 2000);
    const again = await decode(song);
    assert.equal(again.error, null);
    assert.ok(again.bytes.length > 100_000);
    assert.notEqual(sharedLauncher()!.pid, first, 'a new launcher');
    assert.equal(again.parent, sharedLauncher()!.pid);
  });

  test('a station that does not want it (32 channels or fewer) spawns ffmpeg itself', async () => {
    launchWhen(() => false);
    try {
      const run = await decode(song);
      assert.equal(run.error, null);
      assert.ok(run.bytes.length > 100_000);
      assert.equal(run.parent, process.pid);
    } finally {
      launchWhen(() => true);
    }
  });
});
