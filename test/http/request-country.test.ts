// One request, one country: a country condition of an access-control rule decides the same way
// for every caller that answers about the same request: playManifest; api_v3
// baseEntry.getPlaybackContext, flavorAsset.getUrl and caption_captionAsset.serve (the player's
// view); the console's decision trace; the media routes, raw/download and thumbnails. They all
// read the country from the one set of HTTP facts the server builds per request
// (KDELIVER_GEOIP_FILE).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { writeMmdb } from '../access/mmdb-writer.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { sqliteDb } from '../helpers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-geo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const geoFile = join(dir, 'country.mmdb');
// the tests' client is 127.0.0.1
writeFileSync(geoFile, writeMmdb({ '127.0.0.0/8': { country: { iso_code: 'GB' } } }));
const s = await startServer(t, { env: { KDELIVER_GEOIP_FILE: geoFile } });
const db = sqliteDb(s.app.catalog);
const ENTRY = '1_rcit0qgs';

// a rule of every context (PLAY, DOWNLOAD, SERVE, THUMBNAIL) on the client's country
const blockIn = (country: string) => JSON.stringify([{
  message: `not available in ${country}`, conditions: [{ type: 'country', values: [country] }], actions: [{ type: 'block' }],
}]);
db.prepare("INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (901, 309, 'country', ?, 0, 0)").run(blockIn('GB'));
db.prepare('UPDATE entries SET access_control_profile_id = 901 WHERE id = ?').run(ENTRY);
// the entry with captions, for caption_captionAsset.serve
db.prepare("UPDATE entries SET access_control_profile_id = 901 WHERE id = '1_alt0audi'").run();
const setCountry = (c: string) => db.prepare('UPDATE access_control_profiles SET rules = ? WHERE id = 901').run(blockIn(c));

const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];
const api = async (service: string, action: string, params: Record<string, unknown>): Promise<any> => {
  const r = await fetch(`${s.url}/api_v3/service/${service}/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }),
  });
  return r.json();
};
const widgetKs: string = (await api('session', 'startWidgetSession', { widgetId: '_309' })).ks;
const userKs: string = await api('session', 'start', { secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer' });
const consoleKs: string = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'console' });

const PM = `/p/309/sp/30900/playManifest/entryId/${ENTRY}/format/applehttp/protocol/http/a.m3u8`;

/** What each caller says about the same request from 127.0.0.1: true when it refuses. */
const callers: Record<string, () => Promise<boolean>> = {
  async playManifest() {
    const r = await fetch(s.url + PM);
    await r.arrayBuffer();
    return r.status === 403 && errorCode(r) === '3';
  },
  async getPlaybackContext() {
    const pc = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: ENTRY, contextDataParams: { objectType: 'KalturaContextDataParams' } });
    if (pc.objectType !== 'KalturaPlaybackContext') throw new Error(JSON.stringify(pc));
    return pc.sources.length === 0 && pc.actions.some((a: { type: number }) => a.type === 1)
      && pc.messages.some((m: { message: string }) => /not available in GB/.test(m.message));
  },
  async flavorAssetGetUrl() {
    const res = await api('flavorAsset', 'getUrl', { ks: userKs, id: '1_f3rcit00' });
    return res.code === 'ACCESS_CONTROL_RESTRICTED';
  },
  async captionServe() {
    const r = await fetch(`${s.url}/api_v3/service/caption_captionAsset/action/serve?format=1&captionAssetId=1_c1alt000`);
    const text = await r.text();
    return /ACCESS_CONTROL_RESTRICTED/.test(text) && !/-->/.test(text);
  },
  async consoleTrace() {
    const r = await fetch(`${s.url}/console/api/trace?url=${encodeURIComponent(PM)}`, { headers: { 'x-kaltura-ks': consoleKs } });
    const body = await r.json() as { plays: boolean; error: { code: number } | null };
    return !body.plays && body.error?.code === 3;
  },
  async serveFlavor() {
    const url = signMediaUrl(`${s.url}/p/309/sp/30900/serveFlavor/entryId/${ENTRY}/v/1/flavorId/1_f3rcit00/name/a.mp4`, s.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
    const r = await fetch(url);
    await r.arrayBuffer();
    return r.status === 403 && errorCode(r) === '3';
  },
  async packager() {
    const url = signMediaUrl(`${s.url}/hls/p/309/sp/30900/serveFlavor/entryId/${ENTRY}/v/1/flavorId/1_f3rcit00/name/a.mp4/index.m3u8`, s.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
    const r = await fetch(url);
    await r.arrayBuffer();
    return r.status === 403 && errorCode(r) === '3';
  },
  async raw() {
    const r = await fetch(`${s.url}/p/309/sp/30900/raw/entry_id/${ENTRY}/type/download`);
    await r.arrayBuffer();
    return r.status === 403 && errorCode(r) === '3';
  },
  async thumbnail() {
    const r = await fetch(`${s.url}/p/309/sp/30900/thumbnail/entry_id/${ENTRY}/width/64`);
    await r.arrayBuffer();
    return r.status === 403 && errorCode(r) === '3';
  },
};

t.test('a rule on the client\'s country refuses on every caller, as on playManifest', async (t) => {
  setCountry('GB');
  for (const [name, refuses] of Object.entries(callers)) t.equal(await refuses(), true, `${name}: refused in GB`);
});

t.test('the same rule on another country lets every caller through', async (t) => {
  setCountry('SE');
  for (const [name, refuses] of Object.entries(callers)) t.equal(await refuses(), false, `${name}: not refused outside SE`);
});
