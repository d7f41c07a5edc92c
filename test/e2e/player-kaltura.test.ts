// The Kaltura web player (npm @playkit-js/kaltura-player-js@3.17.78, its UMD bundle from
// node_modules) in headless Chromium, configured with provider.env.serviceUrl pointing at the
// server's /api_v3 and partner 309. The page is served from another origin, so every API call is
// a real cross-origin XHR (with preflight). It must play an open entry, report a block for an
// entry that needs a KS and play it with one, and stop a preview entry at 5 s.
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { servePlayerPage } from '../helpers/kaltura-player.js';
import { startServer } from '../helpers/server.js';

interface PageState {
  errors: string[];
  loadError: { code: number; category: number; data: { action?: { type: number }; messages?: { code: string; message: string }[] } } | null;
  events: string[];
  loaded: boolean;
  ended: boolean;
  maxTime: number;
}

t.test('Kaltura web player against kdeliver', async (t) => {
  const s = await startServer(t);
  const pageUrl = await servePlayerPage(t);
  const browser = await launchBrowser(t);

  const open = async (entryId: string, ks?: string, extra: Record<string, string> = {}) => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const log: string[] = [];
    const foreign: string[] = [];
    const requests: string[] = [];
    const api: Promise<string>[] = [];
    const headerKs: string[] = [];
    p.on('request', (r) => { requests.push(r.url()); const h = r.headers()['x-kaltura-ks']; if (h) headerKs.push(r.url()); });
    p.on('response', (r) => { if (r.url().startsWith(`${s.url}/api_v3/`) && r.request().method() !== 'OPTIONS') api.push(r.text().catch(() => '')); });
    p.on('console', (m) => log.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
    p.on('requestfailed', (r) => log.push(`request failed: ${r.url().slice(0, 200)} ${r.failure()?.errorText}`));
    p.on('response', (r) => { if (r.status() >= 400) log.push(`HTTP ${r.status()} ${r.url().slice(0, 200)}`); });
    // nothing may leave the machine: any other host is recorded and refused
    await p.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1') return route.continue();
      foreign.push(u.href);
      return route.abort();
    });
    const q = new URLSearchParams({ serviceUrl: `${s.url}/api_v3`, cdnUrl: s.url, partnerId: '309', entryId, ...(ks ? { ks } : {}), ...extra });
    await p.goto(`${pageUrl}?${q}`);
    t.teardown(() => ctx.close());
    return { p, log, foreign, requests, api, headerKs };
  };
  const state = (p: Page) => p.evaluate(() => (window as unknown as { __state: PageState }).__state);
  const waitFor = async (p: Page, cond: (st: PageState) => boolean, ms: number): Promise<PageState> => {
    const until = Date.now() + ms;
    let st = await state(p);
    while (!cond(st) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      st = await state(p);
    }
    return st;
  };
  const diag = (st: PageState, log: string[]) => ({ errors: st.errors, events: st.events.slice(-15), log: log.slice(-25) });

  await t.test('plays 1_rcit0qgs past 5 s with no error', async (t) => {
    const { p, log, foreign, requests } = await open('1_rcit0qgs');
    const st = await waitFor(p, (x) => x.maxTime > 5.2 || x.errors.length > 0, 40_000);
    t.same(st.errors, [], 'no player error', diag(st, log));
    t.ok(st.loaded, 'media loaded through api_v3');
    t.ok(st.maxTime > 5.2, `played past 5 s (reached ${st.maxTime.toFixed(2)} s)`, diag(st, log));
    t.same(foreign, [], 'no request left the machine');
    t.ok(requests.some((u) => u.startsWith(`${s.url}/api_v3/service/multirequest`)), 'the media load went through api_v3');
    t.ok(requests.some((u) => /\/playManifest\/entryId\/1_rcit0qgs\/protocol\/http\/format\/applehttp\/flavorIds\/[^/]+\/a\.m3u8/.test(u)), 'the player built its HLS playManifest URL from the sources');
    t.ok(requests.some((u) => u.startsWith(`${s.url}/hls/`)), 'and played HLS from the packager');
  });

  await t.test('1_kssecure: a block without a KS, playback with one', async (t) => {
    const { p, log } = await open('1_kssecure');
    const st = await waitFor(p, (x) => x.loadError !== null || x.maxTime > 1, 30_000);
    // the provider's BLOCK_ACTION: service category 2, code 2001, carrying the block action and the rule's message
    t.match(st.loadError, { category: 2, code: 2001, data: { action: { type: 1 }, messages: [{ code: 'SESSION_RESTRICTED' }] } }, 'loadMedia fails with BLOCK_ACTION', diag(st, log));
    t.equal(st.maxTime, 0, 'nothing played');

    // a USER session from session.start with the user secret, allowed to view this one entry
    const ks = await (await fetch(`${s.url}/api_v3/service/session/action/start`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 1, secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer', privileges: 'sview:1_kssecure' }),
    })).json();
    t.type(ks, 'string', 'session.start issued a KS');
    const withKs = await open('1_kssecure', ks);
    const st2 = await waitFor(withKs.p, (x) => x.maxTime > 3 || x.errors.length > 0, 40_000);
    t.same(st2.errors, [], 'no error with a KS that has sview:1_kssecure', diag(st2, withKs.log));
    t.ok(st2.maxTime > 3, `plays with the KS (reached ${st2.maxTime.toFixed(2)} s)`, diag(st2, withKs.log));
  });

  await t.test('encrypted entries play with a KS: the HLS source, AES-128, its key from kdeliver', async (t) => {
    for (const entryId of ['1_aeshls01', '1_cenc0001']) {
      const ks = await (await fetch(`${s.url}/api_v3/service/session/action/start`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ format: 1, secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer', privileges: `sview:${entryId}` }),
      })).json();
      const { p, log, requests, api } = await open(entryId, ks);
      const st = await waitFor(p, (x) => x.maxTime > 3 || x.errors.length > 0, 40_000);
      if (entryId === '1_cenc0001') {
        // the playback context the player was given lists the DASH source's DRM data and its licence URL
        const found: any[] = [];
        const walk = (v: unknown): void => {
          if (Array.isArray(v)) v.forEach(walk);
          else if (v && typeof v === 'object') {
            if ((v as { objectType?: string }).objectType === 'KalturaPlaybackContext') found.push(v);
            else Object.values(v).forEach(walk);
          }
        };
        for (const body of await Promise.all(api)) { try { walk(JSON.parse(body)); } catch { /* not JSON */ } }
        const dash = found[0]?.sources?.find((x: { format: string }) => x.format === 'mpegdash');
        t.match(dash?.drm, [{ scheme: 'kdeliver.CLEAR_KEY', licenseURL: /\/p\/309\/sp\/30900\/clearKeyLicense\/entryId\/1_cenc0001\/ks\/.+\/license$/ }], '1_cenc0001: the player\'s playback context lists the DRM data and its licence URL');
      }
      t.same(st.errors, [], `${entryId}: no player error`, diag(st, log));
      t.ok(st.maxTime > 3, `${entryId}: plays (reached ${st.maxTime.toFixed(2)} s)`, diag(st, log));
      t.ok(requests.some((u) => u.startsWith(`${s.url}/hls/`) && u.endsWith('/encryption.key')), `${entryId}: the key came from the key URI`);
      t.notOk(log.some((l) => /HTTP 403 .*encryption\.key/.test(l)), `${entryId}: the key was not refused`);
    }
  });

  await t.test('1_preview1 stops at 5 s', async (t) => {
    const { p, log } = await open('1_preview1');
    const st = await waitFor(p, (x) => x.ended || x.errors.length > 0, 40_000);
    t.same(st.errors, [], 'no player error', diag(st, log));
    t.ok(st.ended, 'playback ended', diag(st, log));
    t.ok(st.maxTime >= 4.5 && st.maxTime <= 5.6, `ended at the 5 s preview (${st.maxTime.toFixed(2)} s of a 12 s entry)`, diag(st, log));
    const duration = await p.evaluate(() => (window as unknown as { __player: { duration: number } }).__player.duration);
    t.ok(duration <= 5.6, `the player sees a ${duration.toFixed(2)} s media`);
  });
  await t.test('each refusal reaches the player as the error it maps Kaltura\'s answer to', async (t) => {
    // [entry, the provider's code, what the error carries]: BLOCK_ACTION (2001) with the rule's
    // message code, MEDIA_STATUS_NOT_READY (2002) from the entry's status, DELETED_ENTRY (2004)
    const cases: [string, number, object][] = [
      ['1_siteonly', 2001, { action: { type: 1 }, messages: [{ code: 'SITE_RESTRICTED' }] }],
      ['1_iponly00', 2001, { action: { type: 1 }, messages: [{ code: 'IP_RESTRICTED' }] }],
      ['1_sched000', 2001, { messages: [{ code: 'SCHEDULED_RESTRICTED' }] }],
      ['1_moderat0', 2001, { messages: [{ code: 'ENTRY_MODERATION_ERROR' }] }],
      ['1_convert0', 2002, {}],
      ['1_deleted0', 2004, {}],
    ];
    for (const [entryId, code, data] of cases) {
      const { p, log } = await open(entryId);
      const st = await waitFor(p, (x) => x.loadError !== null || x.maxTime > 1, 30_000);
      t.match(st.loadError, { category: 2, code, data }, `${entryId}: loadMedia fails with code ${code}`, diag(st, log));
      t.equal(st.maxTime, 0, `${entryId}: nothing played`);
      t.notOk(log.some((l) => /request failed|HTTP 5\d\d/.test(l)), `${entryId}: no network failure`, diag(st, log));
    }
  });

  await t.test('loadMedia again: to 1_alt0audi, its captions and its second audio track, then to a refused entry', async (t) => {
    const { p, log } = await open('1_rcit0qgs');
    await waitFor(p, (x) => x.maxTime > 1 || x.errors.length > 0, 30_000);
    type W = { __player: any; __state: PageState & { change?: string } };
    await p.evaluate(() => { const w = window as unknown as W; w.__player.currentTime = 8; });
    let st = await waitFor(p, (x) => x.maxTime > 8.5 || x.errors.length > 0, 20_000);
    t.ok(st.maxTime > 8.5, `seeking to 8 s plays on (reached ${st.maxTime.toFixed(2)} s)`, diag(st, log));
    const change = (entryId: string) => p.evaluate((id) => new Promise<string>((resolve) => {
      const w = window as unknown as W;
      w.__player.loadMedia({ entryId: id }).then(() => resolve('loaded'), (e: { code: number }) => resolve(`error ${e.code}`));
    }), entryId);
    t.equal(await change('1_alt0audi'), 'loaded', 'the second loadMedia loads 1_alt0audi');
    const tracks = async (kind: string) => p.evaluate((k) => (window as unknown as W).__player.getTracks(k).map((x: { language: string; active: boolean }) => `${x.language}${x.active ? '*' : ''}`), kind);
    let audio: string[] = [];
    const until = Date.now() + 15_000;
    while (Date.now() < until && (audio = await tracks('audio')).length < 2) await new Promise((r) => setTimeout(r, 250));
    t.same(audio, ['en*', 'es'], 'two audio tracks, English active');
    t.same(await tracks('text'), ['en', 'es', 'off*'], 'two caption tracks and off');
    await p.evaluate(() => {
      const pl = (window as unknown as W).__player;
      pl.selectTrack(pl.getTracks('text').find((x: { language: string }) => x.language === 'es'));
      pl.selectTrack(pl.getTracks('audio').find((x: { language: string }) => x.language === 'es'));
    });
    const until2 = Date.now() + 15_000;
    let cues = 0;
    while (Date.now() < until2 && !cues) {
      cues = await p.evaluate(() => Array.from(document.querySelector('video')!.textTracks).filter((x) => x.language === 'es').reduce((n, x) => n + (x.cues?.length ?? 0), 0));
      await new Promise((r) => setTimeout(r, 250));
    }
    t.ok(cues > 0, `the Spanish captions were fetched and parsed (${cues} cues)`, diag(await state(p), log));
    t.same(await tracks('audio'), ['en', 'es*'], 'the Spanish audio track is active');
    const refused = await change('1_kssecure');
    t.equal(refused, 'error 2001', 'a third loadMedia to an entry that needs a KS fails with BLOCK_ACTION');
    st = await state(p);
    t.notOk(log.some((l) => /request failed(?!.*ERR_ABORTED)|HTTP [45]\d\d/.test(l)), 'no request failed (but those the player aborted itself when changing media) or was answered 4xx/5xx', diag(st, log));
  });
  await t.test('provider.useHeaderForKs: the KS goes as X-Kaltura-Ks, cross-origin, and 1_kssecure plays', async (t) => {
    const ks = await (await fetch(`${s.url}/api_v3/service/session/action/start`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 1, secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer', privileges: 'sview:1_kssecure' }),
    })).json();
    const { p, log, requests, headerKs } = await open('1_kssecure', ks, { useHeaderForKs: '1' });
    const st = await waitFor(p, (x) => x.maxTime > 2 || x.errors.length > 0, 40_000);
    t.same(st.errors, [], 'no player error', diag(st, log));
    t.ok(st.maxTime > 2, `plays (reached ${st.maxTime.toFixed(2)} s)`, diag(st, log));
    t.ok(headerKs.some((u) => u.includes('/playManifest/entryId/1_kssecure/')), 'the playManifest request carried the KS in X-Kaltura-Ks');
    t.notOk(requests.some((u) => u.includes('/playManifest/') && u.includes('/ks/')), 'and not in its URL');
  });
});
