// The console's decision trace explains an encrypted entry's key requests, the HLS key URI of
// 1_aeshls01 and the ClearKey licence of 1_cenc0001, through /console/api/trace as the console
// asks it: each step (entry, partner, KS, privilege, encryption, key source, key ids) and the
// outcome the real route answers, for the same URLs; never the content key nor the KS.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import { generateKs, ksForPath } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';

const AES_KEY = '99a62b5ba79a2db6bfd1e25f616d3c88';
const CENC_KID = 'b0eb8a17323924b6d8d36875aacb0b48';
const CENC_KEY = '2e12bc8bbc726374d07ee3626f50108f';
const b64url = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-key-trace-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: join(work, 'data') });
const app = await buildServer({ config, logger: false });
await app.listen({ host: '127.0.0.1', port: 0 });
t.teardown(() => app.close());
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

const now = () => Math.floor(Date.now() / 1000);
const ks = (o: { partnerId?: number; type?: 0 | 2; privileges?: string; expiry?: number } = {}): string => generateKs({
  partnerId: o.partnerId ?? 309, secret: `sample-admin-secret-${o.partnerId ?? 309}`, type: o.type ?? 0, expiry: o.expiry ?? 3600,
  userId: 'viewer', now: now(), ...(o.privileges !== undefined ? { privileges: o.privileges } : {}),
});
const consoleKs = ks({ type: 2, privileges: '' });
const aesKs = ks({ privileges: 'sview:1_aeshls01' });
const cencKs = ks({ privileges: 'sview:1_cenc0001' });

interface Trace {
  status: number; kind: string; plays: boolean; partnerId: number;
  error: { code: number; name: string; message: string; httpStatus: number } | null;
  key: { entryId: string; keyIds: string[] } | null;
  trace: Array<{ stage: string; message: string }>;
  raw: string;
}
async function trace(u: string, kids?: string[]): Promise<Trace> {
  const res = await fetch(`${url}/console/api/trace`, {
    method: 'POST', headers: { 'x-kaltura-ks': consoleKs, 'content-type': 'application/json' }, body: JSON.stringify({ url: u, ...(kids ? { kids } : {}) }),
  });
  const raw = await res.text();
  return { status: res.status, raw, ...JSON.parse(raw) };
}
const steps = (r: Trace) => r.trace.map((s) => `${s.stage}: ${s.message}`).join('\n');
/** Nothing secret: neither key (hex or base64url) nor a KS (as given or as in a path). */
function noSecrets(t: Test, r: Trace, kss: string[], what: string) {
  for (const k of [AES_KEY, CENC_KEY]) {
    t.notOk(r.raw.includes(k) || r.raw.includes(b64url(k)), `${what}: no content key in the trace`);
  }
  for (const k of kss) t.notOk(r.raw.includes(k) || r.raw.includes(ksForPath(k)) || r.raw.includes(k.slice(0, 24)), `${what}: no KS in the trace`);
}

// the packager's variant URL of 1_aeshls01 as playManifest makes it; the key URI beside it, with a KS (or none), signed
const master = await (await fetch(`${url}/p/309/sp/30900/playManifest/entryId/1_aeshls01/format/applehttp/protocol/http/ks/${aesKs}/a.m3u8`)).text();
const variant = new URL(master.split('\n').find((l) => l.startsWith('http'))!).pathname;
const keyPath = (k: string | null): string => {
  const base = variant.replace(/\/ks\/[^/]+/, '').replace(/\/exp\/\d+\/sig\/[^/]+/, '').replace(/\/index\.m3u8$/, '');
  return signMediaUrl(`${base.replace('/name/', `${k ? `/ks/${k}` : ''}/name/`)}/encryption.key`, config.mediaUrlSecret, now());
};
const licencePath = (k: string | null, entry = '1_cenc0001'): string => `/p/309/sp/30900/clearKeyLicense/entryId/${entry}${k ? `/ks/${ksForPath(k)}` : ''}/license`;

t.test('the key URI: allowed with an sview KS, with each step; never the key nor the KS', async (t) => {
  const r = await trace(keyPath(aesKs));
  t.equal(r.status, 200);
  t.equal(r.kind, 'hlsKey');
  t.equal(r.plays, true);
  t.equal(r.error, null);
  t.same(r.key?.entryId, '1_aeshls01');
  t.equal(r.key?.keyIds.length, 1);
  const s = steps(r);
  t.match(s, /access: media access of 1_aeshls01: signature and SERVE rules pass/);
  t.match(s, /key: the entry is encrypted/);
  t.match(s, /entry: partner 309/);
  t.match(s, /session: user KS of user viewer/);
  t.match(s, /access: may have the key: sview:1_aeshls01/);
  t.match(s, /key: key source: the catalog/);
  noSecrets(t, r, [aesKs, consoleKs], 'allowed');
});

t.test('the licence: allowed with an sview KS, the key ids given; kids optional', async (t) => {
  const r = await trace(licencePath(cencKs));
  t.equal(r.kind, 'licence');
  t.equal(r.plays, true);
  t.same(r.key, { entryId: '1_cenc0001', keyIds: [CENC_KID] });
  t.match(steps(r), /key: key ids given: b0eb8a17323924b6d8d36875aacb0b48 \(no kids given/);
  const asked = await trace(licencePath(cencKs), [b64url(CENC_KID)]);
  t.equal(asked.plays, true);
  t.notMatch(steps(asked), /no kids given/);
  const sviewAll = await trace(licencePath(ks({ privileges: 'sview:*' })));
  t.match(steps(sviewAll), /may have the key: sview:\*/);
  const admin = await trace(licencePath(ks({ type: 2, privileges: '' })));
  t.match(steps(admin), /may have the key: admin KS/);
  noSecrets(t, r, [cencKs, consoleKs], 'licence');
  noSecrets(t, asked, [cencKs, consoleKs], 'licence with kids');
});

t.test('refusals carry the route\'s code and message: no KS (3), another partner (32), expired (31), no sview (3)', async (t) => {
  const other = ks({ partnerId: 310, privileges: 'sview:*' });
  const expired = ks({ privileges: 'sview:*', expiry: -10 });
  const noView = ks({ privileges: '' });
  for (const [what, path, code, step] of [
    ['key URI, no KS', keyPath(null), 3, /session: no KS/],
    ['key URI, partner 310', keyPath(other), 32, /session: KS refused: INVALID_PARTNER/],
    ['key URI, expired', keyPath(expired), 31, /session: KS refused: KS_EXPIRED/],
    ['licence, no KS', licencePath(null), 3, /session: no KS/],
    ['licence, partner 310', licencePath(other), 32, /session: KS refused: INVALID_PARTNER/],
    ['licence, no sview', licencePath(noView), 3, /access: the KS has no sview:1_cenc0001, sview:\* nor admin/],
    ['licence, an entry in the clear', licencePath(cencKs, '1_rcit0qgs'), 5, /key: the entry is in the clear/],
  ] as const) {
    const r = await trace(path);
    t.equal(r.status, 200, what);
    t.equal(r.plays, false, `${what}: refused`);
    t.equal(r.error?.code, code, `${what}: error ${code}`);
    t.equal(r.key, null, `${what}: no key ids`);
    t.match(steps(r), step, `${what}: the step that refused`);
    noSecrets(t, r, [other, expired, noView, cencKs, consoleKs], what);
  }
});

t.test('the trace and the route agree on the same URLs', async (t) => {
  const kss = [null, aesKs, cencKs, ks({ privileges: 'sview:*' }), ks({ type: 2, privileges: '' }), ks({ partnerId: 310, privileges: 'sview:*' }), ks({ privileges: 'sview:*', expiry: -10 }), ks({ privileges: '' })];
  for (const [i, k] of kss.entries()) {
    for (const [kind, path, init] of [
      ['key URI', keyPath(k), undefined],
      ['licence', licencePath(k), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kids: [b64url(CENC_KID)], type: 'temporary' }) }],
    ] as const) {
      const route = await fetch(url + path, init);
      const body = Buffer.from(await route.arrayBuffer()).toString('latin1');
      const r = await trace(path, kind === 'licence' ? [b64url(CENC_KID)] : undefined);
      t.equal(r.plays, route.status === 200, `KS #${i}, ${kind}: allowed alike (route ${route.status})`);
      if (route.status !== 200) {
        t.equal(`error-${r.error?.code}`, route.headers.get('x-kaltura'), `KS #${i}, ${kind}: the route's error code`);
        t.equal(r.error?.httpStatus, route.status, `KS #${i}, ${kind}: the route's status`);
        t.equal(body, `error ${r.error?.code} ${r.error?.name}: ${r.error?.message}\n`, `KS #${i}, ${kind}: the route's message`);
      }
    }
  }
});

t.test('a URL of another partner is refused; a bad kids list is the route\'s BAD_QUERY', async (t) => {
  const r = await trace('/p/310/sp/31000/clearKeyLicense/entryId/1_cenc0001/license');
  t.equal(r.status, 403);
  t.equal((await trace(keyPath(aesKs).replace('/p/309/', '/p/310/'))).status, 403, 'a key URI of another partner too');
  // the fMP4 HLS of an encrypted entry has no key file: the route's 404, explained alike
  const fmp4 = keyPath(aesKs).replace('/hls/', '/hls/container/fmp4/');
  const route = await fetch(url + fmp4);
  await route.arrayBuffer();
  const traced = await trace(fmp4);
  t.equal(traced.plays, false);
  t.equal(`error-${traced.error?.code}`, route.headers.get('x-kaltura'), `fMP4 key file: the route's error (${route.status})`);
  const bad = await trace(licencePath(cencKs), ['not base64url!']);
  t.equal(bad.plays, false);
  t.equal(bad.error?.name, 'BAD_QUERY');
});

t.test('the licence URL as the MPD gives it (absolute), and an absolute key URI and playManifest URL, are explained', async (t) => {
  const redirect = await fetch(`${url}/p/309/sp/30900/playManifest/entryId/1_cenc0001/format/mpegdash/protocol/http/ks/${cencKs}/a.mpd`, { redirect: 'manual' });
  const mpd = await (await fetch(redirect.headers.get('location')!)).text();
  const laurl = /<dashif:laurl>([^<]+)<\/dashif:laurl>/.exec(mpd)![1].replace(/&amp;/g, '&');
  t.match(laurl, /^http:\/\/127\.0\.0\.1:\d+\/p\/309\/sp\/30900\/clearKeyLicense\//, 'the MPD names an absolute licence URL');
  const lic = await trace(laurl);
  t.equal(lic.status, 200, lic.raw);
  t.equal(lic.kind, 'licence');
  t.equal(lic.plays, true);
  noSecrets(t, lic, [cencKs, consoleKs], 'absolute licence URL');

  const key = await trace(url + keyPath(aesKs));
  t.equal(key.status, 200, key.raw);
  t.equal(key.kind, 'hlsKey');
  t.equal(key.plays, true);

  const pm = await trace(`${url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/a.mp4`);
  t.equal(pm.status, 200, pm.raw);
  t.equal(pm.plays, true);

  const other = await trace('ftp://example.com/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/a.mp4');
  t.equal(other.status, 400, 'a URL of another scheme is not one of this server\'s');
});
