// serveFlavor's /v/{n}: the version of the flavor's file the URL was made for (src/delivery/urls.ts
// writes the current one). As in Kaltura's serveFlavor (`v`
// defaults to the asset's version; a version with no file is error 5 FILE_NOT_FOUND), a version
// this server has no file of is refused, where it used to be answered with the current file under
// the old URL (so that a cache keyed on the URL kept the wrong bytes for it). No `v`, an empty one
// or 0 mean the current version.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startServer } from '../helpers/server.js';

const s = await startServer(t);
const file240 = readFileSync('fixtures/media/h264-240p.mp4');
const url = (v: string | null) => `${s.url}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs${v === null ? '' : `/v/${v}`}/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4`;

t.test('the current version, or none named: the file', async (t) => {
  for (const v of ['1', null, '0']) {
    const r = await fetch(url(v));
    t.equal(r.status, 200, `v ${v}`);
    t.same(Buffer.from(await r.arrayBuffer()), file240, `v ${v}: the flavor's file`);
  }
});

t.test('a version that is not the current one: error 5, no bytes of the file', async (t) => {
  for (const v of ['9', '2', 'abc', '1x']) {
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(url(v), { method });
      t.equal(r.status, 404, `${method} v ${v}`);
      t.equal(r.headers.get('x-kaltura'), 'error-5', `${method} v ${v}: FILE_NOT_FOUND`);
      t.match(r.headers.get('x-kaltura-app') ?? '', /^exiting on error 5 - required file was not found, /);
      t.notMatch(r.headers.get('content-type') ?? '', /video/, 'not the media file');
      const body = Buffer.from(await r.arrayBuffer());
      t.ok(body.length < 200, `${method} v ${v}: a short error, not the file (${body.length} bytes)`);
    }
  }
});

t.test('access refusals and unknown flavors come first, as before', async (t) => {
  const r = await fetch(`${s.url}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/9/flavorId/1_nosuch00/name/a.mp4`);
  t.equal(r.headers.get('x-kaltura'), 'error-6', 'an unknown flavor is FLAVOR_NOT_FOUND whatever the version');
  await r.arrayBuffer();
});

t.test("the packager's URLs name the same version: another is error 5 there too", async (t) => {
  // the packager's URLs are serveFlavor's path under /hls, /dash, /mss (src/delivery/urls.ts); its
  // segments are sent immutable, so an old version's URL must not be answered with today's file
  const hls = (v: string) => `${s.url}/hls/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/${v}/flavorId/1_f1rcit00/name/a.mp4`;
  for (const file of ['index.m3u8', 'seg-1-v1-a1.ts']) {
    const ok = await fetch(`${hls('1')}/${file}`);
    t.equal(ok.status, 200, `${file} of the current version`);
    await ok.arrayBuffer();
    for (const v of ['9', 'abc']) {
      const r = await fetch(`${hls(v)}/${file}`);
      t.equal(r.status, 404, `${file} of v ${v}`);
      t.equal(r.headers.get('x-kaltura'), 'error-5', `${file} of v ${v}: FILE_NOT_FOUND`);
      await r.arrayBuffer();
    }
  }
  const dash = await fetch(`${s.url}/dash/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/9/flavorId/1_f1rcit00/name/a.mp4/manifest.mpd`);
  t.equal(dash.headers.get('x-kaltura'), 'error-5', 'DASH too');
  await dash.arrayBuffer();
});
