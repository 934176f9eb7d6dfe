/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { makeTone } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

describe('the listening page in a real browser (Debian chromium)', { timeout: 120_000 }, () => {
  test('shows the current title, follows the next song, and its audio element plays from the host the page was opened at', async () => {
    const dir = tempDir('page');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 4, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'b.m4a'), freq: 660, seconds: 4, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'web', {
      name: 'Web Radio',
      mount: '/web.mp3',
      tracks: [
        { source: 'file', path: 'a.m4a', title: 'Morning Tone', artist: 'Page Test' },
        { source: 'file', path: 'b.m4a', title: '晚上的歌', artist: '测试' },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    let browser: Browser | null = null;
    try {
      browser = await chromium.launch({
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
      const page = await browser.newPage();
      page.setDefaultTimeout(20_000);
      const at = `http://radio.test:${new URL(station.url).port}`;
      await page.goto(`${at}/`);
      const card = page.locator('section.card[data-channel="web"]');
      await card.waitFor({ timeout: 10_000 });
      const title = card.locator('.title');
      await page.waitForFunction(() => /Morning Tone|晚上的歌/.test(document.querySelector('section.card .title')?.textContent ?? ''), null, {
        timeout: 10_000,
      });
      const first = await title.textContent();
      // The next song arrives over the WebSocket without a reload.
      await page.waitForFunction(
        (t) => {
          const now = document.querySelector('section.card .title')?.textContent;
          return now !== t && /Morning Tone|晚上的歌/.test(now ?? '');
        },
        first,
        { timeout: 15_000 },
      );
      const second = await title.textContent();
      assert.notEqual(second, first);
      assert.equal(await card.locator('.artist').textContent(), second === '晚上的歌' ? '测试' : 'Page Test');
      await card.locator('button').click();
      const src = await card.locator('audio').evaluate((a: HTMLAudioElement) => a.src);
      assert.ok(src.startsWith(`${at}/web.mp3`), `the play button plays from the host the page came from, never localhost: ${src}`);
      const t0 = await card.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime);
      await page.waitForFunction(() => (document.querySelector('section.card audio') as HTMLAudioElement).currentTime > 1.0, null, { timeout: 15_000 });
      const t1 = await card.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime);
      assert.ok(t1 > t0 + 1, `audio advanced from ${t0} to ${t1}`);
      const width = await card.locator('.bar > div').evaluate((d: HTMLElement) => parseFloat(d.style.width));
      assert.ok(width > 0 && width <= 100, `progress ${width}%`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'page.png') });
      console.log(`# screenshot: ${path.join(ARTIFACTS, 'page.png')}`);
    } finally {
      await browser?.close();
      await station.close();
    }
  });
});
