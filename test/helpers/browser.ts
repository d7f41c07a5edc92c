// Real players in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser), and a tiny static server of our own that serves a test page loading
// hls.js and dash.js from node_modules. The page is on its own origin, so the players fetch
// the server's manifests and segments cross-origin, as they do in production.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireCommands } from './system.js';
import { projectRoot } from './repo.js';

interface Tap {
  comment(...args: unknown[]): void;
  teardown(fn: () => unknown): void;
}

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];

/** One browser per test file; closed at teardown. */
export async function launchBrowser(t: Tap): Promise<Browser> {
  requireCommands(t, ['chromium'], 'chromium');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  t.teardown(() => browser.close());
  return browser;
}

const LIBS: Record<string, string> = {
  '/lib/hls.js': join(projectRoot, 'node_modules', 'hls.js', 'dist', 'hls.min.js'),
  '/lib/dash.js': join(projectRoot, 'node_modules', 'dashjs', 'dist', 'modern', 'umd', 'dash.all.min.js'),
  // dash.js 5 ships Smooth Streaming support as a separate bundle that adds dashjs.MssHandler
  // to the already loaded player; MediaPlayer picks it up when it is initialised
  '/lib/dash.mss.js': join(projectRoot, 'node_modules', 'dashjs', 'dist', 'modern', 'umd', 'dash.mss.min.js'),
  // not on the page by default: a test that wants Shaka Player adds it with page.addScriptTag
  '/lib/shaka.js': join(projectRoot, 'node_modules', 'shaka-player', 'dist', 'shaka-player.compiled.js'),
};

// The page keeps a log of what each player reported; the test side only polls `__state`.
const PLAYER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>kdeliver player test</title>
<script src="/lib/hls.js"></script>
<script src="/lib/dash.js"></script>
<script src="/lib/dash.mss.js"></script>
</head><body>
<video id="v" muted playsinline autoplay width="640" height="360"></video>
<script>
window.__state = { errors: [], events: [], started: false };
const video = document.getElementById('v');
const note = (what) => window.__state.events.push(Math.round(performance.now()) + ' ' + what);
const fail = (what) => { window.__state.errors.push(what); note('ERROR ' + what); };
video.addEventListener('error', () => fail('video element error ' + (video.error && (video.error.code + ' ' + video.error.message))));
for (const ev of ['loadedmetadata', 'playing', 'waiting', 'ended']) video.addEventListener(ev, () => note(ev + ' t=' + video.currentTime.toFixed(2)));
const BENIGN_HLS = new Set(['bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole']);
window.startPlayer = (kind, src, rate) => {
  window.__state.started = true;
  video.playbackRate = rate;
  video.addEventListener('loadedmetadata', () => { video.playbackRate = rate; video.play().catch((e) => fail('play() ' + e)); });
  if (kind === 'native') {
    // the media element's own demuxers (Chromium plays HLS itself): no MSE, no player library
    video.src = src;
  } else if (kind === 'hls') {
    if (!Hls.isSupported()) return fail('hls.js: MSE not supported');
    const hls = new Hls({ enableWorker: true, debug: false });
    window.__player = hls;
    hls.on(Hls.Events.ERROR, (_e, d) => {
      const what = 'hls.js ' + d.type + ' ' + d.details + (d.fatal ? ' fatal' : '') + (d.response ? ' HTTP ' + d.response.code : '') + (d.url ? ' ' + d.url : '') + (d.reason ? ' ' + d.reason : '') + (d.error ? ' ' + d.error : '');
      // hls.js reports its own recovered stalls (a busy 2-core machine, a gap of a few ms at the
      // start) as non-fatal "errors"; everything else fails the test
      if (!d.fatal && BENIGN_HLS.has(d.details)) note('recovered ' + what); else fail(what);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => note('manifest parsed, ' + d.levels.length + ' levels'));
    hls.loadSource(src);
    hls.attachMedia(video);
  } else {
    if (kind === 'mss' && typeof dashjs.MssHandler !== 'function') return fail('dash.js MSS handler not loaded');
    const player = dashjs.MediaPlayer().create();
    window.__player = player;
    player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
    const E = dashjs.MediaPlayer.events;
    player.on(E.ERROR, (e) => fail('dash.js ' + JSON.stringify(e.error || e).slice(0, 500)));
    if (E.PLAYBACK_ERROR) player.on(E.PLAYBACK_ERROR, (e) => fail('dash.js playback ' + JSON.stringify(e.error || e).slice(0, 500)));
    player.on(E.STREAM_INITIALIZED, () => note('stream initialized'));
    player.initialize(video, src, true);
  }
};
</script></body></html>`;

export interface PlayerPageServer {
  url: string;
  server: Server;
}

/** Serves the player page and the player libraries on a loopback port of its own. */
export async function startPlayerPageServer(t: Tap): Promise<PlayerPageServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/' || path === '/player.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PLAYER_PAGE);
      return;
    }
    const file = LIBS[path];
    if (file) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(readFileSync(file));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${port}/player.html`, server };
}

export interface PlayResult {
  /** true when currentTime reached the target */
  reached: boolean;
  currentTime: number;
  /** The picture as the browser shows it (videoWidth × videoHeight: a track's turn applied). */
  videoSize: [width: number, height: number];
  errors: string[];
  events: string[];
  console: string[];
  failedRequests: string[];
}

/** 'native': the URL set as the <video>'s src, played by the browser itself (Chromium's own HLS). */
export type PlayerKind = 'hls' | 'dash' | 'mss' | 'native';

/**
 * Opens the player page in a fresh page of `browser`, plays `src` with the chosen player and
 * waits until the video's currentTime passes `untilSec`, an error is reported, or the timeout.
 * Playback runs at `rate` (default 2) to keep the suite quick; it is still real playback.
 */
export async function playUntil(
  browser: Browser,
  pageUrl: string,
  kind: PlayerKind,
  src: string,
  opts: { untilSec?: number; rate?: number; timeoutMs?: number } = {},
): Promise<PlayResult> {
  const untilSec = opts.untilSec ?? 8;
  const rate = opts.rate ?? 2;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const page: Page = await browser.newPage();
  const consoleLines: string[] = [];
  const failedRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 400));
  });
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(pageUrl);
    // dash.js plays MSS through the same MediaPlayer once the MSS handler is loaded
    await page.evaluate(([k, s, r]) => (window as any).startPlayer(k, s, r), [kind, src, rate] as const);
    let reached = false;
    try {
      await page.waitForFunction(
        (until) => {
          const st = (window as any).__state;
          const v = document.getElementById('v') as HTMLVideoElement;
          return st.errors.length > 0 || v.currentTime >= until || v.ended;
        },
        untilSec,
        { timeout: timeoutMs, polling: 100 },
      );
    } catch {
      // timed out: reported through `reached` and the event log
    }
    const state = await page.evaluate(() => {
      const st = (window as any).__state;
      const v = document.getElementById('v') as HTMLVideoElement;
      return { currentTime: v.currentTime, videoSize: [v.videoWidth, v.videoHeight] as [number, number], errors: st.errors as string[], events: st.events as string[] };
    });
    reached = state.currentTime >= untilSec;
    return { reached, currentTime: state.currentTime, videoSize: state.videoSize, errors: state.errors, events: state.events, console: consoleLines, failedRequests };
  } finally {
    await page.close();
  }
}
