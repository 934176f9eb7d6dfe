/// <reference lib="dom" />
/**
 * The player page in the real Chromium the suite installs: what it shows,
 * how it is used (keyboard, phone width, Chinese and very long titles, no
 * art), and when its title changes: as its own audio element plays the
 * seam, measured against the tone the page's audio turns to.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { makeImage, makeTone } from '../helpers/media.js';
import { ffmpegDj } from '../helpers/source-client.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const LONG = 'An Extremely Long Song Title That Goes On And On Past Any Reasonable Width (Extended Twelve-Inch Remix, Remastered 2026)';

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    timeout: 60_000,
    // The page is opened as a phone on the LAN would: at a name that is not localhost.
    args: [
      '--host-resolver-rules=MAP radio.test 127.0.0.1',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  console.log(`# screenshot: ${file}`);
}

describe('the player page in a real browser (Debian chromium)', { timeout: 180_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let browser: Browser;
  let at: string;

  before(async () => {
    const dir = tempDir('page');
    // Three tones, one per song, so the page's own audio tells which song it plays.
    const tones = [
      ['a.m4a', 440],
      ['b.m4a', 880],
      ['c.m4a', 660],
    ] as const;
    for (const [file, freq] of tones) await makeTone({ file: path.join(dir, file), freq, seconds: 5, args: ['-c:a', 'aac'] });
    // One song with cover art (a playlist `art` picture); the others show the station default.
    await makeImage(path.join(dir, 'morning.png'), 640, 640, 'testsrc2');
    writePlaylist(dir, 'web', {
      name: 'Web Radio',
      description: 'Tones for the page test',
      genre: 'Test',
      mount: '/web.mp3',
      requests: { songMinutes: 0, artistMinutes: 0 },
      tracks: [
        { source: 'file', path: 'a.m4a', title: 'Morning Tone', artist: 'Page Test', album: 'Tests', art: 'morning.png' },
        { source: 'file', path: 'b.m4a', title: '晚上的歌', artist: '测试歌手' },
        { source: 'file', path: 'c.m4a', title: LONG, artist: 'Somebody With A Very Long Name Indeed And Then Some More' },
      ],
    });
    writePlaylist(dir, 'talk', { name: '新闻 Talk', mount: '/talk.mp3', tracks: [{ source: 'file', path: 'a.m4a', title: 'Talk Tone' }] });
    const djs = path.join(tempDir('page-djs'), 'djs.json');
    await writeDjFile(djs, { djs: [{ user: 'dana', channels: ['web'], hash: await hashPassword('dana-page-test-pw'), timezone: 'UTC' }] });
    station = await runStation({ PLAYLISTS_DIR: dir, DJS_FILE: djs });
    browser = await launch();
    at = `http://radio.test:${new URL(station.url).port}`;
  });

  after(async () => {
    await browser?.close();
    await station?.close();
  });

  test('every channel, the chosen one in full; play from the host the page came from; volume kept; keyboard; phone width', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${at}/web`);
    await page.locator('#channels button[data-channel="talk"]').waitFor();
    // What a first visit costs: the page is one document, the art one small SVG, the rest JSON and the feed.
    const figures = await page.evaluate(() => {
      const paint = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      return { fcp: paint?.startTime ?? null, doc: nav.encodedBodySize, other: res.reduce((n, r) => n + r.encodedBodySize, 0), requests: res.length };
    });
    console.log(
      `# first visit: first contentful paint ${Math.round(figures.fcp ?? -1)} ms; document ${figures.doc} B; ${figures.requests} other requests, ${figures.other} B`,
    );
    assert.ok(figures.fcp !== null && figures.fcp < 3000, `first paint within 3 s even on a busy CI machine (${figures.fcp} ms)`);
    assert.ok(figures.doc < 40_000, `the page is small (${figures.doc} B)`);
    assert.equal(await page.locator('#channels button[data-channel="web"]').getAttribute('aria-current'), 'true', '/web opens that channel');
    await page.waitForFunction(() => document.querySelector('#p-history li time') !== null, null, { timeout: 20_000 });
    assert.equal(await page.locator('#p-channel').textContent(), 'Web Radio');
    assert.match((await page.locator('#p-title').textContent()) ?? '', /Morning Tone|晚上的歌|Extremely Long/);
    // The song's own picture at the size the player needs (300 px, 600 for a 2x screen), or the station default.
    const shownArt = await page.evaluate(() => {
      const img = document.getElementById('p-art') as HTMLImageElement;
      return { title: document.getElementById('p-title')!.textContent, src: img.getAttribute('src'), srcset: img.srcset };
    });
    if (shownArt.title === 'Morning Tone') {
      assert.match(shownArt.src ?? '', /^\/art\/[0-9a-f]{24}-300\.jpg$/);
      assert.equal(shownArt.srcset, `${shownArt.src!.replace('-300.jpg', '.jpg')} 2x`);
    } else assert.equal(shownArt.src, '/art/default.svg', `no art: the station default (${shownArt.title})`);
    const thumbs = await page.locator('#p-history img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).getAttribute('src')));
    assert.ok(thumbs.length > 0 && thumbs.every((t) => t === '/art/default.svg' || /^\/art\/[0-9a-f]{24}-96\.jpg$/.test(t ?? '')), thumbs.join(' '));
    assert.equal(await page.locator('#p-share').inputValue(), `${at}/web`);
    const links = await page.locator('#p-links a').evaluateAll((as) => as.map((a) => [a.textContent, (a as HTMLAnchorElement).href]));
    assert.deepEqual(links.slice(0, 4), [
      ['M3U', `${at}/web.mp3.m3u`],
      ['PLS', `${at}/web.mp3.pls`],
      ['XSPF', `${at}/web.mp3.xspf`],
      ['Direct', `${at}/web.mp3`],
    ]);
    const m3u = await page.evaluate(async (u) => (await fetch(u)).text(), `${at}/web.mp3.m3u`);
    assert.match(m3u, new RegExp(`^#EXTM3U\\n#EXTINF:-1,Web Radio\\n${at}/web\\.mp3\\n$`));

    // Keyboard: Tab reaches the play button, which says what it does; Enter plays.
    await page.locator('#p-volume').focus();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'p-play');
    assert.equal(await page.getByRole('button', { name: 'Play' }).count(), 1);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.getElementById('audio') as HTMLAudioElement).currentTime > 1.0, null, { timeout: 15_000 });
    const src = await page.locator('#audio').evaluate((a: HTMLAudioElement) => a.src);
    assert.match(src, new RegExp(`^${at}/web\\.mp3\\?sid=[A-Za-z0-9_-]{24}$`), 'plays from the host the page came from, with its session id');
    assert.equal(await page.locator('#p-play').getAttribute('aria-pressed'), 'true');
    await page.locator('#p-volume').fill('35');
    assert.equal(await page.locator('#audio').evaluate((a: HTMLAudioElement) => a.volume), 0.35);
    // The song with art, as heard: its picture loaded, 300 px wide (600 on a 2x screen).
    await page.waitForFunction(() => document.getElementById('p-title')!.textContent === 'Morning Tone', null, { timeout: 30_000 });
    await page.waitForFunction(() => {
      const img = document.getElementById('p-art') as HTMLImageElement;
      return /-300\.jpg$/.test(img.getAttribute('src') ?? '') && img.complete && img.naturalWidth > 0;
    });
    assert.equal(await page.locator('#p-art').evaluate((i: HTMLImageElement) => i.naturalWidth), 300);
    assert.equal(await page.locator('#p-request').isVisible(), false, 'no request was made: no request badge');
    assert.equal(await page.locator('#p-dj').isVisible(), false, 'no live show: no DJ line');
    await page.locator('#p-volume').focus();
    await shot(page, 'page-desktop.png');

    // Switching channel by keyboard stops the player; the volume is kept across visits.
    await page.locator('#channels button[data-channel="talk"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.pathname === '/talk' && document.getElementById('p-channel')?.textContent === '新闻 Talk');
    assert.equal(await page.locator('#audio').evaluate((a: HTMLAudioElement) => a.paused), true);
    await page.reload();
    await page.locator('#p-volume').waitFor();
    assert.equal(await page.locator('#p-volume').inputValue(), '35', 'volume kept across visits');
    await context.close();

    // A phone: one column, nothing wider than the screen, even the long title.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await small.goto(`${at}/web`);
    await small.waitForFunction((long) => document.getElementById('p-title')?.textContent === long, LONG, { timeout: 30_000 });
    const widest = await small.evaluate(() => Math.max(...Array.from(document.querySelectorAll('body *')).map((e) => e.getBoundingClientRect().right)));
    assert.ok(widest <= 390.5, `nothing past the phone's width (${widest} px)`);
    await shot(small, 'page-phone.png');
    await phone.close();
  });

  test('titles change as the page hears each seam, not when the server sends it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${at}/web`);
    await page.locator('#p-play').waitFor();
    // The page's own audio, analysed as it plays: the tone's frequency tells which song is heard.
    await page.evaluate(() => {
      const w = window as unknown as { scastTest: Record<string, unknown> };
      w.scastTest = {};
      const audio = document.getElementById('audio') as HTMLAudioElement;
      audio.crossOrigin = 'anonymous';
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaElementSource(audio).connect(analyser);
      analyser.connect(ctx.destination);
      const bins = new Float32Array(analyser.frequencyBinCount);
      const heard: { at: number; freq: number }[] = [];
      const titles: { at: number; title: string }[] = [];
      const sent: { at: number; title: string }[] = [];
      // A live show's tone (1200 Hz) is heard from its first audible moment: the takeover fades it in.
      const live: { at: number }[] = [];
      const liveBin = Math.round((1200 * analyser.fftSize) / ctx.sampleRate);
      w.scastTest = { heard, titles, sent, live };
      let last = 0;
      setInterval(() => {
        analyser.getFloatFrequencyData(bins);
        if (live.length === 0 && bins[liveBin]! > -75) live.push({ at: performance.now() });
        let best = 0;
        for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[best]!) best = i;
        if (bins[best]! < -60) return;
        const hz = (best * ctx.sampleRate) / analyser.fftSize;
        const freq = [440, 660, 880, 1200].reduce((a, b) => (Math.abs(b - hz) < Math.abs(a - hz) ? b : a));
        if (freq !== last) heard.push({ at: performance.now(), freq });
        last = freq;
      }, 5);
      const title = document.getElementById('p-title')!;
      new MutationObserver(() => titles.push({ at: performance.now(), title: title.textContent ?? '' })).observe(title, {
        childList: true,
        characterData: true,
        subtree: true,
      });
      // The channel list shows the server's title as it arrives: what a page without the fix would show.
      const list = document.getElementById('channels')!;
      new MutationObserver(() => {
        const s = list.querySelector('button[data-channel="web"] .s')?.textContent ?? '';
        if (sent.at(-1)?.title !== s) sent.push({ at: performance.now(), title: s });
      }).observe(list, { childList: true, subtree: true, characterData: true });
    });
    await page.locator('#p-play').click();
    // Five seams heard: 440 -> 880 -> 660 -> 440 ...
    await page.waitForFunction(() => (window as unknown as { scastTest: { heard: unknown[] } }).scastTest.heard.length >= 6, null, { timeout: 60_000 });
    const r = await page.evaluate(() => {
      const w = window as unknown as {
        scastTest: { heard: { at: number; freq: number }[]; titles: { at: number; title: string }[]; sent: { at: number; title: string }[] };
      };
      return w.scastTest;
    });
    const { heard, titles, sent } = { heard: r.heard, titles: r.titles, sent: r.sent };
    const song: Record<number, RegExp> = { 440: /Morning Tone/, 880: /晚上的歌/, 660: /Extremely Long/ };
    // A DJ goes on air: the title (the show's name) and the DJ's name change as the show is first heard.
    const dj = ffmpegDj(`icecast://dana:dana-page-test-pw@127.0.0.1:${new URL(station.url).port}/web.mp3`, { freq: 1200, seconds: 12, name: 'Page Show' });
    try {
      await page.waitForFunction(() => (window as unknown as { scastTest: { live: unknown[] } }).scastTest.live.length > 0, null, { timeout: 20_000 });
      await page.waitForFunction(() => document.getElementById('p-title')?.textContent === 'Page Show', null, { timeout: 5_000 });
      await page.waitForFunction(() => (window as unknown as { scastTest: { heard: { freq: number }[] } }).scastTest.heard.some((h) => h.freq === 1200), null, {
        timeout: 5_000,
      });
      assert.equal(await page.locator('#p-dj').textContent(), 'Live: dana');
      assert.equal(await page.locator('#p-badge').textContent(), 'live');
      await shot(page, 'page-live.png');
    } finally {
      dj.kill();
    }
    const l = await page.evaluate(() => {
      const w = window as unknown as { scastTest: { live: { at: number }[]; titles: { at: number; title: string }[] } };
      const w2 = w as unknown as { scastTest: { heard: { at: number; freq: number }[] } };
      return {
        live: w.scastTest.live[0]!.at,
        title: w.scastTest.titles.find((t) => t.title === 'Page Show')!.at,
        dominant: w2.scastTest.heard.find((h) => h.freq === 1200)?.at ?? null,
      };
    });
    const liveOffset = Math.round(l.title - l.live);
    const dominant = l.dominant === null ? 'not measured' : String(Math.round(l.title - l.dominant));
    console.log(
      `# live show: title minus the show's first audio in the page (ms): ${liveOffset}; minus the show dominating the 1 s takeover fade: ${dominant}`,
    );
    assert.ok(Math.abs(liveOffset) <= 300, `the show's title within 300 ms of its first audio heard (${liveOffset} ms)`);
    const offsets: number[] = [];
    const serverOffsets: number[] = [];
    // The first entry is playback starting, not a seam.
    for (const h of heard.slice(1).filter((x) => x.freq in song)) {
      const t = titles.find((x) => song[h.freq]!.test(x.title) && Math.abs(x.at - h.at) < 3000);
      assert.ok(
        t,
        `a title change for the ${h.freq} Hz song near its seam (titles: ${JSON.stringify(titles.map((x) => [Math.round(x.at - h.at), x.title.slice(0, 20)]))})`,
      );
      offsets.push(Math.round(t.at - h.at));
      const s = sent.filter((x) => song[h.freq]!.test(x.title) && x.at < h.at + 1000).at(-1);
      if (s) serverOffsets.push(Math.round(s.at - h.at));
    }
    console.log(`# title minus audible seam (ms), this page: ${offsets.join(', ')}; the server's title as sent: ${serverOffsets.join(', ')}`);
    for (const o of offsets) assert.ok(Math.abs(o) <= 300, `title within 300 ms of the seam heard (${offsets.join(', ')} ms)`);
    await context.close();
  });

  test("a listener's request, made on AzuraCast's routes, plays soon and is marked as one on the page and in the API", async () => {
    const found = (await (await fetch(`${station.url}/api/station/web/requests?searchPhrase=${encodeURIComponent('晚上')}`)).json()) as {
      request_id: string;
      request_url: string;
    }[];
    assert.equal(found.length, 1);
    const asked = await fetch(found[0]!.request_url.replace(/^http:\/\/[^/]+/, station.url), { method: 'POST' });
    assert.equal(asked.status, 200, await asked.clone().text());
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${at}/web`);
    await page.waitForFunction(() => !document.getElementById('p-request')!.hidden && document.getElementById('p-title')!.textContent === '晚上的歌', null, {
      timeout: 45_000,
    });
    const np = (await (await fetch(`${station.url}/api/nowplaying/web`)).json()) as { now_playing: { is_request: boolean; song: { title: string } } };
    assert.deepEqual([np.now_playing.song.title, np.now_playing.is_request], ['晚上的歌', true]);
    await page.waitForFunction(() => document.querySelector('#p-history li time') !== null, null, { timeout: 10_000 });
    await shot(page, 'page-request.png');
    await context.close();
  });
});
