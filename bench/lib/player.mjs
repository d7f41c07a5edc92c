// What the Kaltura web player (npm @playkit-js/kaltura-player-js, the version in package.json)
// sends, for the benchmarks that model its traffic:
// - its media-load multirequest to api_v3 (session.startWidgetSession + baseEntry.list +
//   baseEntry.getPlaybackContext + metadata_metadata.list), and
// - the playManifest URLs it builds from the playback context: the path of its
//   play-source-url-builder (p/{pid}/sp/{pid}00/playManifest/entryId/../protocol/../format/..
//   [/flavorIds/..][/ks/..]/a.{ext}) and the query its addKalturaParams appends
//   (playSessionId={guid}:{guid}, referrer={base64 of the page URL}, clientTag=html5:v{version}).
// capturePlayer() records both from the real player in headless Chromium (the page of
// test/e2e/player-kaltura.test.ts), so the benchmarks can check that what they generate has the
// same form; multirequestFromSource() is the same request written from the player's source, used
// when Chromium is not available.
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { projectRoot, workDir } from './paths.mjs';
import { hasCommand } from './system.mjs';

const playerDir = join(projectRoot, 'node_modules', '@playkit-js', 'kaltura-player-js');
export const PLAYER_VERSION = JSON.parse(readFileSync(join(playerDir, 'package.json'), 'utf8')).version;
const BUNDLE = join(playerDir, 'dist', 'kaltura-ovp-player.js');
const PAGE = join(projectRoot, 'test', 'e2e', 'player-page', 'kaltura-player.html');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-sync', '--disable-quic', '--autoplay-policy=no-user-gesture-required'];

// The response profile the player's baseEntry.list asks for (its base-entry-service)
const ENTRY_FIELDS = 'id,referenceId,name,description,thumbnailUrl,dataUrl,duration,msDuration,flavorParamsIds,mediaType,type,tags,dvrStatus,externalSourceType,status,createdAt,updatedAt,endDate,plays,views,downloadUrl,creatorId,userId,rootEntryId,capabilities,adminTags';

/**
 * The media-load multirequest body as the player's source builds it: anonymous (a widget
 * session first, its KS passed on by tokens) or with the page's KS (no session request).
 */
export function multirequestFromSource({ partnerId, entryId, ks }) {
  const body = {};
  let n = 1;
  const k = ks ? ks : '{1:result:ks}';
  if (!ks) body[n++] = { service: 'session', action: 'startWidgetSession', widgetId: `_${partnerId}` };
  const list = n;
  body[n++] = { service: 'baseEntry', action: 'list', ks: k, filter: { redirectFromEntryId: entryId }, responseProfile: { type: 1, fields: ENTRY_FIELDS } };
  body[n++] = { service: 'baseEntry', action: 'getPlaybackContext', entryId: `{${list}:result:objects:0:id}`, ks: k, contextDataParams: { objectType: 'KalturaContextDataParams', flavorTags: 'all' } };
  body[n++] = { service: 'metadata_metadata', action: 'list', ks: k, filter: { objectType: 'KalturaMetadataFilter', objectIdEqual: `{${list}:result:objects:0:id}`, metadataObjectTypeEqual: '1' } };
  Object.assign(body, { apiVersion: '3.3.0', format: 1, ks: ks ?? '', clientTag: `html5:v${PLAYER_VERSION}`, partnerId });
  return body;
}

/** The playManifest path of the player's source builder (no origin, no query). */
export function manifestPath({ partnerId, entryId, format, flavorIds, ks }) {
  const ext = { applehttp: 'm3u8', mpegdash: 'mpd' }[format] ?? 'mp4';
  return `/p/${partnerId}/sp/${partnerId}00/playManifest/entryId/${entryId}/protocol/http/format/${format}`
    + (flavorIds ? `/flavorIds/${flavorIds}` : '') + (ks ? `/ks/${ks}` : '') + `/a.${ext}`;
}

/** A player session id: two GUIDs (the first per player, the second per media load). */
export const playSessionId = (playerGuid = randomUUID()) => `${playerGuid}:${randomUUID()}`;

/** The query the player appends to a playManifest URL (its addKalturaParams, in its order). */
export function kalturaParams({ sessionId, pageUrl, version = PLAYER_VERSION }) {
  return `?playSessionId=${sessionId}&referrer=${Buffer.from(pageUrl.slice(0, 1000), 'latin1').toString('base64')}&clientTag=html5:v${version}`;
}

/**
 * The sources the player would use for each entry: the flavorIds of the applehttp and mpegdash
 * sources of baseEntry.getPlaybackContext, asked through the player's own multirequest.
 */
export async function playbackSources(baseUrl, partnerId, entryIds, ks) {
  const out = {};
  for (const entryId of entryIds) {
    const res = await fetch(`${baseUrl}/api_v3/service/multirequest`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(multirequestFromSource({ partnerId, entryId, ks })),
    });
    const items = await res.json();
    const ctx = items.find((x) => x && x.objectType === 'KalturaPlaybackContext');
    if (!ctx) throw new Error(`getPlaybackContext of ${entryId} failed: ${JSON.stringify(items).slice(0, 400)}`);
    out[entryId] = {};
    for (const f of ['applehttp', 'mpegdash']) {
      const src = ctx.sources.find((s) => s.format === f);
      if (!src) throw new Error(`${entryId}: no ${f} source in its playback context`);
      out[entryId][f] = src.flavorIds;
    }
  }
  return out;
}

/**
 * Runs the real player in headless Chromium against `baseUrl` for each `{ entryId, ks }` and
 * records its api_v3 POSTs (URL, content type, body) and the playManifest URLs it asked for.
 * Each load is kept in bench/.work (per player version, entry and KS or not) and not run again;
 * `{ skip: reason }` when Chromium or playwright-core is missing.
 */
export async function capturePlayer(baseUrl, loads, { partnerId = 309 } = {}) {
  const cacheFile = (l) => join(workDir, 'player-capture', `${PLAYER_VERSION}-${l.entryId}-${l.ks ? 'ks' : 'anonymous'}.json`);
  const out = { playerVersion: PLAYER_VERSION, loads: [] };
  const missing = loads.filter((l) => !existsSync(cacheFile(l)));
  if (missing.length) {
    if (!hasCommand('chromium') && !existsSync(CHROMIUM)) return { skip: 'chromium is not installed (apt-get install -y chromium)' };
    if (!existsSync(BUNDLE)) return { skip: `the player bundle ${BUNDLE} is missing (npm ci)` };
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch {
      return { skip: 'playwright-core is not installed (npm ci)' };
    }
    const page = readFileSync(PAGE);
    const bundle = readFileSync(BUNDLE);
    const pageServer = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/player.html') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      if (path === '/kaltura-ovp-player.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      res.writeHead(404).end();
    });
    await new Promise((r) => pageServer.listen(0, '127.0.0.1', r));
    const pageOrigin = `http://127.0.0.1:${pageServer.address().port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      for (const { entryId, ks } of missing) {
        const ctx = await browser.newContext();
        const p = await ctx.newPage();
        const api = [];
        const manifests = [];
        p.on('request', (r) => {
          const u = r.url();
          if (u.startsWith(`${baseUrl}/api_v3/`) && r.method() !== 'GET') {
            const h = r.headers();
            api.push({ method: r.method(), url: u.slice(baseUrl.length), headers: h, body: r.postData() ? JSON.parse(r.postData()) : null });
          }
          if (/\/playManifest\//i.test(u)) manifests.push(u.slice(baseUrl.length));
        });
        const q = new URLSearchParams({ serviceUrl: `${baseUrl}/api_v3`, cdnUrl: baseUrl, partnerId: String(partnerId), entryId, ...(ks ? { ks } : {}) });
        await p.goto(`${pageOrigin}/player.html?${q}`);
        const until = Date.now() + 30_000;
        while (Date.now() < until && !manifests.length) await new Promise((r) => setTimeout(r, 200));
        await ctx.close();
        if (!api.length || !manifests.length) throw new Error(`the player sent no ${api.length ? 'playManifest request' : 'api_v3 request'} for ${entryId} within 30 s`);
        const load = { entryId, withKs: !!ks, capturedAt: new Date().toISOString(), pageUrl: `${pageOrigin}/player.html?${q}`, api, manifests };
        mkdirSync(join(workDir, 'player-capture'), { recursive: true });
        writeFileSync(cacheFile({ entryId, ks }), JSON.stringify(load, null, 2));
      }
    } finally {
      await browser.close();
      await new Promise((r) => pageServer.close(r));
    }
  }
  for (const l of loads) out.loads.push(JSON.parse(readFileSync(cacheFile(l), 'utf8')));
  return out;
}

/** Replaces the values that change per load (KS, session ids, referrer) to compare two forms. */
export function urlShape(u) {
  return u.replace(/\/ks\/[^/]+/, '/ks/{ks}').replace(/playSessionId=[^&]+/, 'playSessionId={guid}:{guid}').replace(/referrer=[^&]+/, 'referrer={base64}')
    .replace(/\/flavorIds\/[^/]+/, '/flavorIds/{ids}');
}
