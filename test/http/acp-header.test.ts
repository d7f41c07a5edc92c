// X-Kaltura-ACP: as Kaltura's accessControl::applyContext does each time it evaluates an entry's
// access-control profile (playManifest, serveFlavor, raw, download, thumbnail, flvclipper), the
// answer names the profile and the zero-based indexes of the rules fulfilled
// (`5 0`; just `5` when none was, an admin KS skipping them), on answers and on the refusals that
// come after the evaluation. None for an entry without a profile, none when the request is
// refused before the rules run (a bad KS, an unsigned protected media URL), none from the packager
// (Kaltura's packager answers carry none). Answers from the caches carry exactly the header a
// server without caches sends.
import t from 'tap';
import { generateKs } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { startServer, type TestServer } from '../helpers/server.js';

let clock = 1_800_000_000;
const now = () => clock;
const env = { KDELIVER_MEDIA_URL_SECRET: 'acp-test-media-secret', KDELIVER_PUBLIC_URL: 'http://media.example.com' };
const cached = await startServer(t, { now, env });
const plain = await startServer(t, { now, env: { ...env, KDELIVER_MANIFEST_CACHE_ENTRIES: '0', KDELIVER_PLAYMANIFEST_CACHE_AGE: '0' } });
const s = cached;

const ks = (o: { type?: 0 | 2; privileges?: string } = {}) =>
  generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: o.type ?? 0, userId: 'viewer', expiry: 3600, privileges: o.privileges ?? '', version: 2, now: clock });
const PM = '/p/309/sp/30900/playManifest/entryId';

async function ask(srv: TestServer, path: string, init: RequestInit = {}) {
  const r = await fetch(srv.url + path, { redirect: 'manual', ...init });
  const body = Buffer.from(await r.arrayBuffer());
  const headers = Object.fromEntries([...r.headers].filter(([k]) => k !== 'date' && k !== 'keep-alive' && k !== 'connection'));
  return { status: r.status, acp: r.headers.get('x-kaltura-acp'), code: r.headers.get('x-kaltura')?.match(/error-(\d+)/)?.[1] ?? null, location: r.headers.get('location'), headers, body };
}

t.test('playManifest: the profile and the rules fulfilled, on answers and refusals', async (t) => {
  // profile 5's one rule has no condition: fulfilled for every caller but an admin (skipped)
  const a = await ask(s, `${PM}/1_flavlim0/format/url/protocol/http/a.mp4`);
  t.equal(a.status, 302);
  t.equal(a.acp, '5 0', 'profile 5, rule 0 fulfilled');
  const admin = await ask(s, `${PM}/1_flavlim0/format/url/protocol/http/ks/${ks({ type: 2 })}/a.mp4`);
  t.equal(admin.acp, '5', 'an admin KS skips the rule: none fulfilled');
  const hls = await ask(s, `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`);
  t.equal(hls.acp, '5 0', 'every format');

  // profile 1's rule blocks a caller without a KS (PLAY and DOWNLOAD contexts)
  const blocked = await ask(s, `${PM}/1_kssecure/format/url/protocol/http/a.mp4`);
  t.equal(blocked.code, '3', 'refused by the rule');
  t.equal(blocked.acp, '1 0', 'the refusal names the rule that refused it');
  const viewer = await ask(s, `${PM}/1_kssecure/format/url/protocol/http/ks/${ks({ privileges: 'sview:1_kssecure' })}/a.mp4`);
  t.equal(viewer.status, 302);
  t.equal(viewer.acp, '1', 'a KS the rule lets through: the profile alone');
  const pastEnd = await ask(s, `${PM}/1_flavlim0/format/url/protocol/http/seekFrom/999999999/a.mp4`);
  t.equal(pastEnd.code, '25', 'a refusal after the rules (a seekFrom past the end)');
  t.equal(pastEnd.acp, '5 0', 'carries the header too');

  // before the rules: nothing to report
  const badKs = await ask(s, `${PM}/1_kssecure/format/url/protocol/http/ks/garbage/a.mp4`);
  t.equal(badKs.code, '7');
  t.equal(badKs.acp, null, 'a KS refused before the rules: no header');
  const noProfile = await ask(s, `${PM}/1_audio001/format/url/protocol/http/a.mp4`);
  t.equal(noProfile.status, 302);
  t.equal(noProfile.acp, null, 'an entry without a profile: no header');
});

t.test('the answer and decision caches send what a server without caches sends', async (t) => {
  const paths = [
    `${PM}/1_flavlim0/format/url/protocol/http/a.mp4`,
    `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_kssecure/format/applehttp/protocol/http/a.m3u8`,
  ];
  for (const path of paths) {
    for (let i = 0; i < 3; i++) {
      const a = await ask(cached, path);
      const b = await ask(plain, path);
      t.same(a.headers, b.headers, `${path} #${i}: the same headers`);
      t.same(a.body, b.body, `${path} #${i}: the same bytes`);
    }
  }
  const hits = cached.app.manifestCache.stats();
  const viewer = (n: number) => `${PM}/1_kssecure/format/applehttp/protocol/http/ks/${ks({ privileges: 'sview:1_kssecure' })}/a.m3u8?playSessionId=${n}`;
  for (let i = 0; i < 3; i++) {
    clock++;
    const a = await ask(cached, viewer(i));
    const b = await ask(plain, viewer(i));
    t.equal(a.acp, '1', 'a kept decision carries the header');
    t.same(a.headers, b.headers, `a KS's answer #${i}: the same headers`);
  }
  // a kept decision, or the KS-bearing answer kept with it (src/cache/session-answers.ts)
  const after = cached.app.manifestCache.stats();
  t.ok(after.decisionHits + after.sessionHits > hits.decisionHits + hits.sessionHits, 'kept decisions were used');
});

t.test('serveFlavor, raw, download, thumbnail, flvclipper', async (t) => {
  const pm = await ask(s, `${PM}/1_flavlim0/format/url/protocol/http/a.mp4`);
  const signed = new URL(pm.location!).pathname;
  const served = await ask(s, signed, { method: 'HEAD' });
  t.equal(served.status, 200);
  t.equal(served.acp, '5 0', 'serveFlavor: the SERVE evaluation');
  const hidden = await ask(s, signMediaUrl(signed.replace(/\/exp\/\d+\/sig\/[^/]+/, '').replace(/flavorId\/[^/]+/, 'flavorId/1_f3flim00'), env.KDELIVER_MEDIA_URL_SECRET, clock));
  t.equal(hidden.code, '6');
  t.equal(hidden.acp, '5 0', 'serveFlavor refused by the rule: with the header');
  const unsigned = await ask(s, signed.replace(/\/exp\/\d+\/sig\/[^/]+/, ''));
  t.equal(unsigned.code, '27');
  t.equal(unsigned.acp, null, 'refused before the rules ran: none');
  const open = await ask(s, '/p/309/sp/30900/serveFlavor/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4', { method: 'HEAD' });
  t.equal(open.acp, null, 'an entry without a profile: none');

  const raw = await ask(s, '/p/309/sp/30900/raw/entry_id/1_kssecure');
  t.equal(raw.code, '3');
  t.equal(raw.acp, '1 0', 'raw refused by the DOWNLOAD rule');
  const download = await ask(s, '/p/309/sp/30900/download/entry_id/1_flavlim0');
  t.equal(download.status, 302);
  t.equal(download.acp, '5 0', 'download: the relocate redirect carries it');
  const thumb = await ask(s, '/p/309/sp/30900/thumbnail/entry_id/1_kssecure/width/60');
  t.equal(thumb.status, 200);
  t.equal(thumb.acp, '1', 'thumbnail: the rule is for PLAY and DOWNLOAD only, none fulfilled');
  const clip = await ask(s, '/p/309/sp/30900/flvclipper/entry_id/1_flavlim0/clip_to/1000', { method: 'HEAD' });
  t.equal(clip.status, 200);
  t.equal(clip.acp, '5 0', 'flvclipper: the PLAY evaluation');
  const clipBlocked = await ask(s, '/p/309/sp/30900/flvclipper/entry_id/1_kssecure/clip_to/1000');
  t.equal(clipBlocked.code, '3');
  t.equal(clipBlocked.acp, '1 0');

  const hlsPm = await ask(s, `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`);
  const master = hlsPm.body.toString();
  const variant = master.split('\n').find((l) => l.startsWith('http'))!;
  const packaged = await ask(s, new URL(variant).pathname);
  t.equal(packaged.status, 200, 'the packager answers');
  t.equal(packaged.acp, null, "the packager's answers carry none, as Kaltura's packager's");
  const packagedHidden = await ask(s, signMediaUrl(new URL(variant).pathname.replace(/\/exp\/\d+\/sig\/[^/]+/, '').replace(/flavorId\/[^/]+/, 'flavorId/1_f3flim00'), env.KDELIVER_MEDIA_URL_SECRET, clock));
  t.equal(packagedHidden.code, '6', 'the packager refuses the flavor the rule hides');
  t.equal(packagedHidden.acp, null, 'and its refusal carries none either');
});
