// The media URLs playManifest signs for a protected entry carry the caller's session under the
// signature, so the media routes judge the same caller: an admin KS that skipped a limit-flavors
// rule fetches the flavors it was offered (it was refused with error 6 when the media routes
// judged an anonymous caller), revoking the KS ends the grant, and the URL outlives a short KS
// for the signature's window.
import t from 'tap';
import { generateKs, type GenerateKsOptions } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { startServer } from '../helpers/server.js';

let clock = Math.floor(Date.now() / 1000);
const srv = await startServer(t, { now: () => clock });
const PM = '/p/309/sp/0/playManifest/entryId/1_flavlim0';
const ks = (o: { type?: GenerateKsOptions['type']; expiry?: number; privileges?: string } = {}) =>
  generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: o.type ?? 2, userId: 'tester', expiry: o.expiry ?? 3600, privileges: o.privileges ?? '', version: 2, now: clock });

async function redirectOf(path: string): Promise<string> {
  const r = await fetch(srv.url + path, { redirect: 'manual' });
  if (r.status !== 302) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.headers.get('location')!;
}
const errorOf = (r: Response) => r.headers.get('x-kaltura-error-code') ?? r.headers.get('x-kaltura')?.match(/error-(\d+)/)?.[1];

t.test('an admin KS fetches the flavor a limit-flavors rule hides from others', async (t) => {
  const admin = ks();
  const url = await redirectOf(`${PM}/format/url/flavorId/1_f3flim00/ks/${admin}/a.mp4`);
  t.match(url, `/ks/${admin}/exp/`, 'the session rides under the signature');
  const r = await fetch(url);
  t.equal(r.status, 200, 'the hidden flavor is served to the admin');
  const flavor = (await srv.app.catalog.getFlavor('1_f3flim00'))!;
  t.equal(Number(r.headers.get('content-length')), flavor.size);
  await r.arrayBuffer();

  // The same flavor, signed for no session (as for an anonymous playManifest): still refused
  const anonymous = signMediaUrl(new URL(url).pathname.replace(/\/ks\/.*\/sig\/[^/]+/, ''), srv.config.mediaUrlSecret, clock);
  const a = await fetch(srv.url + anonymous);
  t.equal(a.status, 404, 'an anonymous signed URL for the hidden flavor is refused');
  t.equal(errorOf(a), '6');
  await a.arrayBuffer();

  // A KS swapped into a signed URL breaks the signature
  const other = ks({ type: 0, privileges: 'sview:*' });
  const swapped = await fetch(url.replace(admin, other));
  t.equal(swapped.status, 403, 'another KS under the signature is refused');
  await swapped.arrayBuffer();
});

t.test('the HLS master an admin gets lists every flavor, and each one plays', async (t) => {
  const admin = ks();
  const master = await (await fetch(`${srv.url}${PM}/format/applehttp/ks/${admin}/a.m3u8`)).text();
  const variants = master.split('\n').filter((l) => l.startsWith('http'));
  t.equal(variants.length, 3, 'three variants');
  for (const v of variants) {
    const index = await fetch(v);
    t.equal(index.status, 200, `${v.match(/flavorId\/([^/]+)/)![1]}: index served`);
    const seg = (await index.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
    const s = await fetch(new URL(seg, v));
    t.equal(s.status, 200, 'its first segment is served');
    t.equal(s.headers.get('content-type'), 'video/MP2T');
    await s.arrayBuffer();
  }
});

t.test('revoking the session ends the grant; a short KS does not', async (t) => {
  const short = ks({ expiry: 60 });
  const url = await redirectOf(`${PM}/format/url/flavorId/1_f3flim00/ks/${short}/a.mp4`);
  clock += 600;
  const later = await fetch(url);
  t.equal(later.status, 200, 'ten minutes after its KS ended, the signed URL still plays (its window is the signature\'s)');
  await later.arrayBuffer();
  clock -= 600;

  const admin = ks();
  const signed = await redirectOf(`${PM}/format/url/flavorId/1_f3flim00/ks/${admin}/a.mp4`);
  const end = await fetch(`${srv.url}/api_v3/service/session/action/end?format=1&ks=${admin}`);
  t.equal(end.status, 200);
  await end.arrayBuffer();
  const revoked = await fetch(signed);
  t.equal(revoked.status, 403, 'the revoked session no longer fetches');
  t.equal(errorOf(revoked), '7', 'INVALID_KS, as playManifest answers a revoked KS');
  await revoked.arrayBuffer();
});

t.test('flavorAsset.getUrl for an admin leads to the bytes of the hidden flavor', async (t) => {
  const admin = ks();
  const r = await fetch(`${srv.url}/api_v3/service/flavorAsset/action/getUrl?format=1&ks=${admin}&id=1_f3flim00`);
  const url = await r.json() as string;
  t.type(url, 'string', JSON.stringify(url));
  const bytes = await fetch(url);
  t.equal(bytes.status, 200, 'the download URL, followed, serves the flavor');
  t.equal(Number(bytes.headers.get('content-length')), (await srv.app.catalog.getFlavor('1_f3flim00'))!.size);
  await bytes.arrayBuffer();
});

t.test('flavorAsset.getUrl never answers with a URL that downloads another flavor', async (t) => {
  const user = ks({ type: 0, privileges: 'sview:*' });
  const r = await fetch(`${srv.url}/api_v3/service/flavorAsset/action/getUrl?format=1&ks=${user}&id=1_f3flim00`);
  const body = await r.json() as { code?: string };
  t.equal(body.code, 'FLAVOR_ASSET_ID_NOT_FOUND', 'the flavor the rule hides is not found for a user KS');
  const allowed = await (await fetch(`${srv.url}/api_v3/service/flavorAsset/action/getUrl?format=1&ks=${user}&id=1_f1flim00`)).json() as string;
  const bytes = await fetch(allowed);
  t.equal(Number(bytes.headers.get('content-length')), (await srv.app.catalog.getFlavor('1_f1flim00'))!.size, 'the allowed one downloads itself');
  await bytes.arrayBuffer();
});

t.test('a v1 KS in the standard base64 alphabet rides in the URL-safe one', async (t) => {
  // v1 KSs are standard base64: '+' and '/' appear; pick one that has a '/' so the path would break
  let v1 = '';
  for (let i = 0; i < 200 && !v1.includes('/'); i++) {
    v1 = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, userId: `user-${i}?>`, expiry: 3600, privileges: '', version: 1, now: clock });
  }
  t.ok(v1.includes('/'), 'a v1 KS with a slash');
  const url = await redirectOf(`${PM}/format/url/flavorId/1_f3flim00/a.mp4?ks=${encodeURIComponent(v1)}`);
  t.match(url, `/ks/${v1.replace(/\+/g, '-').replace(/\//g, '_')}/exp/`);
  const r = await fetch(url);
  t.equal(r.status, 200, 'the admin\'s hidden flavor is served');
  await r.arrayBuffer();
});

t.test('a KS whose "+" a query string turned into a space still rides under the signature', async (t) => {
  let v1 = '';
  for (let i = 0; i < 200 && !v1.includes('+'); i++) {
    v1 = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, userId: `plus-${i}>?`, expiry: 3600, privileges: '', version: 1, now: clock });
  }
  t.ok(v1.includes('+'), 'a v1 KS with a "+"');
  // unencoded in the query: the server reads a space where the "+" was, and takes the KS as Kaltura does
  const url = await redirectOf(`${PM}/format/url/flavorId/1_f3flim00/a.mp4?ks=${v1}`);
  t.match(url, `/ks/${v1.replace(/\+/g, '-').replace(/\//g, '_')}/exp/`);
  const r = await fetch(url);
  t.equal(r.status, 200, 'the admin\'s hidden flavor is served');
  await r.arrayBuffer();
});

t.test('a KS restricted to playManifest URIs (urirestrict) plays the media URLs playManifest gave it', async (t) => {
  // Kaltura checks urirestrict where the KS is presented; the media URLs that carry it under the
  // signature were made by playManifest, which checked it, so they are not held to the pattern
  const restricted = ks({ type: 0, privileges: 'sview:*,urirestrict:/p/309/sp/0/playManifest/*' });
  const url = await redirectOf(`${PM}/format/url/flavorId/1_f1flim00/ks/${restricted}/a.mp4`);
  const r = await fetch(url);
  t.equal(r.status, 200, `the progressive file plays (${r.headers.get('x-kaltura-app')})`);
  await r.arrayBuffer();

  const master = await (await fetch(`${srv.url}${PM}/format/applehttp/ks/${restricted}/a.m3u8`)).text();
  const variant = master.split('\n').find((l) => l.startsWith('http'))!;
  const index = await fetch(variant);
  t.equal(index.status, 200, `the HLS index plays (${index.headers.get('x-kaltura-app')})`);
  const seg = (await index.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
  const s = await fetch(new URL(seg, variant));
  t.equal(s.status, 200, 'its first segment plays');
  await s.arrayBuffer();

  // the encrypted entry's key URI, reached from the playlist, is such a URL too
  const aes = ks({ type: 0, privileges: 'sview:1_aeshls01,urirestrict:/p/309/sp/0/playManifest/entryId/1_aeshls01/*' });
  const aesMaster = await (await fetch(`${srv.url}/p/309/sp/0/playManifest/entryId/1_aeshls01/format/applehttp/protocol/http/ks/${aes}/a.m3u8`)).text();
  const aesVariant = aesMaster.split('\n').find((l) => l.startsWith('http'))!;
  const key = await fetch(aesVariant.replace(/index\.m3u8$/, 'encryption.key'));
  t.equal(key.status, 200, `the key URI answers (${key.headers.get('x-kaltura-app')})`);
  t.equal(Buffer.from(await key.arrayBuffer()).toString('hex'), '99a62b5ba79a2db6bfd1e25f616d3c88');

  // presented elsewhere, the KS is still held to its pattern
  const elsewhere = await fetch(`${srv.url}/p/309/sp/30900/playManifest/entryId/1_flavlim0/format/url/ks/${restricted}/a.mp4`, { redirect: 'manual' });
  t.equal(elsewhere.status, 403, 'playManifest under another sub-partner path: refused');
  t.equal(errorOf(elsewhere), '7');
  await elsewhere.arrayBuffer();
});
