// flavorAsset.getUrl's parameters over HTTP (README, "flavorAsset.getUrl"): options[fileName]
// names the download (the URL becomes the download action's with file_name, as Kaltura's
// getDownloadUrl), and options[referrer] is the referrer the DOWNLOAD rules judge and rides in the
// URL, so a site-restricted flavor downloads with the URL it gives; storageId is playManifest's
// storageId, whose format/download redirects to that storage's copy; forceProxy is accepted. Every
// URL returned is fetched and its answer checked.
import t from 'tap';
import { startServer } from '../helpers/server.js';

t.test('flavorAsset.getUrl options', async (t) => {
  const s = await startServer(t);
  /** A form POST, as the documentation's curl lines send it. */
  const getUrl = async (fields: Record<string, string>): Promise<any> => {
    const res = await fetch(`${s.url}/api_v3/service/flavorAsset/action/getUrl`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ format: '1', ...fields }).toString(),
    });
    t.equal(res.status, 200);
    return res.json();
  };
  const start = async (secret: string, type: number): Promise<string> =>
    (await (await fetch(`${s.url}/api_v3/service/session/action/start?format=1&secret=${secret}&partnerId=309&type=${type}&userId=u1`)).json()) as string;
  const adminKs = await start('sample-admin-secret-309', 2);
  const userKs = await start('sample-user-secret-309', 0);
  const OPTS = { 'options[objectType]': 'KalturaFlavorAssetUrlOptions' };
  const sizeOf = async (id: string): Promise<number> => (await s.app.catalog.getFlavor(id))!.size;

  await t.test('options[fileName] names the downloaded file', async (t) => {
    const plain: string = await getUrl({ ks: adminKs, id: '1_f3rcit00' });
    const named: string = await getUrl({ ks: adminKs, id: '1_f3rcit00', ...OPTS, 'options[fileName]': 'hd.mp4' });
    t.type(named, 'string');
    t.not(named, plain, 'not the URL given without options');
    t.match(named, /\/p\/309\/sp\/30900\/download\/entry_id\/1_rcit0qgs\/flavor\/1_f3rcit00\/file_name\/hd\.mp4$/, "Kaltura's getDownloadUrl form");

    const r = await fetch(named);
    t.equal(r.status, 200, 'the URL downloads');
    t.equal(r.headers.get('content-disposition'), 'attachment; filename="hd.mp4"', 'named as asked');
    t.equal((await r.arrayBuffer()).byteLength, await sizeOf('1_f3rcit00'), 'the whole flavor');

    const p = await fetch(plain);
    t.equal(p.status, 200);
    t.notMatch(p.headers.get('content-disposition') ?? '', 'hd.mp4', 'without the option the entry names it');
    await p.arrayBuffer();

    const bare: string = await getUrl({ ks: adminKs, id: '1_f3rcit00', ...OPTS, 'options[fileName]': 'report' });
    const b = await fetch(bare);
    t.equal(b.headers.get('content-disposition'), 'attachment; filename="report.mp4"', 'a name without extension gets the flavor\'s');
    await b.arrayBuffer();
  });

  await t.test('a file name with a slash still gives a URL that downloads', async (t) => {
    // a path segment cannot carry an encoded slash (the URL parser refuses %2F and %5C): they become _
    for (const [name, saved] of [['AC/DC live.mp4', 'AC_DC live.mp4'], ['part 1\\2', 'part 1_2.mp4'], ['..', '_.mp4'], ['.', '_.mp4']]) {
      const named: string = await getUrl({ ks: adminKs, id: '1_f1rcit00', ...OPTS, 'options[fileName]': name });
      t.notMatch(named, /%2F|%5C/i, name);
      const r = await fetch(named);
      t.equal(r.status, 200, `${name}: the URL downloads`);
      t.equal(r.headers.get('content-disposition'), `attachment; filename="${saved}"`);
      await r.arrayBuffer();
    }
  });

  await t.test('options[referrer] is judged by the site rule and carried in the URL', async (t) => {
    t.match(await getUrl({ ks: userKs, id: '1_f2site00' }), { code: 'ACCESS_CONTROL_RESTRICTED' }, 'no referrer: refused');
    t.match(await getUrl({ ks: userKs, id: '1_f2site00', ...OPTS, 'options[referrer]': 'https://evil.example.net/page' }), { code: 'ACCESS_CONTROL_RESTRICTED' }, 'another site: refused');

    const url: string = await getUrl({ ks: userKs, id: '1_f2site00', ...OPTS, 'options[referrer]': 'https://www.example.com/page' });
    t.type(url, 'string', 'the allowed site gets a URL');
    const ref = Buffer.from('https://www.example.com/page').toString('base64url');
    t.match(url, `/referrer/${ref}/`, 'the URL carries the referrer');
    const r = await fetch(url);
    t.equal(r.status, 200, 'and plays');
    t.equal((await r.arrayBuffer()).byteLength, await sizeOf('1_f2site00'));

    const stripped = await fetch(url.replace(`/referrer/${ref}`, ''));
    t.equal(stripped.status, 403, 'the same URL without the referrer is refused');
    await stripped.arrayBuffer();

    const named: string = await getUrl({ ks: userKs, id: '1_f2site00', ...OPTS, 'options[referrer]': 'https://www.example.com/page', 'options[fileName]': 'site.mp4' });
    t.match(named, `/download/entry_id/1_siteonly/flavor/1_f2site00/referrer/${ref}/`);
    const n = await fetch(named);
    t.equal(n.status, 200, 'fileName and referrer together download');
    t.equal(n.headers.get('content-disposition'), 'attachment; filename="site.mp4"');
    t.equal((await n.arrayBuffer()).byteLength, await sizeOf('1_f2site00'));
  });

  await t.test('forceProxy is accepted; storageId asks for that storage', async (t) => {
    const plain: string = await getUrl({ ks: adminKs, id: '1_f3rcit00' });
    t.equal(await getUrl({ ks: adminKs, id: '1_f3rcit00', forceProxy: 'true' }), plain, 'forceProxy: the same URL');
    const missing = await getUrl({ ks: adminKs, id: '1_f3rcit00', storageId: '999' });
    t.match(missing, { objectType: 'KalturaAPIException', code: 'STORAGE_PROFILE_ID_NOT_FOUND' }, 'an unknown storage is named');
    // Kaltura's own data centre is storage 0, which its getUrl and playManifest read as none asked for
    t.equal(await getUrl({ ks: adminKs, id: '1_f3rcit00', storageId: '0' }), plain, 'storageId 0: the URL of the copy held here');
    const withZero = plain.replace('/format/download/', '/storageId/0/format/download/');
    t.not(withZero, plain, 'the URL names storageId 0');
    const here = await fetch(withZero, { redirect: 'manual' });
    t.equal(here.status, 302, 'playManifest with storageId/0 serves the copy held here');
    await here.arrayBuffer();
  });

  await t.test("a URL that needs a session carries one made for it, never the caller's KS", async (t) => {
    // the documentation's recipe: an admin KS asks, the URL goes to a viewer ("Download HD")
    const session = async (ks: string) => (await (await fetch(`${s.url}/api_v3/service/session/action/get?format=1&ks=${encodeURIComponent(ks)}`)).json()) as any;
    for (const [id, fields] of [['1_f1kssec0', {}], ['1_f1kssec0', { ...OPTS, 'options[fileName]': 'secure.mp4' }]] as const) {
      const url: string = await getUrl({ ks: adminKs, id, ...fields });
      t.type(url, 'string', `${id}: a URL`);
      t.notOk(url.includes(adminKs), 'the admin KS is not in it');
      t.match(url, /\/download\/entry_id\/1_kssecure\/flavor\/1_f1kssec0\/ks\/[^/]+/, "the download action's form");
      const minted = /\/ks\/([^/?]+)/.exec(url)![1];
      t.match(await session(minted), { sessionType: 0, partnerId: 309, privileges: /^download:1_kssecure(,|$)/ }, 'a user KS that may download this entry only');
      const r = await fetch(url);
      t.equal(r.status, 200, 'and it downloads');
      t.equal((await r.arrayBuffer()).byteLength, await sizeOf(id));
      if ('options[fileName]' in fields) t.equal(r.headers.get('content-disposition'), 'attachment; filename="secure.mp4"');
      const other = await fetch(`${s.url}/p/309/sp/30900/download/entry_id/1_siteonly/ks/${minted}`, { redirect: 'manual' });
      t.equal(other.status, 403, 'the KS opens no other entry');
      await other.arrayBuffer();
    }
    const viewer = await (await fetch(`${s.url}/api_v3/service/session/action/start?format=1&secret=sample-user-secret-309&partnerId=309&type=0&privileges=sview:1_kssecure`)).json() as string;
    const url: string = await getUrl({ ks: viewer, id: '1_f2kssec0' });
    t.notOk(url.includes(viewer), "a user's KS is not put in the URL either");
  });

  await t.test('storageId of a storage holding a copy of the flavor', async (t) => {
    // a storage of partner 309 with copies of 1_f3rcit00 only, written as `kdeliver import` writes them
    await s.app.catalog.library.write([
      { op: 'upsert', table: 'storage_profiles', row: { id: 701, partner_id: 309, name: 'bucket', base_url: 'https://bucket.example/media', delivery_profile_ids: JSON.stringify({ http: [1004] }), active: true } },
      { op: 'upsert', table: 'remote_files', row: { flavor_asset_id: '1_f3rcit00', storage_profile_id: 701, path: '/309/1_f3rcit00.mp4' } },
    ]);
    const url: string = await getUrl({ ks: adminKs, id: '1_f3rcit00', storageId: '701' });
    t.type(url, 'string', 'a URL');
    t.match(url, /\/playManifest\/entryId\/1_rcit0qgs\/flavorId\/1_f3rcit00\/protocol\/http\/storageId\/701\/format\/download\//, 'playManifest naming the storage');
    // format/download is a 302 to the flavor's delivery URL; on a remote storage that is the
    // storage's copy: its base URL (the scheme the URL's protocol names) and the copy's path
    const r = await fetch(url, { redirect: 'manual' });
    t.equal(r.status, 302, 'playManifest redirects');
    t.equal(r.headers.get('location'), 'http://bucket.example/media/309/1_f3rcit00.mp4', 'to the copy on that storage');
    await r.arrayBuffer();
    const local = await fetch(await getUrl({ ks: adminKs, id: '1_f3rcit00' }), { redirect: 'manual' });
    t.notMatch(local.headers.get('location') ?? '', 'bucket.example', 'without storageId: served here, not from the storage');
    await local.arrayBuffer();
    t.match(await getUrl({ ks: adminKs, id: '1_f1rcit00', storageId: '701' }), { code: 'FLAVOR_ASSET_ID_NOT_FOUND' }, 'a flavor with no copy there is refused');
  });

  await t.test('getDownloadUrl, the older action the PHP5 and older clients call, answers as getUrl', async (t) => {
    const call = async (fields: Record<string, string>): Promise<any> => {
      const res = await fetch(`${s.url}/api_v3/service/flavorAsset/action/getDownloadUrl`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ format: '1', ...fields }).toString(),
      });
      t.equal(res.status, 200);
      return res.json();
    };
    const url = await call({ ks: adminKs, id: '1_f3rcit00', useCdn: 'true' });
    t.equal(url, await getUrl({ ks: adminKs, id: '1_f3rcit00' }), 'the URL getUrl gives');
    const r = await fetch(url);
    t.equal(r.status, 200, 'and it downloads');
    t.equal((await r.arrayBuffer()).byteLength, await sizeOf('1_f3rcit00'));
    const secure: string = await call({ ks: adminKs, id: '1_f1kssec0' });
    t.notOk(secure.includes(adminKs), 'a protected flavor: a download KS of its own, not the caller\'s');
    t.equal((await fetch(secure, { method: 'HEAD' })).status, 200);
    t.match(await call({ ks: adminKs, id: '1_nosuch00' }), { code: 'FLAVOR_ASSET_ID_NOT_FOUND' });
    t.match(await call({ ks: adminKs, id: '1_f1conv00' }), { code: 'FLAVOR_ASSET_IS_NOT_READY', message: 'The flavor asset is not ready' });
    t.match(await call({ ks: userKs, id: '1_f2site00' }), { code: 'ACCESS_CONTROL_RESTRICTED' }, 'the DOWNLOAD rules apply');
    t.match(await call({ id: '1_f3rcit00' }), { code: 'MISSING_KS' });
  });

  await t.test('a flavor anonymous callers get a preview of: the whole file for a session that may have it', async (t) => {
    // 1_preview1: 5 s without a KS. The documented recipe (an admin KS asks for "a valid download
    // URL") must not hand out a URL that downloads the truncated preview
    const whole = await sizeOf('1_f1prev00');
    for (const action of ['getUrl', 'getDownloadUrl']) {
      const res = await fetch(`${s.url}/api_v3/service/flavorAsset/action/${action}?format=1&ks=${adminKs}&id=1_f1prev00`);
      const url = await res.json() as string;
      t.type(url, 'string', action);
      t.notOk(url.includes(adminKs), `${action}: not the admin KS`);
      const r = await fetch(url);
      t.equal(r.status, 200, action);
      t.equal((await r.arrayBuffer()).byteLength, whole, `${action}: the whole flavor for an admin`);
    }
    const anonymous = await fetch(await getUrl({ ks: userKs, id: '1_f1prev00' }));
    t.ok((await anonymous.arrayBuffer()).byteLength < whole, 'a session the rule gives a preview: the preview, as before');
  });

  await t.test("a session that may download only a preview gets a URL of that preview, never the whole file", async (t) => {
    // anonymous callers are blocked and user sessions get 3 s: the URL getUrl makes for such a
    // session carries a KS of its own, which must keep the preview (Kaltura adds its preview privilege)
    const { sqliteDb } = await import('../helpers/sqlite.js');
    const db = sqliteDb(s.app.catalog);
    const now = Math.floor(Date.now() / 1000);
    db.prepare('INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (903, 309, ?, ?, ?, ?)').run('blocked, or a 3 s preview', JSON.stringify([
      { contexts: ['DOWNLOAD', 'PLAY'], conditions: [{ type: 'authenticated', not: true }], actions: [{ type: 'block' }] },
      { contexts: ['DOWNLOAD', 'PLAY'], conditions: [{ type: 'sessionType', sessionType: 0 }], actions: [{ type: 'preview', limit: 3 }] },
    ]), now, now);
    db.prepare('UPDATE entries SET access_control_profile_id = 903 WHERE id = ?').run('1_flavlim0');
    t.teardown(() => db.prepare('UPDATE entries SET access_control_profile_id = 5 WHERE id = ?').run('1_flavlim0'));
    const viewer = await (await fetch(`${s.url}/api_v3/service/session/action/start?format=1&secret=sample-user-secret-309&partnerId=309&type=0&privileges=sview:*`)).json() as string;
    const whole = await sizeOf('1_f1flim00');
    const own = await fetch(`${s.url}/p/309/sp/30900/download/entry_id/1_flavlim0/flavor/1_f1flim00/ks/${viewer}/relocate/x.mp4`);
    const preview = (await own.arrayBuffer()).byteLength;
    t.ok(preview < whole, `the viewer's own KS downloads the preview (${preview} of ${whole} bytes)`);
    for (const action of ['getUrl', 'getDownloadUrl']) {
      const url = await (await fetch(`${s.url}/api_v3/service/flavorAsset/action/${action}?format=1&ks=${viewer}&id=1_f1flim00`)).json() as string;
      t.type(url, 'string', action);
      t.notOk(url.includes(viewer), `${action}: not the viewer's KS`);
      const r = await fetch(url);
      t.equal(r.status, 200, action);
      t.equal((await r.arrayBuffer()).byteLength, preview, `${action}: the preview, not the whole file`);
      // the URL's KS (download:{entry} and preview:{bytes}) taken to the raw action, which honours
      // the same download privilege: it must not open the whole original there either
      const urlKs = /\/ks\/([^/]+)/.exec(url)![1];
      const raw = await fetch(`${s.url}/p/309/sp/30900/raw/entry_id/1_flavlim0/ks/${urlKs}/relocate/a.mp4`);
      t.equal(raw.status, 200, `${action}'s KS on raw`);
      t.equal((await raw.arrayBuffer()).byteLength, preview, `${action}'s KS on raw: the preview's bytes, not the whole original`);
    }
    const admin = await (await fetch(`${s.url}/api_v3/service/flavorAsset/action/getUrl?format=1&ks=${adminKs}&id=1_f1flim00`)).json() as string;
    t.equal((await (await fetch(admin)).arrayBuffer()).byteLength, whole, 'an admin KS: the whole file');
    // a flavor whose size the catalog does not know (0): the budget comes from the file itself; a
    // budget of 0 bytes read as no budget and opened the whole file
    const size = db.prepare('SELECT size FROM flavor_assets WHERE id = ?').pluck().get('1_f1flim00');
    db.prepare('UPDATE flavor_assets SET size = 0 WHERE id = ?').run('1_f1flim00');
    t.teardown(() => db.prepare('UPDATE flavor_assets SET size = ? WHERE id = ?').run(size, '1_f1flim00'));
    const unsized = await (await fetch(`${s.url}/api_v3/service/flavorAsset/action/getUrl?format=1&ks=${viewer}&id=1_f1flim00`)).json() as string;
    t.equal((await (await fetch(unsized)).arrayBuffer()).byteLength, preview, 'a flavor of unknown size: still the preview');
  });
});
