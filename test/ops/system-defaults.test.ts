// Every new catalog holds the system defaults (flavor params, the default ladder, delivery
// profiles for the built-in packager and progressive download), the very records the sample
// library carries under the same ids, so seeding the sample library over them changes nothing;
// and a catalog that already had its own defaults keeps them when it is upgraded.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/catalog/db.js';
import { migrations } from '../../src/catalog/migrations.js';
import { createCatalog, type Catalog } from '../../src/catalog/catalog.js';
import { describeCatalog } from '../../src/catalog/export.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from '../../src/catalog/library.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-defaults-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const open = (name: string) => {
  const c = createCatalog(openDatabase(join(work, name)));
  t.teardown(() => c.db.close());
  return c;
};
/** The records that are not entries or partners, as the library format describes them. */
const systemRecords = async (c: Catalog) => {
  const { flavorParams, conversionProfiles, deliveryProfiles } = (await describeCatalog(c, join(work, 'media'))).library;
  return { flavorParams, conversionProfiles, deliveryProfiles };
};

t.test('a new catalog holds the system defaults: no partner, everything a partner needs to ingest and play', async (t) => {
  const c = open('fresh.sqlite');
  t.same(await c.listPartners(), [], 'no partner');
  t.same((await c.listFlavorParams()).map((p) => p.id), [0, 301951, 301961, 301971, 301981, 301982, 301991]);
  const ladder = await c.listConversionProfiles(100);
  t.same(ladder.map((p) => [p.id, p.partnerId, p.isDefault, p.flavorParamsIds]), [[1, 0, true, [0, 301961, 301951, 301971]]], 'the default ladder, for every partner');
  const dps = (await c.listDeliveryProfiles()).map((d) => [d.id, d.partnerId, d.streamerType, d.url, d.isDefault]);
  t.same(dps, [
    [1001, 0, 'applehttp', '/hls', true], [1002, 0, 'hdnetworkmanifest', '/hds', true], [1003, 0, 'mpegdash', '/dash', true],
    [1004, 0, 'http', '/', true], [1005, 0, 'sl', '/mss', true], [1006, 0, 'applehttp', '/hls', false],
  ]);
});

t.test('the sample library carries the same records: seeding it over the defaults changes none of them', async (t) => {
  const c = open('sample.sqlite');
  const before = await systemRecords(c);
  const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
  await importLibrary(c, library, mediaDir, join(work, 'media'));
  await importLibrary(c, library, mediaDir, join(work, 'media'));
  const after = await systemRecords(c);
  t.same(after.flavorParams, before.flavorParams, 'flavor params as the sample library has them');
  t.same(after.conversionProfiles, before.conversionProfiles);
  t.same(after.deliveryProfiles?.filter((d) => d.id < 2000), before.deliveryProfiles, 'delivery profiles 1001-1006 as the sample library has them');
  t.same(after.deliveryProfiles?.filter((d) => d.id >= 2000).map((d) => d.id), [2001, 2002], 'plus its CDN examples');
  t.same((await c.listPartners()).map((p) => p.id), [309, 310]);
});

t.test('upgrading a catalog that has defaults of its own keeps them', async (t) => {
  const file = join(work, 'old.sqlite');
  const old = new Database(file);
  for (let v = 0; v < 2; v++) old.exec(migrations[v]);
  old.pragma('user_version = 2');
  old.prepare("INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default) VALUES (7, 0, 'my HLS', 61, 'applehttp', 'https://cdn.example.com/hls', 1)").run();
  old.prepare("INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default) VALUES (1003, 0, 'my other profile', 1, 'rtmp', 'rtmp://x', 0)").run();
  old.prepare("INSERT INTO conversion_profiles (id, partner_id, name, is_default, flavor_params_ids, created_at) VALUES (5, 0, 'mine', 1, '0,301961', 0)").run();
  old.prepare("INSERT INTO flavor_params (id, name, tags, width, height) VALUES (301961, 'my 240p', 'web', 320, 240)").run();
  old.close();
  const c = open('old.sqlite');
  t.same((await c.listDeliveryProfiles()).map((d) => [d.id, d.name]), [
    [7, 'my HLS'], [1002, 'VOD packager HDS'], [1003, 'my other profile'], [1004, 'HTTP progressive'], [1005, 'VOD packager MSS'], [1006, 'VOD packager HLS manifest'],
  ], 'no second default HLS profile, no record replaced; the missing kinds added');
  t.same((await c.listConversionProfiles(0)).map((p) => p.id), [5], 'its own default ladder stays the only one');
  t.equal((await c.getFlavorParams(301961))!.name, 'my 240p');
  t.equal((await c.getFlavorParams(301951))!.name, 'Mobile (H264) 360p');
});
