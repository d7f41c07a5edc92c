// CDN tokenizers end to end: playManifest's media URLs on a delivery profile whose URL has a path
// (http://cdn/hls), fetched from an nginx that checks the token as the CDN does. nginx's
// secure_link_md5 computes CHT's token itself: base64url(md5(dirname(URI) + "/" + key + expires)),
// over the URI it is asked for, from the host root.
import t, { type Test } from 'tap';
import { startNginxWith } from '../helpers/nginx.js';
import { startServer } from '../helpers/server.js';
import { sqliteDb } from '../helpers/sqlite.js';

const cdn = await startNginxWith(t, (port) => `
  map $uri $cht_dir { "~^(?<dir>.*)/[^/]*$" $dir; }
  server {
    listen 127.0.0.1:${port};
    location / {
      secure_link $arg_token,$arg_expires;
      secure_link_md5 "$cht_dir/CHT-SECRET$arg_expires";
      if ($secure_link = "") { return 403; }
      if ($secure_link = "0") { return 410; }
      return 200 "ok\\n";
    }
  }`);
const s = await startServer(t);
const db = sqliteDb(s.app.catalog);
const addProfile = (id: number, url: string) => db.prepare(
  "INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, tokenizer) VALUES (?, 0, ?, 61, 'applehttp', ?, ?)",
).run(id, `CHT ${id}`, url, JSON.stringify({ type: 'cht', key: 'CHT-SECRET', window: 300 }));
addProfile(3013, `${cdn.url}/hls`);
addProfile(3014, cdn.url);

const variants = async (t: Test, profileId: number): Promise<string[]> => {
  const r = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/deliveryProfileId/${profileId}/a.m3u8`);
  t.equal(r.status, 200, `playManifest on profile ${profileId}`);
  return (await r.text()).split('\n').filter((l) => l.startsWith('http'));
};

t.test('CHT on a profile URL with a path: nginx secure_link_md5 accepts every variant URL', async (t) => {
  const urls = await variants(t, 3013);
  t.ok(urls.length >= 2, 'several variants');
  for (const u of urls) {
    t.match(u, new RegExp(`^${cdn.url}/hls/p/309/.*/index\\.m3u8\\?token=[\\w-]+&expires=\\d+$`));
    t.equal((await fetch(u)).status, 200, `accepted: ${new URL(u).pathname}`);
  }
  // the check is real: the same token on another folder, or without the profile's /hls, is refused
  const moved = urls[0].replace('/hls/p/309/', '/hls/p/310/');
  t.equal((await fetch(moved)).status, 403, 'another folder: refused');
  t.equal((await fetch(urls[0].replace('/hls/p/', '/p/'))).status, 403, 'without /hls: refused');
});

t.test('CHT on a profile URL without a path: accepted too', async (t) => {
  const urls = await variants(t, 3014);
  t.ok(urls.length >= 2);
  for (const u of urls) {
    t.match(u, new RegExp(`^${cdn.url}/p/309/`));
    t.equal((await fetch(u)).status, 200, `accepted: ${new URL(u).pathname}`);
  }
});
