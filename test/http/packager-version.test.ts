// The packager's /v/{n}, as serveFlavor's (test/http/serve-flavor-version.test.ts): the version of
// the flavor's file a URL was made for. In Kaltura the packager's mapping request for a version with
// no file sync gets an empty mapping, which nginx-vod-module answers 404; here every packager file
// (HLS TS and fMP4, I-frames, DASH, MSS, the encrypted key) of a URL naming a version other than the
// flavor's current one is error 5 (404), where it used to be packaged from the current file. Each URL
// of a .urlset carries its own v; a sequence URL's v is the entry's and is not a file's version.
// Kept playlists and kept segments are never sent under a version that is not the current one.
import t, { type Test } from 'tap';
import { startServer } from '../helpers/server.js';
import { fetchAnswer, type Res } from '../helpers/packager-answers.js';
import { sqliteDb } from '../helpers/sqlite.js';

const srv = await startServer(t);
const P = '/p/309/sp/30900/serveFlavor';
const at = (v: string | null, flavor = '1_f1rcit00') => `${P}/entryId/1_rcit0qgs${v === null ? '' : `/v/${v}`}/flavorId/${flavor}/name/a.mp4`;
const get = (path: string, method = 'GET'): Promise<Res> => fetchAnswer(srv.url + path, {}, method);

/** One URL per kind of packager file, for the flavor path `base(proto)`. */
const files = (base: (container: string) => string): string[] => [
  `/hls${base('')}/master.m3u8`,
  `/hls${base('')}/index.m3u8`,
  `/hls${base('')}/seg-1-v1-a1.ts`,
  `/hls${base('')}/iframes-v1.m3u8`,
  `/hls/container/fmp4${base('')}/index.m3u8`,
  `/hls/container/fmp4${base('')}/init-v1-a1.mp4`,
  `/hls/container/fmp4${base('')}/seg-1-v1-a1.m4s`,
  `/hls/container/fmp4${base('')}/iframes-1-v1.m4s`,
  `/dash${base('')}/manifest.mpd`,
  `/dash${base('')}/init-v1.mp4`,
  `/dash${base('')}/fragment-1-v1.m4s`,
  `/mss${base('')}/manifest`,
  `/mss${base('')}/QualityLevels(1)/Fragments(audio=0)`,
];

function refused(t: Test, r: Res, why: string): void {
  t.equal(r.status, 404, `${why}: 404`);
  t.equal(r.headers['x-kaltura'], 'error-5', `${why}: FILE_NOT_FOUND`);
  t.match(r.headers['x-kaltura-app'] ?? '', /has no file of version/, `${why}: says which version`);
  t.ok(r.body.length < 300, `${why}: a short error, not packaged media (${r.body.length} bytes)`);
}

t.test('the current version, none, or 0: every file is packaged', async (t) => {
  for (const v of ['1', null, '0']) {
    for (const url of files(() => at(v))) {
      const r = await get(url.replace('QualityLevels(1)', 'QualityLevels(' + await audioBitrate(at(v)) + ')'));
      t.equal(r.status, 200, `v ${v}: ${url}`);
    }
  }
});

t.test('another version: every file, GET and HEAD, is error 5', async (t) => {
  for (const v of ['9', '2', 'abc']) {
    for (const url of files(() => at(v))) {
      for (const method of ['GET', 'HEAD']) refused(t, await get(url, method), `${method} v ${v} ${url}`);
    }
  }
});

t.test('a .urlset: each URL its own version; one that is not current refuses the set', async (t) => {
  // playManifest's character-level form when the flavors' versions differ: v/,1/flavorId/..,9/flavorId/..,/name
  const set = (a: string, b: string) => `${P}/entryId/1_rcit0qgs/v/,${a}/flavorId/1_f1rcit00,${b}/flavorId/1_f2rcit00,/name/a.mp4.urlset`;
  t.equal((await get(`/hls${set('1', '1')}/master.m3u8`)).status, 200, 'both current');
  refused(t, await get(`/hls${set('1', '9')}/master.m3u8`), 'the second flavor at another version: the master');
  refused(t, await get(`/dash${set('9', '1')}/manifest.mpd`), 'the first flavor at another version: the MPD');
  refused(t, await get(`/hls${set('1', '9')}/index-f2.m3u8`), 'the stale flavor\'s own playlist');
  refused(t, await get(`/hls${set('1', '9')}/seg-1-f2-v1-a1.ts`), 'the stale flavor\'s own segment');
});

t.test('a sequence URL\'s v is the entry\'s version, not a file\'s: not checked', async (t) => {
  const seq = (v: string) => `/hls${P}/entryId/1_rcit0qgs/sequence/1_rcit0qgs,1_alt0audi/v/${v}/flavorParamIds/301961/name/a.mp4/index.m3u8`;
  const current = await get(seq('1'));
  t.equal(current.status, 200);
  const other = await get(seq('7'));
  t.equal(other.status, 200, 'the sequence plays at its flavors\' current files');
  t.ok(other.body.equals(current.body));
});

t.test('kept playlists and segments are not sent under another version; a new version retires the old URLs', async (t) => {
  const index = (v: string) => `/hls${at(v)}/index.m3u8`;
  const seg = (v: string) => `/hls${at(v)}/seg-2-v1-a1.ts`;
  // kept by timeline, by URL (answered before routing) and in the segment answer cache
  for (let i = 0; i < 3; i++) {
    t.equal((await get(index('1'))).status, 200);
    t.equal((await get(seg('1'))).status, 200);
  }
  refused(t, await get(index('2')), 'the kept playlist under another version');
  refused(t, await get(seg('2')), 'the kept segment under another version');
  // the flavor's file becomes version 2 (as an import from a Kaltura whose flavor was replaced has it)
  const db = sqliteDb(srv.app.catalog);
  db.prepare('UPDATE flavor_assets SET version = 2 WHERE id = ?').run('1_f1rcit00');
  try {
    refused(t, await get(index('1')), 'the playlist kept under version 1, after the flavor moved to 2');
    refused(t, await get(seg('1')), 'the segment kept under version 1, after the flavor moved to 2');
    t.equal((await get(index('2'))).status, 200, 'version 2 plays');
    t.equal((await get(seg('2'))).status, 200);
    // playManifest writes the new version into the URLs it gives
    const master = (await get('/p/309/sp/0/playManifest/entryId/1_rcit0qgs/flavorId/1_f1rcit00/format/applehttp/protocol/http/a.m3u8')).body.toString();
    t.match(master, /\/v\/2\/flavorId\/1_f1rcit00\//, 'playManifest names version 2');
  } finally {
    db.prepare('UPDATE flavor_assets SET version = 1 WHERE id = ?').run('1_f1rcit00');
  }
  t.equal((await get(index('1'))).status, 200, 'restored');
});

/** The MSS manifest's audio bitrate (its fragments are named by it). */
async function audioBitrate(flavorPath: string): Promise<string> {
  const xml = (await get(`/mss${flavorPath}/manifest`)).body.toString();
  return /<StreamIndex Type="audio"[\s\S]*?Bitrate="(\d+)"/.exec(xml)?.[1] ?? '0';
}
