import t from 'tap';
import { checkPlayManifestToken, signPlayManifestUrl, verifyKt } from '../../src/access/kt.js';
import { DeliveryError } from '../../src/errors.js';
import { dgst } from './openssl.js';

const SECRET = 'sample-url-token-secret';
const code = (fn: () => unknown): number | string => {
  try { return String(fn()); } catch (e) { return e instanceof DeliveryError ? e.code : `${e}`; }
};

t.test('signing follows the reference recipe (checked with openssl sha1)', async (t) => {
  const url = 'https://media.example.com/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/protocol/https/a.mp4?clientTag=feed:1';
  const signed = signPlayManifestUrl(url, SECRET);
  const m = /^https:\/\/media\.example\.com(\/p\/309\/sp\/30900\/playManifest\/entryId\/1_rcit0qgs\/format\/url\/protocol\/https\/kt\/([0-9a-f]{40})\/a\.mp4\?clientTag=feed:1)$/.exec(signed);
  t.ok(m, signed);
  const [, uri, kt] = m!;
  t.equal(kt, dgst('sha1', SECRET + uri.replace(kt, '{kt}')));
  t.ok(verifyKt(uri, kt, SECRET));
  t.equal(code(() => checkPlayManifestToken({ method: 'GET', rawUri: uri, kt, expiry: null }, SECRET, 1)), 'true');
});

t.test('expiry is added before kt and is covered by the token', async (t) => {
  const signed = signPlayManifestUrl('/p/309/playManifest/entryId/1_rcit0qgs/format/applehttp/a.m3u8', SECRET, 2000);
  t.match(signed, /^\/p\/309\/playManifest\/entryId\/1_rcit0qgs\/format\/applehttp\/expiry\/2000\/kt\/[0-9a-f]{40}\/a\.m3u8$/);
  const kt = /\/kt\/([0-9a-f]{40})/.exec(signed)![1];
  t.equal(kt, dgst('sha1', SECRET + signed.replace(kt, '{kt}')));
  const req = (rawUri: string, expiry: number | null, method = 'GET') => ({ method, rawUri, kt, expiry });
  t.equal(code(() => checkPlayManifestToken(req(signed, 2000), SECRET, 1999)), 'true');
  t.equal(code(() => checkPlayManifestToken(req(signed, 2000), SECRET, 2000)), 28, 'expiry <= now');
  t.equal(code(() => checkPlayManifestToken(req(signed.replace('/2000/', '/3000/'), 3000), SECRET, 2500)), 27, 'a moved expiry');
  t.equal(code(() => checkPlayManifestToken(req(signed, 2000, 'POST'), SECRET, 1)), 27, 'GET only');
  t.equal(code(() => checkPlayManifestToken({ method: 'GET', rawUri: '/x', kt: null, expiry: 5 }, SECRET, 5)), 28, 'expiry checked without kt');
  t.equal(code(() => checkPlayManifestToken({ method: 'GET', rawUri: '/x', kt: null, expiry: null }, SECRET, 5)), 'false');
});

t.test('a replayed kt with a changed path or query is refused', async (t) => {
  const signed = signPlayManifestUrl('/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/a.mp4?clientTag=x', SECRET);
  const kt = /\/kt\/([0-9a-f]{40})/.exec(signed)![1];
  for (const changed of [
    signed.replace('1_kssecure', '1_rcit0qgs'),
    signed.replace('format/url', 'format/download'),
    signed.replace('clientTag=x', 'clientTag=y'),
    signed + '&flavorId=1_f3rcit00',
    signed.replace('?clientTag=x', ''),
    signed.replace('/a.mp4', '/a.mp4/'),
    signed.replace('clientTag', 'clientTa%67'),
  ]) {
    t.notOk(verifyKt(changed, kt, SECRET), changed);
    t.equal(code(() => checkPlayManifestToken({ method: 'GET', rawUri: changed, kt, expiry: null }, SECRET, 1)), 27);
  }
  t.notOk(verifyKt(signed, kt, 'another-secret'));
  t.notOk(verifyKt(signed, kt.toUpperCase(), SECRET), 'only the lowercase hex token');
  t.notOk(verifyKt(signed, '', SECRET));
  t.notOk(verifyKt(signed, kt, ''), 'no secret, no valid token');
});

t.test('every occurrence of the token is replaced', async (t) => {
  const uri = '/p/1/playManifest/entryId/e/kt/{kt}?echo={kt}';
  const kt = dgst('sha1', SECRET + uri);
  t.ok(verifyKt(uri.split('{kt}').join(kt), kt, SECRET));
});

t.test('bad input to the signer', async (t) => {
  for (const [url, exp] of [
    ['/p/1/serveFlavor/entryId/e', undefined],
    ['relative/playManifest/x', undefined],
    ['/p/1/playManifest/entryId/e/kt/abc', undefined],
    ['/p/1/playManifest/entryId/e', -5],
    ['/p/1/playManifest/entryId/e', 1.5],
  ] as const) {
    t.equal(code(() => signPlayManifestUrl(url, SECRET, exp as number | undefined)).toString().startsWith('SignError'), true, url);
  }
  t.ok(code(() => signPlayManifestUrl('/p/1/playManifest/entryId/e', '')).toString().startsWith('SignError'));
});
