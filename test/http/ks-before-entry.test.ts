// A KS is read before the entry is looked for, as Kaltura's playManifest (initEntry), raw,
// download and flvclipper crack it first: a KS that cannot be read, names no partner or is not
// signed by its partner is INVALID_KS (7) even when the entry does not exist. It used to be
// ENTRY_NOT_FOUND (1). A KS that reads and verifies leaves a missing entry error 1, expired or
// not (its expiry is judged after the entry, as in Kaltura).
import t from 'tap';
import { generateKs } from '../../src/access/ks.js';
import { signPlayManifestUrl } from '../../src/access/kt.js';
import { startServer } from '../helpers/server.js';

const s = await startServer(t);
const now = Math.floor(Date.now() / 1000);
const ks = (o: { secret?: string; partnerId?: number; expiry?: number } = {}) =>
  generateKs({ partnerId: o.partnerId ?? 309, secret: o.secret ?? 'sample-admin-secret-309', type: 0, userId: 'u', expiry: o.expiry ?? 3600, privileges: '', version: 2, now });
const codeOf = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(s.url + path, { redirect: 'manual', headers });
  await r.arrayBuffer();
  return r.headers.get('x-kaltura');
};

const routes = (id: string, k: string) => ({
  playManifest: `/p/309/sp/30900/playManifest/entryId/${id}/format/url/ks/${k}/a.mp4`,
  raw: `/p/309/sp/30900/raw/entry_id/${id}/ks/${k}`,
  download: `/p/309/sp/30900/download/entry_id/${id}/ks/${k}`,
  flvclipper: `/p/309/sp/30900/flvclipper/entry_id/${id}/ks/${k}`,
});

t.test('a bad KS on a missing entry: INVALID_KS, not ENTRY_NOT_FOUND', async (t) => {
  const bad = {
    garbage: 'garbage',
    'signed with another secret': ks({ secret: 'not-the-secret' }),
    'of a partner that does not exist': ks({ partnerId: 987654 }),
  };
  for (const [what, k] of Object.entries(bad)) {
    for (const [route, path] of Object.entries(routes('1_nosuch00', encodeURIComponent(k)))) {
      t.equal(await codeOf(path), 'error-7', `${route}, ${what}`);
    }
  }
  // the X-Kaltura-Ks header is read first as well
  t.equal(await codeOf('/p/309/sp/30900/playManifest/entryId/1_nosuch00/format/url/a.mp4', { 'x-kaltura-ks': 'garbage' }), 'error-7', 'the KS header');
});

t.test('a KS that reads and verifies: a missing entry is still error 1', async (t) => {
  for (const [what, k] of Object.entries({ good: ks(), expired: ks({ expiry: -60 }) })) {
    for (const [route, path] of Object.entries(routes('1_nosuch00', k))) {
      t.equal(await codeOf(path), 'error-1', `${route}, ${what} KS`);
    }
  }
  t.equal(await codeOf('/p/309/sp/30900/playManifest/entryId/1_nosuch00/format/url/a.mp4'), 'error-1', 'no KS');
});

t.test('an existing entry answers as before', async (t) => {
  t.equal(await codeOf(routes('1_audio001', 'garbage').playManifest), 'error-7', 'garbage KS');
  const ok = await fetch(s.url + routes('1_audio001', ks()).playManifest, { redirect: 'manual' });
  t.equal(ok.status, 302, 'a good KS plays');
  await ok.arrayBuffer();
});

t.test('with a valid kt, a KS is not read at all (as in Kaltura): the entry decides', async (t) => {
  const signed = (id: string) => new URL(signPlayManifestUrl(`${s.url}/p/309/sp/30900/playManifest/entryId/${id}/format/url/ks/garbage/a.mp4`, s.config.urlTokenSecret));
  const missing = signed('1_nosuch00');
  t.equal(await codeOf(missing.pathname + missing.search), 'error-1', 'a missing entry: error 1, the garbage KS unread');
  const there = signed('1_audio001');
  const r = await fetch(s.url + there.pathname + there.search, { redirect: 'manual' });
  t.equal(r.status, 302, 'an existing entry plays on the kt alone');
  await r.arrayBuffer();
});
