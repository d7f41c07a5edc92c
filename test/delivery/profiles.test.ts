import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { resolveDeliveryProfile, type ResolveInput } from '../../src/delivery/profiles.js';
import { sqliteDb } from '../helpers/sqlite.js';

const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-profiles-'));
const catalog = await openCatalog(loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' }));
t.teardown(() => { sqliteDb(catalog).close(); rmSync(dataDir, { recursive: true, force: true }); });

const db = sqliteDb(catalog);
const addProfile = (p: Record<string, unknown>) => db.prepare(
  `INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default, priority, active, media_protocols, tokenizer, enforce_deliveries_support, max_size)
   VALUES (@id, @partner_id, @name, @type, @streamer_type, @url, @is_default, @priority, @active, @media_protocols, @tokenizer, @enforce, @max_size)`,
).run({ partner_id: 0, name: `p${p.id}`, type: 1, streamer_type: 'test', url: '/x', is_default: 1, priority: 0, active: 1, media_protocols: '', tokenizer: null, enforce: '', max_size: null, ...p });

const partner = (await catalog.getPartner(309))!;
const entry = (await catalog.getEntry('1_rcit0qgs'))!;
const flavors = (await catalog.listFlavors(entry.id)).filter((f) => f.status === 2);
const input = (over: Partial<ResolveInput> = {}): ResolveInput => ({
  catalog, partner, entry, format: 'applehttp', protocol: 'http', requestedIds: null, flavors, limit: null, secured: false, storageId: null, ...over,
});
const pick = async (over: Partial<ResolveInput> = {}) => (await resolveDeliveryProfile(input(over))).profile?.id ?? null;

t.test('the sample library: defaults per format, explicit ids', async (t) => {
  t.equal(await pick(), 1001);
  t.equal(await pick({ format: 'mpegdash' }), 1003);
  t.equal(await pick({ format: 'hdnetworkmanifest' }), 1002);
  t.equal(await pick({ format: 'http' }), 1004);
  t.equal(await pick({ format: 'sl' }), 1005);
  t.equal(await pick({ format: 'rtsp' }), null, 'no profile: the caller answers 25');
  t.equal(await pick({ requestedIds: [2001] }), 2001);
  t.equal(await pick({ requestedIds: [1006] }), 1006);
  t.equal(await pick({ requestedIds: [999999] }), null);
  const r = await resolveDeliveryProfile(input({ requestedIds: [2001] }));
  t.match(r.trace.join('\n'), /requested profile ids 2001/);
});

t.test('default ordering: host first, tokenizer null first (or first when secured), own partner, priority', async (t) => {
  addProfile({ id: 9001, streamer_type: 'ord', url: '/local', priority: 0 });
  addProfile({ id: 9002, streamer_type: 'ord', url: 'https://cdn-a.example', priority: 5 });
  addProfile({ id: 9003, streamer_type: 'ord', url: 'https://cdn-b.example', priority: 1, tokenizer: JSON.stringify({ type: 'kaltura', key: 'k' }) });
  addProfile({ id: 9004, streamer_type: 'ord', url: 'https://cdn-c.example', priority: 9 });
  addProfile({ id: 9005, streamer_type: 'ord', url: 'https://own.example', priority: 50, partner_id: 309 });
  addProfile({ id: 9006, streamer_type: 'ord', url: 'https://off.example', priority: 0, is_default: 0 });
  t.equal(await pick({ format: 'ord' }), 9002, 'host, no tokenizer, lowest priority; the partner\'s own default needs a whitelist');
  t.equal(await pick({ format: 'ord', secured: true }), 9003, 'secured: tokenized first');
  t.equal(await pick({ format: 'ord', limit: { deliveryProfileIds: [9001, 9005], isBlockedList: false } }), 9005, 'a whitelist admits the partner\'s own, ordered first');
  t.equal(await pick({ format: 'ord', limit: { deliveryProfileIds: [9002], isBlockedList: true } }), 9004, 'block list');
  t.equal(await pick({ format: 'ord', limit: { deliveryProfileIds: [], isBlockedList: false } }), null, 'an empty allow list leaves nothing');
  t.equal(await pick({ format: 'ord', limit: { deliveryProfileIds: [9006], isBlockedList: false } }), 9006, 'an allow list admits a profile that is not a default (Kaltura drops is_default for one)');
  t.equal(await pick({ format: 'ord', limit: { deliveryProfileIds: [9006], isBlockedList: true } }), 9002, 'a block list does not');
});

t.test('filters: protocol, enforce_delivery, maxSize, inactive, partner', async (t) => {
  addProfile({ id: 9101, streamer_type: 'flt', url: 'https://a.example', media_protocols: 'https', priority: 0 });
  addProfile({ id: 9102, streamer_type: 'flt', url: 'https://b.example', enforce: 'akamai', priority: 1 });
  addProfile({ id: 9103, streamer_type: 'flt', url: 'https://c.example', max_size: 1, priority: 2 });
  addProfile({ id: 9104, streamer_type: 'flt', url: 'https://d.example', active: 0, priority: -5 });
  addProfile({ id: 9105, streamer_type: 'flt', url: 'https://e.example', priority: 3 });
  addProfile({ id: 9106, streamer_type: 'flt', url: 'https://f.example', priority: 4, partner_id: 310, is_default: 0 });
  t.equal(await pick({ format: 'flt', protocol: 'https' }), 9101);
  t.equal(await pick({ format: 'flt', protocol: 'http' }), 9102);
  const enforced = { ...entry, adminTags: 'x,enforce_delivery:akamai' };
  t.equal(await pick({ format: 'flt', entry: enforced }), 9102, 'supports the enforced delivery');
  t.equal(await pick({ format: 'flt', entry: { ...entry, adminTags: 'enforce_delivery:level3' } }), null, 'nobody supports it');
  t.equal(await pick({ format: 'flt', requestedIds: [9103, 9105] }), 9105, 'flavors larger than maxSize');
  t.equal(await pick({ format: 'flt', requestedIds: [9104] }), null, 'inactive');
  t.equal(await pick({ format: 'flt', requestedIds: [9106] }), null, 'another partner\'s profile');
});

t.test('the partner\'s per-format list and its order', async (t) => {
  const p = { ...partner, deliveryProfileIds: { applehttp: [2001, 1006], mpegdash: [1003] } };
  t.equal(await pick({ partner: p }), 2001);
  t.equal(await pick({ partner: p, requestedIds: [1006, 2001] }), 2001, 'requested ids are ordered by the partner\'s list');
  t.equal(await pick({ partner: p, requestedIds: [1001, 1006] }), 1006, 'ids not in the list go last');
  t.equal(await pick({ partner: p, limit: { deliveryProfileIds: [2001], isBlockedList: true } }), 1006);
});

t.test('remote storage: serve priority, storageId, the storage\'s own profiles', async (t) => {
  db.prepare(`INSERT INTO storage_profiles (id, partner_id, name, base_url, delivery_profile_ids) VALUES (?, 309, 'bucket', 'https://bucket.example/media', ?)`)
    .run(501, JSON.stringify({ applehttp: [2001], http: [2002] }));
  db.prepare(`INSERT INTO storage_profiles (id, partner_id, name, base_url, delivery_profile_ids) VALUES (?, 309, 'half', 'https://half.example', ?)`)
    .run(502, JSON.stringify({ applehttp: [1006] }));
  for (const f of flavors) db.prepare('INSERT INTO remote_files (flavor_asset_id, storage_profile_id, path) VALUES (?, ?, ?)').run(f.id, 501, `/309/${f.id}.mp4`);
  db.prepare('INSERT INTO remote_files (flavor_asset_id, storage_profile_id, path) VALUES (?, ?, ?)').run(flavors[0].id, 502, 'x');

  const prio = (n: number) => ({ ...partner, storageServePriority: n });
  let r = await resolveDeliveryProfile(input({ partner: prio(1) }));
  t.equal(r.storage, null, 'Kaltura only');
  t.equal(r.profile?.id, 1001);
  r = await resolveDeliveryProfile(input({ partner: prio(3) }));
  t.equal(r.storage?.id, 501, 'external first: the storage that holds every flavor');
  t.equal(r.profile?.id, 2001);
  r = await resolveDeliveryProfile(input({ partner: prio(4), format: 'http' }));
  t.equal(r.profile?.id, 2002);
  t.equal((await resolveDeliveryProfile(input({ partner: prio(4), flavors: [...flavors, { ...flavors[0], id: 'nowhere' }] }))).profile, null, 'external only, and a flavor has no copy');
  r = await resolveDeliveryProfile(input({ partner: prio(3), flavors: [...flavors, { ...flavors[0], id: 'nowhere' }] }));
  t.equal(r.storage, null, 'external first falls back to this server');
  t.equal(r.profile?.id, 1001);
  r = await resolveDeliveryProfile(input({ storageId: 501 }));
  t.equal(r.storage?.id, 501);
  t.equal(await pick({ storageId: 501, requestedIds: [1001] }), null, 'requested ids are intersected with the storage\'s');
  t.equal(await pick({ storageId: 501, limit: { deliveryProfileIds: [2001], isBlockedList: true } }), null);
  t.equal(await pick({ storageId: 502 }), null, 'not every flavor is there');
  t.equal(await pick({ storageId: 77 }), null, 'unknown storage');
});
