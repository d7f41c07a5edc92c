// `kdeliver import-kaltura` against a real source: a second kdeliver server (`kdeliver serve`, a
// real process on its own data directory) holding the sample library plus, seeded through api_v3
// with kaltura-client, an access-control profile and a third caption on 1_alt0audi. The installed
// command imports into a fresh data directory; then, entry by entry, ids, flavor sets, flavor
// params' tags, captions (bytes too), rules and media files (byte for byte) are compared, the
// delivery answers of both servers are compared, and the Kaltura web player plays an imported
// entry in headless Chromium. A source stopped in the middle of a download leaves nothing
// half-written, and the next run resumes with a ranged GET. Refusals are one line, no stack.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import kaltura from 'kaltura-client';
import type { Page } from 'playwright-core';
import { cleanEnv, installedCommand, run, type Served } from '../helpers/command.js';
import { launchBrowser } from '../helpers/browser.js';
import { servePlayerPage } from '../helpers/kaltura-player.js';
import { projectRoot } from '../helpers/repo.js';
import { readLibraryFile } from '../../src/catalog/library.js';

const SOURCE_SECRET = 'sample-admin-secret-309';
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-kaltura-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const quiet = { KDELIVER_LOG_LEVEL: 'warn' };

type Any = Record<string, any>;

/** kaltura-client with an admin session on a server. */
async function client(url: string, secret: string, partnerId = 309) {
  const config = new kaltura.Configuration();
  config.serviceUrl = url;
  config.setLogger({ log() {}, error() {}, debug() {} });
  const c = new kaltura.Client(config);
  const ks: string = await kaltura.services.session.start(secret, 'test', kaltura.enums.SessionType.ADMIN, partnerId).execute(c);
  c.setKs(ks);
  return { ks, call: (req: { execute(x: unknown): Promise<any> }): Promise<any> => req.execute(c) };
}

/** Every file under a folder, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath ?? (d as any).path, d.name))).sort();
}
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const catalogOf = (dataDir: string) => new Database(join(dataDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });

/** Nothing half-written: every file the catalog names is whole, and the media root holds nothing else. */
function checkWhole(t: Test, dataDir: string) {
  const db = catalogOf(dataDir);
  try {
    const named = new Map<string, number>();
    for (const r of db.prepare('SELECT file_path AS p, size FROM flavor_assets UNION ALL SELECT file_path, size FROM caption_assets').all() as Any[]) named.set(r.p, r.size);
    for (const r of db.prepare('SELECT thumbnail_file AS p FROM entries WHERE thumbnail_file IS NOT NULL').all() as Any[]) named.set(r.p, -1);
    const media = join(dataDir, 'media');
    for (const [p, size] of named) {
      t.ok(existsSync(join(media, p)), `the catalog's ${p} exists`);
      if (size >= 0 && existsSync(join(media, p))) t.equal(statSync(join(media, p)).size, size, `${p} is whole`);
    }
    t.same(filesUnder(media).filter((f) => !named.has(f)), [], 'the media root holds no file the catalog does not name');
  } finally {
    db.close();
  }
}

const SRT = '1\n00:00:01,000 --> 00:00:03,000\nBonjour de kdeliver\n\n2\n00:00:04,000 --> 00:00:06,000\nDeuxième ligne\n';

t.test('import a partner from another kdeliver through api_v3', async (t) => {
  const srcDir = join(work, 'source');
  const src = await cmd.serve({ KDELIVER_DATA_DIR: srcDir, KDELIVER_SAMPLE_LIBRARY: 'true', ...quiet });
  const S = await client(src.url, SOURCE_SECRET);

  // the entry with captions and an access-control profile, made through the API
  const rule = new kaltura.objects.Rule({
    message: 'a session is required', code: 'KS_REQUIRED',
    contexts: [new kaltura.objects.AccessControlContextTypeHolder({ type: 1 })],
    conditions: [new kaltura.objects.AuthenticatedCondition({ not: true, privileges: [new kaltura.objects.StringValue({ value: 'sview' })] })],
    actions: [new kaltura.objects.AccessControlBlockAction()],
  });
  const acp = await S.call(kaltura.services.accessControlProfile.add(new kaltura.objects.AccessControlProfile({ name: 'Imported rule', systemName: 'imported_rule', rules: [rule] })));
  await S.call(kaltura.services.baseEntry.update('1_alt0audi', new kaltura.objects.BaseEntry({ accessControlId: acp.id, referenceId: 'ref-alt', tags: 'imported,captions' })));
  const cap = await S.call(kaltura.services.captionAsset.add('1_alt0audi', new kaltura.objects.CaptionAsset({ language: 'French', label: 'Français', format: '1' })));
  await S.call(kaltura.services.captionAsset.setContent(cap.id, new kaltura.objects.StringResource({ content: SRT })));
  t.equal((await fetch(`${src.url}/p/309/sp/30900/playManifest/entryId/1_alt0audi/format/url/a.mp4`, { redirect: 'manual' })).status, 403, 'on the source, 1_alt0audi needs a session');

  const dstDir = join(work, 'imported');
  const env = { KDELIVER_DATA_DIR: dstDir, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const args = ['import-kaltura', '--service-url', src.url, '--partner-id', '309', '--admin-secret', SOURCE_SECRET, '--all', '--jobs', '2'];
  const first = await cmd.kdeliver(args, env);
  t.equal(first.code, 0, `exit 0:\n${first.stdout}\n${first.stderr}`);
  t.notMatch(first.stdout + first.stderr, SOURCE_SECRET, 'the source\'s admin secret is never printed');
  t.notMatch(first.stdout + first.stderr, S.ks.slice(0, 40), 'nor a session');
  t.match(first.stdout, /\n {2}1_convert0: not READY on the source \(status PRECONVERT\)\n/, 'an entry the source cannot deliver is listed with the reason');
  t.match(first.stdout, /\n {2}1_document: entry type DOCUMENT/, 'a document is listed as not imported');
  t.match(first.stderr, /1_rcit0qgs flavor 1_f3rcit00 \(params 301971\): 1\.9 MB\n/, 'a line per file (not a terminal)');
  const m = /partner 309 created here: .*\n {2}admin secret: ([0-9a-f]{32})\n {2}user secret: {2}([0-9a-f]{32})\n/.exec(first.stdout);
  t.ok(m, `new secrets printed once, before the summary (as soon as the partner is made):\n${first.stdout}`);
  const [, adminSecret, userSecret] = m!;
  t.not(adminSecret, SOURCE_SECRET);
  t.not(userSecret, 'sample-user-secret-309');

  // which entries came over: every one the source lists, whatever its status or moderation, is accounted for
  const every = new kaltura.objects.BaseEntryFilter({ statusIn: '-2,-1,0,1,2,4,5,6,7', moderationStatusIn: '1,2,3,4,5,6' });
  const listed: Any[] = (await S.call(kaltura.services.baseEntry.listAction(every, new kaltura.objects.FilterPager({ pageSize: 500 })))).objects;
  const summary = first.stdout;
  const imported: string[] = [];
  for (const e of listed) {
    if (new RegExp(`\\n {2}${e.id}: `).test(summary)) continue;
    imported.push(e.id);
  }
  for (const id of ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_kssecure', '1_preview1', '1_siteonly', '1_iponly00', '1_sched000', '1_moderat0']) {
    t.ok(imported.includes(id), `${id} imported`);
  }
  t.match(summary, new RegExp(`^import from .* partner 309 into partner 309: ${imported.length} imported, 0 unchanged`, 'm'), 'the summary counts them');

  const dst = await cmd.serve(env);
  const D = await client(dst.url, adminSecret);

  await t.test('entry by entry: ids, flavor sets, flavor params, captions, rules, media bytes', async (t) => {
    const sdb = catalogOf(srcDir);
    const ddb = catalogOf(dstDir);
    t.teardown(() => { sdb.close(); ddb.close(); });
    const entryFields = ['id', 'name', 'description', 'partnerId', 'userId', 'tags', 'adminTags', 'status', 'moderationStatus', 'type', 'mediaType',
      'createdAt', 'msDuration', 'accessControlId', 'startDate', 'endDate', 'referenceId', 'flavorParamsIds', 'version'];
    const flavorFields = ['id', 'entryId', 'flavorParamsId', 'version', 'tags', 'fileExt', 'sizeInBytes', 'width', 'height', 'bitrate', 'frameRate',
      'isOriginal', 'containerFormat', 'videoCodecId', 'status', 'language', 'label', 'isDefault'];
    const captionFields = ['id', 'entryId', 'language', 'languageCode', 'label', 'format', 'isDefault', 'status', 'version', 'sizeInBytes', 'displayOnPlayer'];
    const pick = (o: Any, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
    const byId = (a: Any[]) => [...a].sort((x, y) => String(x.id).localeCompare(String(y.id)));
    for (const id of imported) {
      const [se, de] = [await S.call(kaltura.services.baseEntry.get(id)), await D.call(kaltura.services.baseEntry.get(id))];
      t.same(pick(de, entryFields), pick(se, entryFields), `${id}: the entry`);
      const filter = new kaltura.objects.FlavorAssetFilter({ entryIdEqual: id });
      const [sf, df] = [(await S.call(kaltura.services.flavorAsset.listAction(filter))).objects, (await D.call(kaltura.services.flavorAsset.listAction(filter))).objects];
      t.same(byId(df).map((f: Any) => pick(f, flavorFields)), byId(sf).filter((f: Any) => f.status === 2).map((f: Any) => pick(f, flavorFields)), `${id}: the flavor set`);
      for (const f of sf) {
        const [sp, dp] = [await S.call(kaltura.services.flavorParams.get(f.flavorParamsId)), await D.call(kaltura.services.flavorParams.get(f.flavorParamsId))];
        t.same(pick(dp, ['id', 'name', 'tags', 'format', 'width', 'height']), pick(sp, ['id', 'name', 'tags', 'format', 'width', 'height']), `${id}: flavor params ${f.flavorParamsId} with its tags`);
        // the media file, byte for byte
        const sPath = (sdb.prepare('SELECT file_path FROM flavor_assets WHERE id = ?').pluck().get(f.id)) as string;
        const dPath = (ddb.prepare('SELECT file_path FROM flavor_assets WHERE id = ?').pluck().get(f.id)) as string;
        t.equal(sha(join(dstDir, 'media', dPath)), sha(join(srcDir, 'media', sPath)), `${id}: flavor ${f.id}'s file is byte-identical`);
      }
      const cf = new kaltura.objects.CaptionAssetFilter({ entryIdEqual: id });
      const [sc, dc] = [(await S.call(kaltura.services.captionAsset.listAction(cf))).objects, (await D.call(kaltura.services.captionAsset.listAction(cf))).objects];
      t.same(byId(dc).map((c: Any) => pick(c, captionFields)), byId(sc).map((c: Any) => pick(c, captionFields)), `${id}: the captions`);
      for (const c of sc) {
        const body = async (url: string, ks: string) => (await fetch(`${url}/api_v3/service/caption_captionAsset/action/serve?captionAssetId=${c.id}&ks=${ks}`)).text();
        t.equal(await body(dst.url, D.ks), await body(src.url, S.ks), `${id}: caption ${c.id}'s content`);
      }
      if (se.accessControlId) {
        const [sa, da] = [await S.call(kaltura.services.accessControlProfile.get(se.accessControlId)), await D.call(kaltura.services.accessControlProfile.get(se.accessControlId))];
        t.same(pick(da, ['id', 'name', 'systemName', 'rules']), pick(sa, ['id', 'name', 'systemName', 'rules']), `${id}: access-control profile ${se.accessControlId} and its rules`);
      }
    }
    const alt = await D.call(kaltura.services.baseEntry.get('1_alt0audi'));
    t.equal(alt.accessControlId, acp.id, 'the seeded profile keeps its id');
    t.equal((await D.call(kaltura.services.captionAsset.listAction(new kaltura.objects.CaptionAssetFilter({ entryIdEqual: '1_alt0audi' })))).totalCount, 3, 'and the entry its three captions');
    checkWhole(t, dstDir);
    const undeliverable = [...first.stdout.matchAll(/\n {2}(\w+): the source's access-control profile/g)].map((x) => x[1]);
    t.same(filesUnder(join(dstDir, 'tmp', 'import')).filter((f) => !undeliverable.includes(f.split('__')[0])), [],
      'tmp/import keeps only downloads of entries the source refused half-way (for the next run)');
  });

  await t.test('the delivery answers are the source\'s, every format, the same flavor ids', async (t) => {
    const formats = ['format/applehttp/protocol/http/a.m3u8', 'format/mpegdash/protocol/http/manifest.mpd', 'format/url/protocol/http/a.mp4',
      'format/hdnetworkmanifest/protocol/http/a.f4m', 'format/url/flavorParamId/301971/video.mp4', 'format/sl/protocol/http/Manifest', 'format/download/protocol/http/a.mp4'];
    const answer = async (base: string, path: string) => {
      const r = await fetch(`${base}${path}`, { redirect: 'manual' });
      // media URLs signed with each server's own secret differ by their signature only
      const unsigned = (s: string) => s.split(base).join('BASE').replace(/\/exp\/\d+\/sig\/[^/"\s]+/g, '/exp/T/sig/S');
      return { status: r.status, type: r.headers.get('content-type'), location: unsigned(r.headers.get('location') ?? ''), body: unsigned(await r.text()) };
    };
    for (const id of ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_kssecure']) {
      for (const f of formats) {
        const path = `/p/309/sp/30900/playManifest/entryId/${id}/${f}`;
        t.same(await answer(dst.url, path), await answer(src.url, path), `${id} ${f}`);
      }
    }
    // with the session the rule asks for, both play; the HLS master names the flavor ids of the source
    const withKs = `/p/309/sp/30900/playManifest/entryId/1_alt0audi/format/applehttp/protocol/http`;
    const [sm, dm] = [await answer(src.url, `${withKs}/ks/${S.ks}/a.m3u8`), await answer(dst.url, `${withKs}/ks/${D.ks}/a.m3u8`)];
    t.equal(dm.status, 200);
    t.equal(dm.body.replaceAll(D.ks, 'KS'), sm.body.replaceAll(S.ks, 'KS'), '1_alt0audi with a session: the same master');
    t.match(dm.body, /flavorId\/1_f1alt000\//);
  });

  await t.test('the Kaltura web player plays an imported entry', async (t) => {
    await playsInKalturaPlayer(t, dst, '1_rcit0qgs');
  });

  await t.test('a second run fetches only what changed', async (t) => {
    const again = await cmd.kdeliver(args, env);
    t.equal(again.code, 0, again.stderr);
    t.match(again.stdout, new RegExp(`: 0 imported, ${imported.length} unchanged, .*; \\d+ files?, 0 B downloaded`), `nothing fetched again:\n${again.stdout}`);
    t.notMatch(again.stdout, /created here/, 'the partner and its secrets stay');
    await S.call(kaltura.services.baseEntry.update('1_rcit0qgs', new kaltura.objects.BaseEntry({ name: 'Renamed at the source' })));
    const changed = await cmd.kdeliver(args, env);
    t.equal(changed.code, 0, changed.stderr);
    t.match(changed.stdout, /: 1 imported, /, 'the renamed entry is imported again');
    t.match(changed.stdout, /; \d+ files?, 0 B downloaded/, 'without downloading its unchanged flavors');
    t.equal((await D.call(kaltura.services.baseEntry.get('1_rcit0qgs'))).name, 'Renamed at the source');
    // a flavor deleted and a caption replaced at the source: the next run follows, and removes the files no longer named
    await S.call(kaltura.services.flavorAsset.deleteAction('1_f4rcit00'));
    await S.call(kaltura.services.captionAsset.setContent(cap.id, new kaltura.objects.StringResource({ content: SRT.replace('Bonjour', 'Salut') })));
    const oldFiles = filesUnder(join(dstDir, 'media'));
    const follow = await cmd.kdeliver(args, env);
    t.equal(follow.code, 0, follow.stderr);
    t.match(follow.stdout, /: 2 imported, /, 'the two entries are imported again');
    t.match(follow.stderr, new RegExp(`1_alt0audi caption ${cap.id}: `), 'the new caption is fetched');
    const dFlavors = (await D.call(kaltura.services.flavorAsset.listAction(new kaltura.objects.FlavorAssetFilter({ entryIdEqual: '1_rcit0qgs' })))).objects.map((f: Any) => f.id);
    t.notOk(dFlavors.includes('1_f4rcit00'), 'the deleted flavor is gone here');
    const caption = await (await fetch(`${dst.url}/api_v3/service/caption_captionAsset/action/serve?captionAssetId=${cap.id}&ks=${D.ks}`)).text();
    t.match(caption, /Salut de kdeliver/, 'the caption has its new content');
    const newFiles = filesUnder(join(dstDir, 'media'));
    t.same(oldFiles.filter((f) => !newFiles.includes(f)).sort(), ['309/1_alt0audi/' + `${cap.id}-v1.srt`, '309/1_rcit0qgs/1_f4rcit00-v1.3gp'].sort(), 'and the files no longer named are removed');
    checkWhole(t, dstDir);

    // a profile changed at the source, its entries not: the rules follow on the next run
    const preview = new kaltura.objects.Rule({
      contexts: [new kaltura.objects.AccessControlContextTypeHolder({ type: 1 })],
      actions: [new kaltura.objects.AccessControlPreviewAction({ limit: 3 })],
    });
    await S.call(kaltura.services.accessControlProfile.update(acp.id, new kaltura.objects.AccessControlProfile({ rules: [rule, preview] })));
    const rules = await cmd.kdeliver(args, env);
    t.equal(rules.code, 0, rules.stderr);
    const [sa, da] = [await S.call(kaltura.services.accessControlProfile.get(acp.id)), await D.call(kaltura.services.accessControlProfile.get(acp.id))];
    t.equal(da.rules.length, 2, 'the profile has its new rule here');
    t.same(da.rules, sa.rules, 'the same rules as the source');
  });

  await t.test('kdeliver export of the imported library is a library file like any other', async (t) => {
    const out = join(work, 'exported.json');
    const exported = await cmd.kdeliver(['export', out], env);
    t.equal(exported.code, 0, exported.stderr);
    const { library } = readLibraryFile(out);
    t.same(library.entries!.map((e) => e.id).sort(), [...imported].sort(), 'the imported entries, under their ids');
    const alt = library.entries!.find((e) => e.id === '1_alt0audi')!;
    t.same(alt.flavors!.map((f) => f.id).sort(), ['1_a1alt000', '1_a2alt000', '1_f1alt000', '1_f2alt000']);
    t.equal(alt.captions!.length, 3);
    t.equal(alt.accessControlProfileId, acp.id);
    const again = await cmd.kdeliver(['import', out], { KDELIVER_DATA_DIR: join(work, 'reimported'), KDELIVER_SAMPLE_LIBRARY: 'false' });
    t.equal(again.code, 0, `kdeliver import reads it back: ${again.stderr}`);
  });

  await dst.stop();
  await src.stop();
});

t.test('the source stops in the middle of a download: nothing half-written, the next run resumes', async (t) => {
  // the source is reached through a slow proxy (its public URL), so that downloads take seconds
  const proxy = slowProxy();
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { proxy.server.closeAllConnections(); proxy.server.close(() => r()); }));
  const proxyUrl = `http://127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
  const srcEnv = { KDELIVER_DATA_DIR: join(work, 'source2'), KDELIVER_SAMPLE_LIBRARY: 'true', KDELIVER_PUBLIC_URL: proxyUrl, ...quiet };
  let src: Served = await cmd.serve(srcEnv);
  proxy.upstream = src.url;
  const dstDir = join(work, 'imported2');
  const env = { KDELIVER_DATA_DIR: dstDir, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const args = ['import-kaltura', '--service-url', proxyUrl, '--partner-id', '309', '--admin-secret', SOURCE_SECRET, '--entry-ids', '1_rcit0qgs', '--jobs', '2'];

  const running = cmd.kdeliver(args, env);
  const tmp = join(dstDir, 'tmp', 'import');
  // a download that ends between the listing and its stat has been renamed away: none under way
  const partial = () => filesUnder(tmp).filter((f) => f.endsWith('.part')).map((f) => statSync(join(tmp, f), { throwIfNoEntry: false })?.size ?? 0);
  for (const end = Date.now() + 30_000; !partial().some((n) => n > 300_000) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
  t.ok(partial().some((n) => n > 300_000), 'a download is under way');
  // the source dies: the connections through which it was sending drop at once, and nothing
  // answers until it is back. Cut first, then kill: on a busy machine the kill takes long enough
  // for the slow downloads to finish through a proxy still passing them on, leaving nothing to resume
  proxy.cut();
  await src.kill();
  const stopped = await running;
  t.equal(stopped.code, 1, `the run fails:\n${stopped.stdout}\n${stopped.stderr}`);
  t.match(stopped.stdout, /\nfailed:\n {2}1_rcit0qgs: /, 'the entry is listed as failed, with the reason');
  t.notMatch(stopped.stdout + stopped.stderr, /\n\s+at /, 'no stack trace');
  const db = catalogOf(dstDir);
  t.same(db.prepare("SELECT id FROM entries WHERE id = '1_rcit0qgs'").all(), [], 'the catalog has no half-imported entry');
  t.same(db.prepare('SELECT id FROM flavor_assets').all(), [], 'nor flavors');
  db.close();
  t.same(filesUnder(join(dstDir, 'media')), [], 'the media root has nothing of it');
  const kept = partial();
  t.ok(kept.some((n) => n > 0), `partial downloads stay for the next run (${kept.join(', ')} bytes)`);

  src = await cmd.serve(srcEnv);
  proxy.upstream = src.url;
  proxy.down = false;
  proxy.log.length = 0;
  const resumed = await cmd.kdeliver(args, env);
  t.equal(resumed.code, 0, `the next run completes:\n${resumed.stdout}\n${resumed.stderr}`);
  t.match(resumed.stdout, /: 1 imported, /);
  t.match(resumed.stderr, /\(resumed at \d+ bytes\)/, 'it says a file was resumed');
  const ranged = proxy.log.filter((l) => /^bytes=[1-9]\d*-$/.test(l.range ?? ''));
  // playManifest redirects the ranged GET to the file (302), which answers the range (206)
  t.ok(ranged.some((l) => l.status === 206) && ranged.every((l) => l.status === 206 || l.status === 302),
    `it asked for the rest with a ranged GET, answered 206 (${JSON.stringify(ranged)})`);
  const db2 = catalogOf(dstDir);
  const flavors = db2.prepare("SELECT id, file_path FROM flavor_assets WHERE entry_id = '1_rcit0qgs' ORDER BY id").all() as Any[];
  db2.close();
  t.same(flavors.map((f) => f.id), ['1_f0rcit00', '1_f1rcit00', '1_f2rcit00', '1_f3rcit00', '1_f4rcit00']);
  const fixtures = join(projectRoot, 'fixtures', 'media');
  const files: Record<string, string> = { '1_f0rcit00': 'source-720p.mp4', '1_f1rcit00': 'h264-240p.mp4', '1_f2rcit00': 'h264-360p.mp4', '1_f3rcit00': 'h264-720p.mp4', '1_f4rcit00': 'mobile-144p.3gp' };
  for (const f of flavors) t.equal(sha(join(dstDir, 'media', f.file_path)), sha(join(fixtures, files[f.id])), `${f.id} is byte-identical to the source's`);
  checkWhole(t, dstDir);
  t.same(filesUnder(tmp), [], 'no partial file is left');

  // now the importer itself is killed (kill -9) in the middle of a download
  const args2 = [...args.slice(0, -4), '--entry-ids', '1_kssecure', '--jobs', '2'];
  const child = spawn('kdeliver', args2, { env: { ...cleanEnv, PATH: `${join(work, 'bin')}:${process.env.PATH}`, ...env }, stdio: 'ignore' });
  const exited = new Promise<string | null>((r) => child.on('exit', (_code, signal) => r(signal)));
  for (const end = Date.now() + 30_000; !partial().some((n) => n > 300_000) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
  t.ok(partial().some((n) => n > 300_000), 'the importer is downloading');
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  const db3 = catalogOf(dstDir);
  t.same(db3.prepare("SELECT id FROM entries WHERE id = '1_kssecure'").all(), [], 'after kill -9: no half-imported entry in the catalog');
  db3.close();
  checkWhole(t, dstDir);
  t.same(filesUnder(join(dstDir, 'media')).filter((f) => f.includes('1_kssecure')), [], 'nor any of its files in the media root');
  proxy.log.length = 0;
  const after = await cmd.kdeliver(args2, env);
  t.equal(after.code, 0, `the next run completes:\n${after.stdout}\n${after.stderr}`);
  t.ok(proxy.log.some((l) => /^bytes=[1-9]\d*-$/.test(l.range ?? '') && l.status === 206), 'resuming what the killed run had fetched');
  checkWhole(t, dstDir);
  t.same(filesUnder(tmp), [], 'no partial file is left');
  await src.stop();
});

t.test('refusals: one line, non-zero exit, no stack trace', async (t) => {
  const src = await cmd.serve({ KDELIVER_DATA_DIR: join(work, 'source3'), KDELIVER_SAMPLE_LIBRARY: 'true', ...quiet });
  const html = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html><body>Welcome</body></html>'); });
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => html.close(() => r())));
  const htmlUrl = `http://127.0.0.1:${(html.address() as { port: number }).port}`;
  const env = { KDELIVER_DATA_DIR: join(work, 'refused'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const cases: [string, string[], RegExp][] = [
    ['a wrong admin secret', ['--service-url', src.url, '--partner-id', '309', '--admin-secret', 'not-the-secret'], /refused an admin session for partner 309: wrong admin secret, or no such partner \(START_SESSION_ERROR\)/],
    ['a partner that does not exist', ['--service-url', src.url, '--partner-id', '4242', '--admin-secret', SOURCE_SECRET], /refused an admin session for partner 4242: wrong admin secret, or no such partner/],
    ['a web page that is not api_v3', ['--service-url', htmlUrl, '--partner-id', '309', '--admin-secret', SOURCE_SECRET], /did not answer as Kaltura's api_v3 does \(text "<html><body>Welcome<\/body><\/html>"\); is it a Kaltura service URL\?/],
    ['a URL of the server that is not api_v3', ['--service-url', `${src.url}/p/309/thumbnail`, '--partner-id', '309', '--admin-secret', SOURCE_SECRET], /answered HTTP 404; is it a Kaltura api_v3 service URL\?/],
    ['nothing listening', ['--service-url', 'http://127.0.0.1:1', '--partner-id', '309', '--admin-secret', SOURCE_SECRET], /cannot reach http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/],
  ];
  for (const [what, a, message] of cases) {
    const r = await cmd.kdeliver(['import-kaltura', ...a, '--all'], env);
    t.equal(r.code, 1, `${what}: exit 1`);
    t.equal(r.stdout, '', `${what}: nothing on stdout`);
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${what}: one line: ${r.stderr}`);
    t.match(r.stderr, /^kdeliver import-kaltura: /, what);
    t.match(r.stderr, message, what);
    t.notMatch(r.stderr, SOURCE_SECRET, `${what}: the secret is not repeated`);
  }
  const usage = await cmd.kdeliver(['import-kaltura', '--service-url', src.url, '--partner-id', '309', '--admin-secret', 'x'], env);
  t.equal(usage.code, 2, 'neither --all nor --entry-ids: a usage error');
  t.match(usage.stderr, /give either --entry-ids ID,ID… or --all/);
  t.notOk(existsSync(join(work, 'refused', 'catalog.sqlite')), 'a refused run makes no catalog (nor a partner)');

  // a source whose ids are paths: refused, nothing written outside the data directory
  const evil = createServer((req, res) => {
    // kaltura-client asks for services in lower case (baseentry, caption_captionasset)
    const action = /\/service\/(\w+)\/action\/(\w+)/.exec(req.url ?? '')?.slice(1).join('.').toLowerCase().replace('caption_captionasset', 'captionasset');
    const answers: Record<string, unknown> = {
      'session.start': 'djJ8MzA5fGV2aWwtc2Vzc2lvbi1mb3ItdGhlLXRlc3Q=',
      'partner.get': { objectType: 'KalturaAPIException', code: 'SERVICE_FORBIDDEN', message: 'no' },
      'baseentry.list': { objectType: 'KalturaBaseEntryListResponse', totalCount: 2, objects: [
        { id: '../../evil', partnerId: 309, status: 2, type: 1, mediaType: 1, createdAt: 1, updatedAt: 1 },
        { id: '1_okentry', partnerId: 309, status: 2, type: 1, mediaType: 1, createdAt: 2, updatedAt: 2 }] },
      'flavorasset.list': { objectType: 'KalturaFlavorAssetListResponse', totalCount: 1, objects: [{ id: '../../../evil2', entryId: '1_okentry', flavorParamsId: 0, status: 2, version: 1 }] },
      'captionasset.list': { objectType: 'KalturaCaptionAssetListResponse', totalCount: 0, objects: [] },
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answers[action ?? ''] ?? { objectType: 'KalturaAPIException', code: 'SERVICE_DOES_NOT_EXISTS', message: 'no' }));
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => evil.close(() => r())));
  const evilDir = join(work, 'evil', 'data');
  const fromEvil = await cmd.kdeliver(['import-kaltura', '--service-url', `http://127.0.0.1:${(evil.address() as { port: number }).port}`, '--partner-id', '309', '--admin-secret', 'x', '--all'], { KDELIVER_DATA_DIR: evilDir, KDELIVER_SAMPLE_LIBRARY: 'false' });
  t.equal(fromEvil.code, 1, 'ids that are paths fail their entries');
  t.match(fromEvil.stdout, /\n {2}\.\.\/\.\.\/evil: entry id "\.\.\/\.\.\/evil" is not 1-64 characters/);
  t.match(fromEvil.stdout, /\n {2}1_okentry: asset id "\.\.\/\.\.\/\.\.\/evil2" is not 1-64 characters/);
  t.same(filesUnder(join(work, 'evil')).filter((f) => !f.startsWith('data/')), [], 'nothing outside the data directory');
  t.same(filesUnder(join(evilDir, 'media')), [], 'nor in its media root');

  // --no-media, --as-partner, an unknown entry id, the secret on standard input
  const opts = { KDELIVER_DATA_DIR: join(work, 'options'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const some = ['import-kaltura', '--service-url', src.url, '--partner-id', '309', '--admin-secret', '-', '--entry-ids', '1_rcit0qgs,1_nosuch00', '--as-partner', '500'];
  const withStdin = (a: string[]) => run('bash', ['-c', `echo ${SOURCE_SECRET} | kdeliver "$@"`, 'bash', ...a], { env: { PATH: `${join(work, 'bin')}:${process.env.PATH}`, ...opts } });
  const catalogOnly = await withStdin([...some, '--no-media']);
  t.equal(catalogOnly.code, 1, 'an unknown entry fails the run');
  t.match(catalogOnly.stdout, /\nfailed:\n {2}1_nosuch00: baseEntry\.get 1_nosuch00: ENTRY_ID_NOT_FOUND/, 'and is listed with the source\'s reason');
  t.match(catalogOnly.stdout, /partner 309 into partner 500: 1 imported, /);
  const db = catalogOf(opts.KDELIVER_DATA_DIR);
  t.same(db.prepare("SELECT partner_id AS p, status FROM entries WHERE id = '1_rcit0qgs'").get(), { p: 500, status: 0 }, '--no-media: the entry, IMPORT, under --as-partner');
  t.same(db.prepare("SELECT DISTINCT status FROM flavor_assets WHERE entry_id = '1_rcit0qgs'").pluck().all(), [7], 'its flavors IMPORTING, without files');
  db.close();
  t.same(filesUnder(join(opts.KDELIVER_DATA_DIR, 'media')).filter((f) => /\.(mp4|3gp)$/.test(f)), [], 'no flavor file fetched');
  const full = await withStdin(['import-kaltura', ...some.slice(1, -4), '--entry-ids', '1_rcit0qgs', '--as-partner', '500']);
  t.equal(full.code, 0, full.stderr);
  t.match(full.stdout, /: 1 imported, .*; 5 files, /, 'a run without --no-media fetches the files');
  const db2 = catalogOf(opts.KDELIVER_DATA_DIR);
  t.same(db2.prepare("SELECT status FROM entries WHERE id = '1_rcit0qgs'").pluck().get(), 2, 'the entry is READY');
  db2.close();
  checkWhole(t, opts.KDELIVER_DATA_DIR);
  await src.stop();
});

/** A proxy that sends media bodies at about 1 MB/s and records each request's Range and answer. */
function slowProxy(): { server: Server; upstream: string; down: boolean; log: { path: string; range?: string; status: number }[]; cut: () => void } {
  const open = new Set<ServerResponse>();
  const state = {
    upstream: '',
    /** Cut: every new connection is dropped, as by a dead source, until this is set false. */
    down: false,
    log: [] as { path: string; range?: string; status: number }[],
    server: null as unknown as Server,
    /** Ends every answer under way as a dead source would: the connection drops; so do later ones. */
    cut: () => {
      state.down = true;
      for (const r of open) r.destroy();
    },
  };
  state.server = createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    open.add(res);
    res.on('close', () => open.delete(res));
    const u = new URL(state.upstream);
    const up = httpRequest({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: { ...req.headers, host: u.host } }, (ur: IncomingMessage) => {
      state.log.push({ path: (req.url ?? '').slice(0, 80), range: req.headers.range, status: ur.statusCode ?? 0 });
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      const slow = /^(video|audio)\//.test(String(ur.headers['content-type'])) || Number(ur.headers['content-length']) > 100_000;
      if (!slow) { ur.pipe(res); return; }
      ur.on('data', (chunk: Buffer) => {
        ur.pause();
        res.write(chunk, () => setTimeout(() => ur.resume(), Math.ceil(chunk.length / 1000)));
      });
      ur.on('end', () => res.end());
      ur.on('error', () => res.destroy());
      ur.on('aborted', () => res.destroy());
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(); });
    req.pipe(up);
  });
  return state as any;
}

interface PageState { errors: string[]; loaded: boolean; maxTime: number }

/** The Kaltura web player (the page of test/e2e/player-kaltura.test.ts) plays an entry of a server past 5 s. */
async function playsInKalturaPlayer(t: Test, server: Served, entryId: string) {
  const pageUrl = await servePlayerPage(t);
  const browser = await launchBrowser(t);
  const ctx = await browser.newContext();
  const p: Page = await ctx.newPage();
  const log: string[] = [];
  const requests: string[] = [];
  p.on('request', (r) => requests.push(r.url()));
  p.on('console', (m) => log.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
  await p.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
  const q = new URLSearchParams({ serviceUrl: `${server.url}/api_v3`, cdnUrl: server.url, partnerId: '309', entryId });
  await p.goto(`${pageUrl}?${q}`);
  let st: PageState = { errors: [], loaded: false, maxTime: 0 };
  for (const end = Date.now() + 40_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
    st = await p.evaluate(() => (window as unknown as { __state: PageState }).__state);
    if (st.maxTime > 5.2 || st.errors.length) break;
  }
  t.same(st.errors, [], 'no player error', { log: log.slice(-20) });
  t.ok(st.loaded, 'the media loaded through api_v3');
  t.ok(st.maxTime > 5.2, `played past 5 s (reached ${st.maxTime.toFixed(2)} s)`);
  t.ok(requests.some((u) => new RegExp(`/playManifest/entryId/${entryId}/.*flavorIds/`).test(u)), 'from a playManifest URL built with the imported flavor ids');
  t.ok(requests.some((u) => u.startsWith(`${server.url}/hls/`)), 'and HLS from the packager');
  await ctx.close();
}
