/**
 * Every rendition in the players people use: mpv, VLC, ffplay and Chromium,
 * each tuned in to each format's mount on Icecast and on the built-in
 * output, as a listener would. What the player decoded is analysed where it
 * can be captured (mpv's and VLC's audio file outputs, Chromium's Web Audio
 * analyser), and the titles are the ones the player itself reports.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startIcecast } from '../helpers/icecast.js';
import { frequencyTrack, makeTone, steadyToneWindows } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const MOUNTS = ['/p.mp3', '/p.aac', '/p.opus'] as const;
const TITLES = ['歌手 - 第一', 'Second'];
/** Seconds each player listens: two seams of 4 s songs whatever the phase. */
const LISTEN_S = 11;

interface Run {
  code: number | null;
  out: string;
}

/**
 * Played in the page as a listener's <audio> would, through a Web Audio
 * analyser: the loudest frequency every 100 ms of playback until the
 * element's own clock reaches `seconds`. Plain JavaScript (the test runner's
 * transpiler would add helpers the page does not have).
 */
const LISTEN_IN_PAGE = `async (src, seconds) => {
  const a = new Audio(src);
  a.crossOrigin = 'anonymous';
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 4096;
  ctx.createMediaElementSource(a).connect(analyser);
  await a.play();
  const bins = new Float32Array(analyser.frequencyBinCount);
  const peaks = [];
  await new Promise((resolve) => {
    function look() {
      analyser.getFloatFrequencyData(bins);
      let best = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
      peaks.push((best * ctx.sampleRate) / analyser.fftSize);
      if (a.currentTime >= seconds || a.error) resolve();
      else setTimeout(look, 100);
    }
    look();
  });
  const out = { played: a.currentTime, error: a.error ? a.error.message : null, peaks };
  a.pause();
  await ctx.close();
  return out;
}`;

/** Run a player until it exits, or until `enough` says what it printed is enough (then it is stopped: SIGTERM). */
function runFor(cmd: string, args: string[], env: Record<string, string> = {}, enough?: (out: string) => boolean): Promise<Run> {
  return new Promise((resolve) => {
    let out = '';
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: (LISTEN_S + 30) * 1000, maxBuffer: 32 * 1024 * 1024 }, (err) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: out.replace(/\r/g, '\n') });
    });
    const take = (d: Buffer | string): void => {
      out += String(d);
      if (enough?.(out.replace(/\r/g, '\n'))) child.kill('SIGTERM');
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  });
}

/**
 * Seconds ffplay has played, from its status lines' clock. A chained Ogg
 * stream starts its clock again at each new stream: those runs are added.
 * (ffplay's -t never ends a live stream: it is stopped once this is enough.)
 */
function ffplayPlayed(out: string): number {
  let base = 0;
  let last = 0;
  for (const m of out.matchAll(/^\s*(-?\d+\.\d+) M-A/gm)) {
    const v = Number(m[1]);
    if (v < last - 0.5) base += last;
    last = v;
  }
  return base + last;
}

/** A WAV a player wrote, as 44.1 kHz mono s16 (ffmpeg converts whatever it holds). */
function wavPcm(file: string): Promise<Int16Array> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      ['-v', 'error', '-i', file, '-ac', '1', '-ar', '44100', '-f', 's16le', '-'],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (err, out) => (err ? reject(err) : resolve(new Int16Array(out.buffer, out.byteOffset, out.length / 2))),
    );
  });
}

async function bothTones(file: string): Promise<[number, number]> {
  const track = frequencyTrack(await wavPcm(file));
  return [steadyToneWindows(track, 440), steadyToneWindows(track, 1000)];
}

/**
 * The songs a player named ('A', 'B'), from the titles it printed. mpv
 * lists an Ogg stream's titles so far joined by ';', and may print only
 * the first and the latest list: every entry counts.
 */
function titlesIn(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)]
    .flatMap((m) => m[1]!.split(';').map((t) => t.trim()))
    .map((t) => (t === TITLES[0] || t === '第一' ? 'A' : t === TITLES[1] ? 'B' : ''))
    .filter(Boolean);
}

describe('renditions in mpv, VLC, ffplay and Chromium', { timeout: 300_000 }, () => {
  test('every player plays every format from Icecast and the built-in output, both songs heard, titles shown', async () => {
    const dir = tempDir('players');
    chmodSync(dir, 0o777);
    await makeTone({ file: path.join(dir, 'a.mp3'), freq: 440, seconds: 4, args: ['-c:a', 'libmp3lame'], title: '第一', artist: '歌手' });
    await makeTone({ file: path.join(dir, 'b.mp3'), freq: 1000, seconds: 4, args: ['-c:a', 'libmp3lame'], title: 'Second' });
    writePlaylist(dir, 'p', {
      name: 'Players',
      mount: '/p.mp3',
      loudness: false,
      renditions: [
        { codec: 'aac', bitrate: 64, mount: '/p.aac' },
        { codec: 'opus', bitrate: 64, mount: '/p.opus' },
      ],
      tracks: [
        { source: 'file', path: 'a.mp3' },
        { source: 'file', path: 'b.mp3' },
      ],
    });
    const ice = await startIcecast();
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl });
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'],
    });
    const table: string[] = [];
    try {
      await station.logs.when('three sources on air', () => (new Set(station.logs.find(/^on air$/).map((l) => l.mount)).size >= 3 ? true : undefined), 20_000);
      const page = await browser.newPage();
      await page.goto(`${station.url}/api/channels`);
      // VLC refuses to run as root: it runs as nobody, with a home of its own.
      const vlcHome = path.join(dir, 'vlc-home');
      mkdirSync(vlcHome, { mode: 0o777 });
      for (const [where, base] of [
        ['Icecast', ice.url],
        ['built in', station.url],
      ] as const) {
        await Promise.all(
          MOUNTS.map(async (mount) => {
            const url = `${base}${mount}`;
            const tag = `${where.replace(' ', '-')}${mount.replace('/', '-')}`;
            const mpvWav = path.join(dir, `mpv${tag}.wav`);
            const vlcWav = path.join(dir, `vlc${tag}.wav`);
            const [mpv, mpvShown, vlc, ffplay, browserResult] = await Promise.all([
              // Decoding to a file mpv runs ahead of real time and coalesces title updates: a second mpv plays in time for them.
              runFor('mpv', ['--no-config', '--no-video', '--ao=pcm', `--ao-pcm-file=${mpvWav}`, '--ao-pcm-waveheader=yes', `--length=${LISTEN_S}`, url]),
              runFor('mpv', ['--no-config', '--no-video', '--ao=null', `--length=${LISTEN_S}`, url]),
              runFor('runuser', [
                '-u',
                'nobody',
                '--',
                'env',
                `HOME=${vlcHome}`,
                'cvlc',
                '-I',
                'dummy',
                '--play-and-exit',
                `--run-time=${LISTEN_S}`,
                '--aout=afile',
                `--audiofile-file=${vlcWav}`,
                '-vv',
                url,
              ]),
              runFor('ffplay', ['-nodisp', '-loglevel', 'verbose', '-stats', url], { SDL_AUDIODRIVER: 'dummy' }, (out) => ffplayPlayed(out) >= LISTEN_S),
              page.evaluate(`(${LISTEN_IN_PAGE})(${JSON.stringify(url)}, ${LISTEN_S - 2})`) as Promise<{
                played: number;
                error: string | null;
                peaks: number[];
              }>,
            ]);
            const label = `${where} ${mount}`;
            // mpv: the file tags it prints are the titles it shows.
            const [mpv440, mpv1000] = await bothTones(mpvWav);
            const mpvTitles = titlesIn(mpvShown.out, /(?:icy-title|Title): ([^\n]+)/g);
            assert.equal(mpv.code, 0, `${label} mpv: ${mpv.out.slice(-400)}`);
            assert.ok(mpv440 > 20 && mpv1000 > 20, `${label} mpv decoded both songs (${mpv440}, ${mpv1000} windows)`);
            assert.ok(
              new Set(mpvTitles).size === 2,
              `${label} mpv showed both titles: ${JSON.stringify(mpvTitles)} ${mpvShown.out
                .replace(/\x1b\[K/g, '')
                .replace(/^A:.*\n/gm, '')
                .replace(/\n\s*\n/g, '\n')
                .slice(-800)}`,
            );
            // VLC: an Ogg chain makes it open a new audio output (and a new file), so the file holds the last song at least.
            const vlcGroups = (vlc.out.match(/beginning of a group of logical streams/g) ?? []).length;
            const vlcTitles = titlesIn(vlc.out, /New Icy-Title=([^\n]+)/g);
            const [vlc440, vlc1000] = await bothTones(vlcWav);
            assert.ok(!/main decoder error|cannot decode|no suitable decoder/i.test(vlc.out), `${label} VLC decoded without errors`);
            if (mount.endsWith('.opus')) {
              assert.ok(vlcGroups >= 2, `${label} VLC followed the chained streams (${vlcGroups})`);
              assert.ok(vlc440 + vlc1000 > 20, `${label} VLC decoded audio after a chain (${vlc440}, ${vlc1000})`);
            } else {
              assert.ok(vlc440 > 20 && vlc1000 > 20, `${label} VLC decoded both songs (${vlc440}, ${vlc1000})`);
            }
            // Icecast sends no ICY blocks on an Ogg mount: the titles are in the chained streams there.
            if (!(mount.endsWith('.opus') && where === 'Icecast')) assert.ok(new Set(vlcTitles).size === 2, `${label} VLC titles ${JSON.stringify(vlcTitles)}`);
            // ffplay: plays to the end, on the right codec; the ICY updates it reports.
            const ffTitles = titlesIn(ffplay.out, /Metadata update for StreamTitle: ([^\n]+)/g);
            const codec = /Stream #0:0: Audio: (\w+)/.exec(ffplay.out)?.[1];
            // 123: ffplay's exit on the SIGTERM that stopped it.
            assert.ok(ffplay.code === 123 && ffplayPlayed(ffplay.out) >= LISTEN_S, `${label} ffplay played on: ${ffplay.out.slice(-400)}`);
            assert.equal(codec, { '.mp3': 'mp3', '.aac': 'aac', '.opus': 'opus' }[path.extname(mount)], `${label} ffplay codec`);
            assert.ok(
              !/Invalid data|Error while decoding|error/i.test(ffplay.out.replace(/--[\w-]*error[\w-]*/g, '')),
              `${label} ffplay decoded without errors`,
            );
            if (!(mount.endsWith('.opus') && where === 'Icecast'))
              assert.ok(new Set(ffTitles).size === 2, `${label} ffplay titles ${JSON.stringify(ffTitles)}`);
            // Chromium: the element played on, and the analyser heard both tones.
            const heard = (hz: number) => browserResult.peaks.filter((p) => Math.abs(p - hz) < 30).length;
            assert.equal(browserResult.error, null, `${label} Chromium error`);
            assert.ok(browserResult.played >= LISTEN_S - 2, `${label} Chromium played ${browserResult.played} s`);
            assert.ok(heard(440) > 5 && heard(1000) > 5, `${label} Chromium heard both (${heard(440)}, ${heard(1000)})`);
            table.push(
              `${label}: mpv ${mpv440}/${mpv1000} windows, titles ${mpvTitles.length}; VLC ${vlc440}/${vlc1000}, ICY titles ${vlcTitles.length}, Ogg streams ${vlcGroups}; ffplay ${codec} ${ffplayPlayed(ffplay.out).toFixed(1)} s, titles ${ffTitles.length}; Chromium ${browserResult.played.toFixed(1)} s, 440 Hz ${heard(440)}, 1000 Hz ${heard(1000)}`,
            );
          }),
        );
      }
      console.log(`# players\n# ${table.join('\n# ')}`);
    } finally {
      await browser.close();
      await station.close();
      await ice.stop();
    }
  });
});
