// Country conditions of SERVE-context rules on the media routes: serveFlavor, the packager and
// flvclipper see the client's country (KDELIVER_GEOIP_FILE) as playManifest does.
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

const blockServeIn = (country: string) => JSON.stringify([{
  message: `media not served in ${country}`, contexts: ['SERVE'],
  conditions: [{ type: 'country', values: [country] }], actions: [{ type: 'block' }],
}]);
db.prepare("INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (900, 309, 'no media in', ?, 0, 0)").run(blockServeIn('GB'));
db.prepare("UPDATE entries SET access_control_profile_id = 900 WHERE id = '1_rcit0qgs'").run();

const signedUrls = async (format: string) => {
  // playManifest itself is a PLAY request: the SERVE rule lets it through and signs the URLs
  const r = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/${format}/protocol/http/flavorParamId/301971/a.mp4`, { redirect: 'manual' });
  t.equal(r.status, format === 'url' ? 302 : 200, `playManifest ${format}`);
  return format === 'url' ? [r.headers.get('location')!] : (await r.text()).split('\n').filter((l) => l.startsWith('http'));
};

t.test('a SERVE rule on the client country refuses the media routes, and only that country', async (t) => {
  const progressive = (await signedUrls('url'))[0];
  const hlsIndex = (await signedUrls('applehttp'))[0];
  const flvclipper = signMediaUrl(`${s.url}/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/flavor/1_f3rcit00/a.mp4`, s.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  t.match(progressive, /\/sig\//, 'progressive URL is signed');
  t.match(hlsIndex, /\/sig\//, 'packager URL is signed');

  for (const [what, url] of [['serveFlavor', progressive], ['packager', hlsIndex], ['flvclipper', flvclipper]] as const) {
    const r = await fetch(url);
    t.match(await r.text(), /media not served in GB/, `${what}: the rule's message`);
    t.equal(r.status, 403, `${what}: refused in GB`);
  }

  db.prepare('UPDATE access_control_profiles SET rules = ? WHERE id = 900').run(blockServeIn('SE'));
  for (const [what, url] of [['serveFlavor', (await signedUrls('url'))[0]], ['packager', (await signedUrls('applehttp'))[0]], ['flvclipper', flvclipper]] as const) {
    const r = await fetch(url);
    await r.arrayBuffer();
    t.equal(r.status, 200, `${what}: served outside SE`);
  }
});
