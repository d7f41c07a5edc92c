// The catalog contract, both backends: the sample library in SQLite and the same rows in a real
// PostgreSQL (a throwaway cluster, test/helpers/postgres.ts); every read method answers the same
// on both, before and after the same writes through each.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { importLibrary, LibraryError, readLibraryFile, sampleLibraryPath, type LibEntry as LibraryEntry } from '../../src/catalog/library.js';
import { openPgCatalog, type PgCatalog } from '../../src/catalog/pg/catalog.js';
import { copySqliteToPostgres } from '../../src/catalog/pg/copy.js';
import type { AccessControlProfile, CaptionAsset, ThumbAsset } from '../../src/catalog/types.js';
import { pgDatabase } from '../helpers/postgres.js';

const NOW = 1_780_000_000;
// Both catalogs are driven through the same method names; SQLite's may answer synchronously.
type AnyCatalog = Record<string, (...a: any[]) => any>;

/** The sample library, with DRM profiles (migration 11) for partner 309 so both backends read them. */
function sampleLibrary(): ReturnType<typeof readLibraryFile> {
  const read = readLibraryFile(sampleLibraryPath());
  read.library.partners!.find((p) => p.id === 309)!.drmProfiles = [
    { provider: 'widevine', licenseServerUrl: 'https://wv.example.test/license?entry={entryId}' },
    { provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/license', publicCertificate: 'Y2VydA==', keyUri: 'skd://{keyId}' },
  ];
  return read;
}

/** Calls `method` on both (SQLite first), checks that they answer the same, and gives the answer. */
function onBoth(t: Test, lite: unknown, pg: unknown) {
  const [l, p] = [lite, pg] as AnyCatalog[];
  return async (method: string, ...args: unknown[]) => {
    const a = await l[method](...args);
    const b = await p[method](...args);
    t.same(b, a, `${method} answers the same`);
    return b;
  };
}

async function backends(tt: Test) {
  const mediaRoot = mkdtempSync(join(tmpdir(), 'kdeliver-contract-'));
  const db = openDatabase(join(mediaRoot, 'catalog.sqlite'));
  const { library, mediaDir } = sampleLibrary();
  const sqlite = createCatalog(db);
  await importLibrary(sqlite, library, mediaDir, mediaRoot, NOW);
  const lite = sqlite as unknown as AnyCatalog;
  const pg = await openPgCatalog(await pgDatabase(tt));
  await copySqliteToPostgres(db, pg.db);
  tt.teardown(async () => {
    await pg.close();
    db.close();
    rmSync(mediaRoot, { recursive: true, force: true });
  });
  return { lite, pg: pg as unknown as AnyCatalog & PgCatalog };
}

/** Every read of the catalog, as [label, method, args]. */
async function reads(c: AnyCatalog): Promise<[string, string, unknown[]][]> {
  const calls: [string, string, unknown[]][] = [];
  const add = (method: string, ...args: unknown[]) => calls.push([`${method}(${args.map((a) => JSON.stringify(a)).join(', ')})`, method, args]);
  add('listPartners');
  add('isEmpty');
  add('listFlavorParams');
  add('listDeliveryProfiles');
  add('listUiConfs');
  add('getPartner', 99999);
  add('getEntry', 'no_such');
  add('getFlavorParams', 99999);
  const partners = (await c.listPartners()) as { id: number }[];
  for (const p of [{ id: 0 }, ...partners, { id: 4242 }]) {
    add('getPartner', p.id);
    add('countEntries', p.id);
    add('listConversionProfiles', p.id);
    add('listAccessControlProfiles', p.id);
    add('listStorageProfiles', p.id);
    for (const a of (await c.listAccessControlProfiles(p.id)) as AccessControlProfile[]) {
      add('getAccessControlProfile', a.id);
      add('countEntriesWithAccessControlProfile', a.id);
      add('accessControlProfileBySystemName', p.id, a.systemName);
    }
    for (const cp of (await c.listConversionProfiles(p.id)) as { id: number }[]) add('getConversionProfile', cp.id);
    for (const sp of (await c.listStorageProfiles(p.id)) as { id: number }[]) add('getStorageProfile', sp.id);
    const all = (await c.listEntries({ partnerId: p.id, includeDeleted: true }, 500)) as { objects: { id: string }[] };
    for (const e of all.objects) {
      add('getEntry', e.id);
      add('listFlavors', e.id);
      add('listCaptions', e.id);
      add('listThumbAssets', e.id);
      for (const f of (await c.listFlavors(e.id)) as { id: string }[]) {
        add('getFlavor', f.id);
        add('listRemoteFiles', f.id);
      }
      for (const cap of (await c.listCaptions(e.id)) as { id: string }[]) add('getCaption', cap.id);
      for (const th of (await c.listThumbAssets(e.id)) as { id: string }[]) add('getThumbAsset', th.id);
    }
    const filters: Record<string, unknown>[] = [
      {}, { includeDeleted: true }, { statusIn: [2, 3] }, { statusIn: [] }, { idIn: [] }, { idIn: ['1_rcit0qgs', '1_deleted0', 'nope'] },
      { nameLike: 'a' }, { nameLike: 'BIG' }, { nameLike: '%' }, { nameLike: '_' }, { tagsMultiLikeOr: ['demo', 'SECURE'] }, { tagsMultiLikeOr: [] },
      { mediaTypeEqual: 1 }, { mediaTypeIn: [2, 5] }, { typeIn: [1] }, { userIdEqual: '' }, { referenceIdEqual: '' },
      { createdAtGreaterThanOrEqual: NOW - 100000 },
      ...['+createdAt', '-createdAt', '+updatedAt', '-updatedAt', '+name', '-name', '+duration', '-duration'].map((orderBy) => ({ orderBy })),
    ];
    for (const f of filters) add('listEntries', { partnerId: p.id, ...f });
    // a page's flavors read together: every entry, an unknown id, one asked twice, none
    const ids = all.objects.map((e) => e.id);
    add('listFlavorsOfEntries', [...ids, 'nope', ids[0]]);
    add('listFlavorsOfEntries', []);
    add('listEntries', { partnerId: p.id, orderBy: '+name' }, 3, 2);
    add('listEntries', { partnerId: p.id }, 0, 0);
    add('listEntries', { partnerId: p.id }, 1000, 1);
  }
  for (const fp of (await c.listFlavorParams()) as { id: number }[]) add('getFlavorParams', fp.id);
  for (const dp of (await c.listDeliveryProfiles()) as { id: number }[]) add('getDeliveryProfile', dp.id);
  for (const u of (await c.listUiConfs()) as { id: number }[]) add('getUiConf', u.id);
  add('isRevoked', 'revoked-key', NOW);
  add('isRevoked', 'revoked-key', NOW + 10_000);
  add('uploadTokenIdByV2Key', 'no-such-key');
  return calls;
}

async function compareAll(tt: Test, lite: AnyCatalog, pg: AnyCatalog, when: string) {
  const calls = await reads(lite);
  tt.ok(calls.length > 150, `${calls.length} reads compared ${when}`);
  let differing = 0;
  for (const [label, method, args] of calls) {
    const a = await lite[method](...args);
    const b = await pg[method](...args);
    if (!tt.same(b, a, `${label} ${when}`)) differing++;
  }
  tt.equal(differing, 0, `every read the same ${when}`);
}

t.test('every read answers the same from SQLite and PostgreSQL', async (t) => {
  const { lite, pg } = await backends(t);
  const entries = (await pg.listEntries({ partnerId: 309, includeDeleted: true }, 500)).objects;
  t.ok(entries.length >= 10, 'the sample library is in PostgreSQL');
  t.same((await pg.getPartner(309))?.drmProfiles?.map((p: { provider: string }) => p.provider), ['widevine', 'fairplay'], "partner 309's DRM profiles are in PostgreSQL");
  await compareAll(t, lite, pg, 'after import');
});

t.test('the same writes through both leave the same catalog', async (t) => {
  const { lite, pg } = await backends(t);
  const both = onBoth(t, lite, pg);
  await both('updateEntry', '1_rcit0qgs', { name: 'Renamed', tags: 'x,Y', partnerData: '{"a":1}', startDate: NOW - 5 }, NOW + 1);
  await both('updateEntry', 'no_such_entry', { name: 'x' }, NOW + 1);
  await both('setEntryThumbnail', '1_alt0audi', '309/1_alt0audi/t.jpg', NOW + 2);
  const acp: Omit<AccessControlProfile, 'id' | 'createdAt' | 'updatedAt'> = {
    partnerId: 309, name: 'new default', systemName: 'nd', description: 'd', isDefault: true, rules: [],
  };
  const id = await both('addAccessControlProfile', acp, NOW + 3);
  const second = await both('addAccessControlProfile', { ...acp, name: 'other', systemName: 'other', isDefault: false }, NOW + 3);
  t.equal(second, id + 1, 'ids as SQLite gives them');
  await both('updateAccessControlProfile', { ...acp, id: second, name: 'other renamed', isDefault: true, createdAt: NOW, updatedAt: NOW }, NOW + 4);
  await both('updateEntry', '1_secure01', { accessControlProfileId: id }, NOW + 5);
  await both('deleteAccessControlProfile', id, second, NOW + 6);
  const cap: CaptionAsset = {
    id: '1_newcap01', entryId: '1_rcit0qgs', partnerId: 309, language: 'French', languageCode: 'fr', label: 'Français',
    format: 'vtt', filePath: '309/1_rcit0qgs/fr.vtt', size: 10, isDefault: true, status: 2, version: 1, displayOnPlayer: true,
    createdAt: NOW, updatedAt: NOW,
  };
  await both('addCaption', cap);
  await both('addCaption', { ...cap, id: '1_newcap02', isDefault: false, label: 'second' });
  await both('updateCaption', { ...cap, id: '1_newcap02', isDefault: true, label: 'second, default', updatedAt: NOW + 7 });
  await both('deleteCaption', '1_newcap01');
  const thumb: ThumbAsset = {
    id: '1_thumb001', entryId: '1_rcit0qgs', partnerId: 309, filePath: '', fileExt: 'jpg', width: 0, height: 0, size: 0,
    tags: '', description: '', isDefault: false, status: 0, version: 1, createdAt: NOW, updatedAt: NOW,
  };
  await both('addThumbAsset', thumb);
  await both('addThumbAsset', { ...thumb, id: '1_thumb002' });
  await both('addThumbAsset', { ...thumb, id: '1_thumb000', createdAt: NOW - 1 });
  await both('updateThumbAsset', { ...thumb, filePath: '309/1_rcit0qgs/th.jpg', width: 640, height: 360, size: 1234, status: 2, isDefault: true });
  await both('setDefaultThumbAsset', { ...thumb, filePath: '309/1_rcit0qgs/th.jpg' }, NOW + 8);
  await both('deleteThumbAsset', '1_thumb002');
  const flavors = await pg.listFlavors('1_rcit0qgs');
  await both('deleteFlavor', flavors[0].id);
  await both('revokeSession', 'revoked-key', NOW + 5000);
  await both('revokeSession', 'revoked-key', NOW + 6000);
  await both('deleteThumbAssetsOfEntry', '1_alt0audi');

  const [pa, pb] = [await lite.addPartner({ name: 'New one' }), await pg.addPartner({ name: 'New one' })];
  const noSecrets = (p: object) => ({ ...p, adminSecret: 'x', userSecret: 'y' });
  t.same(noSecrets(pb), noSecrets(pa), 'addPartner: the same partner (secrets are random)');
  t.match(pb.adminSecret, /^[0-9a-f]{32}$/);
  for (const c of [lite, pg]) {
    const e = await Promise.resolve().then(() => c.addPartner({ id: 309 })).then(() => undefined, (e: Error) => e);
    t.equal(e?.constructor.name, 'PartnerExistsError');
    t.match(e?.message, 'partner 309 exists');
  }
  // a rotation: a new primary admin secret, the old one additional; another added, then removed
  await both('addAdminSecret', 309, { secret: 'rotated-admin-secret-309', primary: true });
  await both('addAdminSecret', 309, { secret: 'another-admin-secret-309' });
  await both('removeAdminSecret', 309, 'another-admin-secret-309');
  t.same((await pg.getPartner(309))?.additionalAdminSecrets, ['sample-admin-secret-309'], 'PostgreSQL holds the old primary as additional');
  for (const c of [lite, pg]) {
    const refused = async (f: () => Promise<unknown>) => f().then(() => undefined, (e: Error) => `${e.constructor.name}: ${e.message}`);
    t.match(await refused(() => c.removeAdminSecret(309, 'rotated-admin-secret-309')), /^AdminSecretError: that is partner 309's primary admin secret/);
    t.equal(await refused(() => c.addAdminSecret(4242, {})), 'AdminSecretError: no partner 4242');
    t.equal(await refused(() => c.addAdminSecret(309, { secret: 'sample-admin-secret-309' })), 'AdminSecretError: partner 309 has that admin secret already');
  }
  // the secrets differ: give PostgreSQL's partner SQLite's, so the full comparison can include it
  await pg.db.query('UPDATE partners SET admin_secret = $1, user_secret = $2 WHERE id = $3', [pa.adminSecret, pa.userSecret, pa.id]);
  await compareAll(t, lite, pg, 'after writes');
});

t.test('staged upload parts (S3 uploads across nodes): the same decisions on both, one at a time per token', async (t) => {
  const { lite, pg } = await backends(t);
  // both ingest stores driven through the same method names, as the catalogs are (AnyCatalog)
  const both = onBoth(t, lite.ingest, pg.ingest);
  const part = (objectKey: string, offset: number, length: number, o: { restart?: boolean; final?: boolean } = {}) =>
    ({ tokenId: '0_tok00001', offset, length, objectKey, restart: !!o.restart, final: !!o.final, now: NOW + 1 });
  await both('createUploadToken', { id: '0_tok00001', partnerId: 309, userId: 'u', fileName: 'f.mp4', fileSize: 30, now: NOW });
  t.match(await both('addUploadPart', part('k1', 0, 10, { restart: true })), { outcome: 'ok', offset: 0, token: { uploadedFileSize: 10, status: 1 } });
  t.match(await both('addUploadPart', part('k2', 20, 5, { final: true })), { outcome: 'gap', offset: 20, token: { uploadedFileSize: 10 } }, 'a final chunk before the rest');
  t.match(await both('addUploadPart', part('k2b', 20, 3)), { outcome: 'ok', offset: 20, token: { uploadedFileSize: 10 } }, 'a chunk past the end is kept for later');
  t.match(await both('addUploadPart', part('k3', -1, 10)), { outcome: 'ok', offset: 10, token: { uploadedFileSize: 23 } }, 'the chunk before it makes both count');
  t.match(await both('addUploadPart', part('k4', 5, 10)), { outcome: 'ok', offset: 5, token: { uploadedFileSize: 23 } }, 'a retry inside what arrived');
  t.match(await both('addUploadPart', part('k5', -1, 2, { final: true })), { outcome: 'size', token: { uploadedFileSize: 25, status: 1 } });
  t.same(await both('uploadParts', '0_tok00001'), [
    { offset: 0, length: 10, objectKey: 'k1' }, { offset: 20, length: 3, objectKey: 'k2b' }, { offset: 10, length: 10, objectKey: 'k3' },
    { offset: 5, length: 10, objectKey: 'k4' }, { offset: 23, length: 2, objectKey: 'k5' },
  ], 'the refused part is not recorded; the rest in arrival order');
  t.match(await both('addUploadPart', part('k6', 0, 12, { restart: true })), { outcome: 'ok', token: { uploadedFileSize: 12 }, dropped: ['k1', 'k2b', 'k3', 'k4', 'k5'] });
  t.match(await both('addUploadPart', part('k7', -1, 18, { final: true })), { outcome: 'ok', token: { uploadedFileSize: 30, status: 2 } });
  t.match(await both('addUploadPart', part('k8', -1, 1)), { outcome: 'status', token: { status: 2 } }, 'a complete token takes no chunk');
  t.match(await both('addUploadPart', { ...part('k9', 0, 1), tokenId: 'no_such_tok' }), { outcome: 'status' });

  // PostgreSQL: twenty appends (-1) racing from two pools land one after another, none lost
  const other = await openPgCatalog(pg.db.url, { nodeId: 'other' });
  t.teardown(() => other.close());
  await pg.ingest.createUploadToken({ id: '0_tok00002', partnerId: 309, userId: 'u', fileName: 'f', fileSize: null, now: NOW });
  const nodes = [pg, other];
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => nodes[i % nodes.length].ingest.addUploadPart(
    { tokenId: '0_tok00002', offset: -1, length: 7, objectKey: `r${i}`, restart: false, final: false, now: NOW })));
  t.same(results.map((r) => r.offset).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i * 7), 'each at its own offset');
  t.equal((await pg.ingest.getUploadToken('0_tok00002'))?.uploadedFileSize, 140);
});

t.test("a chunk's record is written only while the token takes chunks: the same on both", async (t) => {
  const { lite, pg } = await backends(t);
  const both = onBoth(t, lite.ingest, pg.ingest);
  await both('createUploadToken', { id: '0_tok00003', partnerId: 309, userId: 'u', fileName: 'f.mp4', fileSize: null, now: NOW });
  const token = await both('getUploadToken', '0_tok00003');
  t.equal(await both('updateUploadingToken', { ...token, status: 1, uploadedFileSize: 10 }, NOW + 1), true, 'PENDING takes a chunk');
  t.equal(await both('updateUploadingToken', { ...token, status: 2, uploadedFileSize: 20 }, NOW + 2), true, 'PARTIAL_UPLOAD takes the final one');
  t.equal(await both('updateUploadingToken', { ...token, status: 1, uploadedFileSize: 30 }, NOW + 3), false, 'FULL_UPLOAD takes none');
  await both('updateUploadToken', { ...token, status: 5 }, NOW + 4);
  t.equal(await both('updateUploadingToken', { ...token, status: 1, uploadedFileSize: 40 }, NOW + 5), false, 'a deleted token takes none');
  t.match(await both('getUploadToken', '0_tok00003'), { status: 5, updatedAt: NOW + 4 }, 'and stays deleted');
  await both('createUploadToken', { id: '0_tok00004', partnerId: 309, userId: 'u', fileName: 'f.mp4', fileSize: null, now: NOW });
  t.same(await both('expireUploadTokens', NOW + 1, NOW + 6), ['0_tok00004']);
  t.equal(await both('updateUploadingToken', { ...token, id: '0_tok00004', status: 1 }, NOW + 7), false, 'an expired one takes none');
  t.match(await both('getUploadToken', '0_tok00004'), { status: 4 });
});

t.test('concurrent addPartner calls on PostgreSQL get distinct ids', async (t) => {
  const { pg } = await backends(t);
  const added = await Promise.all(Array.from({ length: 8 }, (_, i) => pg.addPartner({ name: `p${i}` })));
  const ids = added.map((p: { id: number }) => p.id).sort((a: number, b: number) => a - b);
  t.equal(new Set(ids).size, 8);
  t.same(ids, [311, 312, 313, 314, 315, 316, 317, 318], 'each the next after the highest');
});

t.test('the sample library imported straight into PostgreSQL (its library store) reads the same as in SQLite', async (t) => {
  const { lite } = await backends(t);
  const mediaRoot = mkdtempSync(join(tmpdir(), 'kdeliver-contract-'));
  const pg = await openPgCatalog(await pgDatabase(t));
  t.teardown(async () => {
    await pg.close();
    rmSync(mediaRoot, { recursive: true, force: true });
  });
  const { library, mediaDir } = sampleLibrary();
  t.same(await importLibrary(pg, library, mediaDir, mediaRoot, NOW), { entries: library.entries!.length, warnings: [] });
  await compareAll(t, lite, pg as unknown as AnyCatalog, 'after importLibrary into PostgreSQL');
  for (const m of ['allConversionProfiles', 'allAccessControlProfiles', 'allEntryIds'] as const) {
    t.same(await pg.library[m](), await (lite as any).library[m](), `library.${m}`);
  }
  // the contract's content keys arrive as given; every other entry has random ones of its own
  for (const id of ['1_aeshls01', '1_cenc0001']) t.equal((await pg.getEntryKeys(id)).key, (await lite.getEntryKeys(id)).key, `getEntryKeys(${id}): the contract's key`);
  t.match(await pg.getEntryKeys('1_rcit0qgs'), { keyId: /^[0-9a-f]{32}$/, key: /^[0-9a-f]{32}$/ });
  t.notSame(await pg.getEntryKeys('1_rcit0qgs'), await lite.getEntryKeys('1_rcit0qgs'), 'random, not derived from the id');
  // a second import over the first changes nothing
  await importLibrary(pg, library, mediaDir, mediaRoot, NOW);
  await compareAll(t, lite, pg as unknown as AnyCatalog, 'after importing it again');
  // a record another owner holds is refused, and the transaction leaves the catalog as it was
  const first = library.entries![0];
  const otherPartner = library.partners!.find((p) => p.id !== first.partnerId)!.id;
  const flavored = library.entries!.find((e) => (e.flavors ?? []).length > 0 && e.id !== first.id)!;
  const clashes: [string, LibraryEntry, RegExp][] = [
    ['an entry id of another partner', { ...first, partnerId: otherPartner }, new RegExp(`entry ${first.id} belongs to partner ${first.partnerId} in the catalog, not to partner ${otherPartner}`)],
    ['a flavor id of another entry', { ...flavored, id: '0_clash0001', flavors: [flavored.flavors![0]], captions: [] },
      new RegExp(`flavor ${flavored.flavors![0].id} belongs to entry ${flavored.id} in the catalog, not to entry 0_clash0001`)],
  ];
  for (const [what, e, says] of clashes) {
    await t.rejects(importLibrary(pg, { ...library, entries: [e] }, mediaDir, mediaRoot, NOW), { constructor: LibraryError, message: says }, what);
  }
  t.equal(await pg.getEntry('0_clash0001'), undefined, 'no entry written');
  await compareAll(t, lite, pg as unknown as AnyCatalog, 'after the refused imports');
});

t.test('a source registered only while the entry takes content: the same on both', async (t) => {
  const { lite, pg } = await backends(t);
  const both = onBoth(t, lite.ingest, pg.ingest);
  const flavor = (id: string) => ({
    id, entryId: '0_takes001', partnerId: 309, flavorParamsId: 0, filePath: `309/0_takes001/${id}.mp4`, size: 100,
    containerFormat: 'isom', fileExt: 'mp4', videoCodec: 'avc1', audioCodec: 'mp4a', codecs: '', width: 640, height: 360,
    bitrate: 800, frameRate: 25, durationMs: 10_000, language: '', label: '', isDefault: false, tags: ['source'], status: 2,
    version: 1, isOriginal: true, createdAt: NOW, updatedAt: NOW, packagingRefusal: '', rotation: 0,
  });
  const register = (id: string) => ({ replaceFlavorIds: [], entryId: '0_takes001', status: 1, ifTakesContent: true, flavor: flavor(id),
    mediaType: 1, duration: 10, partnerId: 309, conversionProfileId: null, now: NOW + 1 });
  await both('createEntry', { id: '0_takes001', partnerId: 309, name: 'empty', status: 7, mediaType: 1, now: NOW });
  t.equal(await both('recordFailedSource', '0_takes001', 309, null, -2, 'not media', NOW + 1, true) === null, false, 'an empty entry takes a failed content');
  t.equal(typeof await both('registerSource', register('0_src00001')), 'number', 'ERROR_IMPORTING without a source takes content');
  t.equal(await both('registerSource', register('0_src00002')), null, 'once it has a source, no second one');
  t.equal(await both('recordFailedSource', '0_takes001', 309, null, -2, 'not media', NOW + 2, true), null, 'nor an error over it');
  t.same((await pg.listFlavors('0_takes001')).map((f: { id: string }) => f.id), ['0_src00001']);
  t.equal((await pg.getEntry('0_takes001'))?.status, 1);
});

t.test("a KS's limited actions (actionslimit): counted alike on both, exactly under concurrency, expired ones purged", async (t) => {
  const { lite, pg } = await backends(t);
  const both = onBoth(t, lite, pg);
  const until = Math.floor(Date.now() / 1000) + 3600;
  const generation = lite.generation();
  t.same([await both('takeKsAction', 'ks-a', 2, until), await both('takeKsAction', 'ks-a', 2, until), await both('takeKsAction', 'ks-a', 2, until)],
    [true, true, false], 'a limit of 2: two actions, then none');
  t.same([await both('takeKsAction', 'ks-b', 1, until), await both('takeKsAction', 'ks-b', 1, until)], [true, false], "another KS's count is its own");
  // (PostgreSQL announces none: test/catalog/pg-freshness.test.ts)
  t.equal(lite.generation(), generation, 'SQLite: no catalog change, nothing kept is dropped for a count');

  // many at once: exactly the limit pass, on PostgreSQL's pool of connections and on two SQLite
  // connections to one file (two processes)
  const onPg = await Promise.all(Array.from({ length: 30 }, () => pg.takeKsAction('ks-many', 7, until)));
  t.equal(onPg.filter(Boolean).length, 7, 'PostgreSQL: 7 of 30 concurrent actions');
  const other = createCatalog(openDatabase((lite.db as unknown as { name: string }).name));
  t.teardown(() => other.close());
  const onLite = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? other : lite as never as typeof other).takeKsAction('ks-many', 7, until)));
  t.equal(onLite.filter(Boolean).length, 7, 'SQLite, two connections: 7 of 30');

  // an expired KS's count goes (its KS can no longer verify): the next catalog to count purges it
  await both('takeKsAction', 'ks-old', 1, Math.floor(Date.now() / 1000) - 10);
  const rows = async () => [
    (lite.db as unknown as { prepare(s: string): { pluck(): { get(): unknown } } }).prepare("SELECT COUNT(*) FROM ks_action_counts WHERE key = 'ks-old'").pluck().get(),
    Number((await pg.db.query("SELECT COUNT(*) AS n FROM ks_action_counts WHERE key = 'ks-old'")).rows[0].n),
  ];
  t.same(await rows(), [1, 1], 'kept while no one purged');
  const fresh = createCatalog(openDatabase((lite.db as unknown as { name: string }).name));
  t.teardown(() => fresh.close());
  const pgFresh = await openPgCatalog(pg.db.url);
  t.teardown(() => pgFresh.close());
  await fresh.takeKsAction('ks-c', 1, until);
  await pgFresh.takeKsAction('ks-c', 1, until);
  t.same(await rows(), [0, 0], 'purged by the first count of a catalog opened since');
});
