// Each tokenizer against an independent check: openssl for the digests (step by step, fixed
// clock), Akamai's EdgeAuth library, the public key and AWS's signer for CloudFront. The profile
// URLs have a path (/hls, /vod, ...): as in Kaltura, it is part of what every tokenizer signs.
import t from 'tap';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { tokenizeUrls, verifyKalturaToken, type TokenizeContext } from '../../src/delivery/tokenizers/index.js';
import { kalturaSignPath } from '../../src/delivery/tokenizers/kaltura.js';
import { generateKs, parseKs, verifyKs, ksHasPrivilege } from '../../src/access/ks.js';
import { DeliveryError } from '../../src/errors.js';
import { dgst, dgstRaw, hmacHex, hmacRaw, openssl } from '../access/openssl.js';
import { errorWith } from '../helpers/errors.js';
import { repoPath } from '../helpers/repo.js';

const EdgeAuth = createRequire(import.meta.url)('akamai-edgeauth');
const NOW = 1_700_000_000;
const ctx = (over: Partial<TokenizeContext> = {}): TokenizeContext => ({
  now: NOW, ks: null, clientIp: '203.0.113.7', entryId: '1_rcit0qgs', partnerId: 309, baseUrl: 'https://cdn.example.com/hls', ...over,
});
const library = JSON.parse(readFileSync(repoPath('fixtures/sample-library.json'), 'utf8'));
const sampleTokenizer = (id: number) => library.deliveryProfiles.find((p: { id: number }) => p.id === id).tokenizer;
const P1 = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8';
const P2 = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f2rcit00/name/a.mp4/index.m3u8';
const b64url = (b: Buffer) => openssl(['base64', '-A'], b).toString().trim().replace(/\+/g, '-').replace(/\//g, '_');

t.test('Akamai __gda__ (sample profile 2001, https://cdn.example.com/hls)', async (t) => {
  const cfg = sampleTokenizer(2001);
  const [url] = tokenizeUrls(cfg, [`https://cdn.example.com/hls${P1}`], ctx());
  const expires = NOW + 300;
  const le = Buffer.from([expires & 255, (expires >> 8) & 255, (expires >> 16) & 255, (expires >>> 24) & 255]);
  // the URL path the CDN sees, from the host root: the profile's /hls included
  const inner = dgstRaw('md5', Buffer.concat([le, Buffer.from('/hls' + P1), Buffer.from('sample-akamai-key')]));
  const token = dgst('md5', Buffer.concat([Buffer.from('sample-akamai-key'), inner]));
  t.equal(url, `https://cdn.example.com/hls${P1}?__gda__=${expires}_${token}`);
  // rootDir goes before the whole path (Kaltura: rootDir + the URL with the prefix's path moved in)
  const [withQuery] = tokenizeUrls({ ...cfg, rootDir: 'root' }, [`https://cdn.example.com/hls${P1}?a=1`], ctx());
  const inner2 = dgstRaw('md5', Buffer.concat([le, Buffer.from('/root/hls' + P1), Buffer.from('sample-akamai-key')]));
  t.equal(withQuery, `https://cdn.example.com/root/hls${P1}?a=1&__gda__=${expires}_${dgst('md5', Buffer.concat([Buffer.from('sample-akamai-key'), inner2]))}`);
  t.throws(() => tokenizeUrls({ ...cfg, paramName: 'abc' }, [P1], ctx()), 'paramName of 5-12 characters');
});

t.test('Akamai EdgeAuth against Akamai\'s EdgeAuth library', async (t) => {
  const key = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const cfg = { type: 'akamaiSecureHd', key, window: 120, paramName: 'hdnts', aclPostfix: '*' };
  const urls = tokenizeUrls(cfg, [`https://cdn.example.com/hls${P1}`, `https://cdn.example.com/hls${P2}`], ctx());
  // the ACL covers the path the CDN is asked for, /hls included
  const acl = '/hls/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f*';
  const ea = new EdgeAuth({ key, windowSeconds: 120, startTime: NOW, escapeEarly: false, tokenName: 'hdnts' });
  const expected = ea.generateACLToken(acl);
  t.equal(urls[0], `https://cdn.example.com/hls${P1}?hdnts=${expected}`);
  t.equal(urls[1], `https://cdn.example.com/hls${P2}?hdnts=${expected}`);
  t.match(expected, new RegExp(`^st=${NOW}~exp=${NOW + 120}~acl=`));
  const withIp = tokenizeUrls({ ...cfg, limitIpAddress: true }, [`https://cdn.example.com${P1}`], ctx({ baseUrl: 'https://cdn.example.com' }))[0];
  const eaIp = new EdgeAuth({ key, windowSeconds: 120, startTime: NOW, escapeEarly: false, ip: '203.0.113.7' });
  t.equal(withIp, `https://cdn.example.com${P1}?hdnts=${eaIp.generateACLToken(P1 + '*')}`);
  // the manifest postfix is cut from the ACL, and a CSMIL part at the first comma
  const csmil = '/p/309/serveFlavor/entryId/e/flavorId/1_,a,b,/master.m3u8';
  const one = tokenizeUrls({ ...cfg, aclPostfix: '' }, [csmil], ctx({ baseUrl: 'https://x' }))[0];
  t.match(one, /acl=\/p\/309\/serveFlavor\/entryId\/e\/flavorId\/1_~hmac=/);
  t.throws(() => tokenizeUrls({ ...cfg, key: 'xyz' }, [P1], ctx()), 'hex key required');
});

t.test('CloudFront custom policy (sample profile 2002): public key and the AWS signer agree', async (t) => {
  const cfg = sampleTokenizer(2002);
  const base = 'https://d111111abcdef8.cloudfront.net';
  const u1 = `${base}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4`;
  const [signed] = tokenizeUrls(cfg, [u1], ctx({ baseUrl: base }));
  const q = new URL(signed.replace(/~/g, '%7E')).searchParams;
  t.equal(q.get('Key-Pair-Id'), 'K2SAMPLEKEYPAIR');
  const unCf = (s: string) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
  const policy = unCf(q.get('Policy')!).toString();
  // cut before /flavorId/, as Kaltura (kCloudFrontUrlTokenizer::getAcl)
  t.equal(policy, `{"Statement":[{"Resource":"${base}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW + 300}}}}]}`);
  const pub = createPublicKey(readFileSync(repoPath('fixtures/cloudfront-sample-key.pub.pem')));
  t.ok(verify('sha1', Buffer.from(policy), pub, unCf(q.get('Signature')!)), 'RSA-SHA1 signature verifies with the public key');
  t.notOk(verify('sha1', Buffer.from(policy.replace('300', '301')), pub, unCf(q.get('Signature')!)));
  const aws = new URL(getSignedUrl({ url: u1, keyPairId: 'K2SAMPLEKEYPAIR', privateKey: readFileSync(repoPath('fixtures/cloudfront-sample-key.pem'), 'utf8'), policy }));
  const raw = (u: string, name: string) => new RegExp(`[?&]${name}=([^&]*)`).exec(u)![1];
  t.equal(raw(signed, 'Policy'), raw(aws.toString(), 'Policy'), 'same policy encoding as @aws-sdk/cloudfront-signer');
  t.equal(raw(signed, 'Signature'), raw(aws.toString(), 'Signature'), 'same signature');
  const withIp = tokenizeUrls({ ...cfg, limitIpAddress: true }, [`${base}:8443/x/y/a.mp4`], ctx({ baseUrl: `${base}:8443` }))[0];
  const p2 = unCf(new RegExp('Policy=([^&]*)').exec(withIp)![1]).toString();
  t.equal(p2, `{"Statement":[{"Resource":"${base}/x/y/*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW + 300}},"IpAddress":{"AWS:SourceIp":"203.0.113.7/32"}}}]}`, 'port removed, IP condition');
  t.match(withIp, /\?ip=203\.0\.113\.7&Policy=/);
  t.throws(() => tokenizeUrls({ ...cfg, privateKeyFile: 'missing.pem' }, [u1], ctx({ baseUrl: base })), { name: 'TokenizerError' });
});

t.test('CloudFront on a profile URL with a path: the Resource covers it (rootDir before it), cut before /flavorId/; openssl verifies', async (t) => {
  const cfg = { ...sampleTokenizer(2002), rootDir: 'root' };
  const base = 'https://d111111abcdef8.cloudfront.net/media';
  const flavorUrl = (f: string) => `${base}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/${f}/forceproxy/true/name/a.mp4`;
  const signed = tokenizeUrls(cfg, [flavorUrl('1_f1rcit00'), flavorUrl('1_f2rcit00')], ctx({ baseUrl: base }));
  const unCf = (s: string) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
  const raw = (u: string, name: string) => new RegExp(`[?&]${name}=([^&]*)`).exec(u)![1];
  t.equal(raw(signed[0], 'Policy'), raw(signed[1], 'Policy'), 'one policy for both flavors');
  const policy = unCf(raw(signed[0], 'Policy')).toString();
  // Kaltura: rootDir + the URL with the prefix's path moved in; the Resource cut before /flavorId/
  t.equal(policy, `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/root/media/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW + 300}}}}]}`);
  const resource = JSON.parse(policy).Statement[0].Resource as string;
  for (const u of signed) {
    t.match(new URL(u).pathname, /^\/root\/media\/p\/309\/.*\/flavorId\/1_f\drcit00\/forceproxy\/true\/name\/a\.mp4$/);
    // CloudFront's "*" matches any characters: the Resource less its "*" starts every URL
    t.ok(u.startsWith(resource.slice(0, -1)), 'the URL is covered by the Resource');
  }
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-cf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'sig'), unCf(raw(signed[0], 'Signature')));
  const pub = repoPath('fixtures/cloudfront-sample-key.pub.pem');
  t.match(openssl(['dgst', '-sha1', '-verify', pub, '-signature', join(dir, 'sig')], policy).toString(), /Verified OK/, 'openssl: RSA-SHA1 over the policy verifies');
});

t.test('Level3 (older): HMAC-SHA1, 20 hex characters, expiry in the signed query', async (t) => {
  const cfg = { type: 'level3', key: 'l3key', window: 60, paramName: 'token', expiryName: 'etime', gen: '1' };
  // the profile is https://l3.example/vod: its path is signed too
  const [u] = tokenizeUrls(cfg, ['https://l3.example/vod//mp4:clip.mp4?x=1'], ctx({ baseUrl: 'https://l3.example/vod' }));
  // 1700000060 = 2023-11-14 22:14:20 UTC
  const signed = '/vod/clip.mp4?x=1&etime=20231114221420';
  t.equal(u, `https://l3.example${signed}&token=1${hmacHex('sha1', 'l3key', signed).slice(0, 20)}`);
});

t.test('L3 (newer): path-prefix token over the common directory', async (t) => {
  const cfg = { type: 'l3', key: 'l3key', window: 60, paramName: 'token', gen: '0' };
  const urls = tokenizeUrls(cfg, [`https://l3.example/hls${P1}`, `https://l3.example/hls${P2}`], ctx({ baseUrl: 'https://l3.example/hls' }));
  const path = '/hls/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/';
  const dirs = 11; // 12 slashes in the path, minus 1
  const signed = `${path}?nva=${NOW + 60}&dirs=${dirs}`;
  const token = `nva=${NOW + 60}~dirs=${dirs}~hash=0${hmacHex('sha1', 'l3key', signed).slice(0, 20)}`;
  // the token is the first path part, before the profile's /hls
  t.same(urls, [`https://l3.example/token=${token}/hls${P1}`, `https://l3.example/token=${token}/hls${P2}`]);
});

t.test('Limelight: fixed 120 s, md5(key + prefix + url)', async (t) => {
  const cfg = { type: 'limelight', key: 'llkey', urlPrefix: 'http://ll.example', window: 9999 };
  const [u] = tokenizeUrls(cfg, ['http://ll.example/vod/a/b.mp4?x=1&fs=300'], ctx({ baseUrl: 'http://ll.example/vod' }));
  const signed = `/vod/a/b.mp4?x=1&e=${NOW + 120}`;
  t.equal(u, `http://ll.example${signed}&h=${dgst('md5', 'llkey' + 'http://ll.example' + signed)}&fs=300`);
});

t.test('Kaltura tokenizer and its recogniser', async (t) => {
  const cfg = { type: 'kaltura', key: 'media-secret', window: 100 };
  const path = '/p/309/sp/30900/serveFlavor/entryId/e/v/1/flavorId/f/fileName/My_clip/forceproxy/true/name/a.mp4';
  const [u] = tokenizeUrls(cfg, [`http://127.0.0.1:8080${path}`], ctx({ baseUrl: 'http://127.0.0.1:8080' }));
  const toSign = `/p/309/sp/30900/serveFlavor/entryId/e/v/1/flavorId/f/forceproxy/true/name/a.mp4/exp/${NOW + 100}`;
  const sig = b64url(hmacRaw('sha256', 'media-secret', toSign)).replace(/=+$/, '');
  t.equal(u, `http://127.0.0.1:8080${toSign}/sig/${sig}/fileName/My_clip/a.mp4`);
  const got = new URL(u).pathname;
  t.equal(verifyKalturaToken(got, 'media-secret', NOW), 'valid');
  t.equal(verifyKalturaToken(got, 'media-secret', NOW + 100), 'valid');
  t.equal(verifyKalturaToken(got, 'media-secret', NOW + 101), 'expired');
  t.equal(verifyKalturaToken(got, 'other', NOW), 'invalid');
  t.equal(verifyKalturaToken(got.replace('entryId/e', 'entryId/x'), 'media-secret', NOW), 'invalid', 'another entry');
  t.equal(verifyKalturaToken(got.replace(`/exp/${NOW + 100}`, `/exp/${NOW + 999}`), 'media-secret', NOW), 'invalid', 'a moved expiry');
  t.equal(verifyKalturaToken(path, 'media-secret', NOW), 'missing');
  // a profile with a base path (the packager's /hls) still signs from the host root
  const [h] = tokenizeUrls(cfg, [`http://127.0.0.1:8080/hls${P1}`], ctx({ baseUrl: 'http://127.0.0.1:8080/hls' }));
  t.equal(verifyKalturaToken(new URL(h).pathname, 'media-secret', NOW), 'valid');
  t.ok(new URL(h).pathname.startsWith('/hls/p/309/'));
  // a segment next to the playlist carries the same signature
  t.equal(verifyKalturaToken(new URL('seg-1.ts', h).pathname, 'media-secret', NOW), 'valid');
  t.equal(kalturaSignPath('/a/b.mp4?x=1', 'k', 10, 5).endsWith('/b.mp4?x=1'), true);
});

t.test('KS tokenizer: a v2 KS limited to the entry and the URL', async (t) => {
  const secret = 'sample-admin-secret-309';
  const cfg = { type: 'ks', key: secret, window: 60, limitIpAddress: true };
  const base = 'https://media.example/hls';
  const [u] = tokenizeUrls(cfg, [`${base}${P1}`], ctx({ baseUrl: base, ks: 'x', ksUserId: 'alice' }));
  const ks = new URL(u).searchParams.get('ks')!;
  t.ok(ks.startsWith('djJ8'));
  const v = verifyKs(parseKs(ks), { id: 309, adminSecret: secret }, { now: NOW + 59, clientIp: '203.0.113.7', uri: `/hls${P1}` });
  t.equal(v.userId, 'alice');
  t.equal(v.type, 0);
  t.ok(ksHasPrivilege(v, 'sview', '1_rcit0qgs'));
  t.throws(() => verifyKs(parseKs(ks), { id: 309, adminSecret: secret }, { now: NOW, clientIp: '203.0.113.7', uri: '/hls/p/309/other' }), errorWith({ reason: 'URI' }));
  t.throws(() => verifyKs(parseKs(ks), { id: 309, adminSecret: secret }, { now: NOW, clientIp: '198.51.100.1', uri: `/hls${P1}` }), errorWith({ reason: 'IP' }));
  const [inPath] = tokenizeUrls({ ...cfg, usePath: true }, [`${base}${P1}`], ctx({ baseUrl: base, ks: 'x', ksUserId: 'alice' }));
  t.match(inPath, /\/flavorId\/1_f1rcit00\/ks\/djJ8[^/]+\/name\/a\.mp4\/index\.m3u8$/);
  let err: unknown;
  try { tokenizeUrls(cfg, [`${base}${P1}`], ctx({ baseUrl: base })); } catch (e) { err = e; }
  t.ok(err instanceof DeliveryError && err.code === 20, 'no KS user: MISSING_PARAMETER');
  // without ksUserId the request KS is read with the key (the partner's admin secret)
  const requestKs = generateKs({ partnerId: 309, secret, type: 0, userId: 'bob', expiry: 600, now: NOW });
  const [fromKs] = tokenizeUrls(cfg, [`${base}${P1}`], ctx({ baseUrl: base, ks: requestKs }));
  t.equal(verifyKs(parseKs(new URL(fromKs).searchParams.get('ks')!), { id: 309, adminSecret: secret }, { now: NOW, clientIp: '203.0.113.7', uri: `/hls${P1}` }).userId, 'bob');
  err = undefined;
  try { tokenizeUrls(cfg, [`${base}${P1}`], ctx({ baseUrl: base, ks: generateKs({ partnerId: 309, secret, type: 0, expiry: 600, now: NOW }) })); } catch (e) { err = e; }
  t.ok(err instanceof DeliveryError && err.code === 20, 'a KS without a user: MISSING_PARAMETER');
});

t.test('Wowza SecureToken', async (t) => {
  const cfg = { type: 'wowza', key: 'mysharedsecret', window: 30, paramPrefix: 'wowzatoken', limitIpAddress: true };
  // the profile is http://w.example/vod: the application folder is part of the signed path
  const [u] = tokenizeUrls(cfg, ['http://w.example/vod/_definst_/mp4:clip.mp4/playlist.m3u8'], ctx({ baseUrl: 'http://w.example/vod' }));
  // sorted keys: 203.0.113.7 < mysharedsecret < wowzatokenendtime < wowzatokenstarttime
  const input = `vod/_definst_/mp4:clip.mp4?203.0.113.7&mysharedsecret&wowzatokenendtime=${NOW + 30}&wowzatokenstarttime=${NOW}`;
  const hash = b64url(dgstRaw('sha256', input));
  t.equal(u, `http://w.example/vod/_definst_/mp4:clip.mp4/playlist.m3u8?wowzatokenstarttime=${NOW}&wowzatokenendtime=${NOW + 30}&wowzatokenhash=${hash.replace(/=/g, '%3D')}`);
});

t.test('CHT', async (t) => {
  const [u] = tokenizeUrls({ type: 'cht', key: 'chtkey', window: 10 }, ['http://c.example/a/b/c.mp4'], ctx({ baseUrl: 'http://c.example/a' }));
  const token = b64url(dgstRaw('md5', `/a/b/chtkey${NOW + 10}`)).replace(/=+$/, '');
  t.equal(u, `http://c.example/a/b/c.mp4?token=${token}&expires=${NOW + 10}`);
});

t.test('VNPT, three formats, with and without the client IP', async (t) => {
  const url = 'http://v.example/vod/x/a.mp4';
  const run = (tokenizationFormat: number, ip = false) =>
    tokenizeUrls({ type: 'vnpt', key: 'vk', window: 20, tokenizationFormat, shouldIncludeClientIp: ip }, [url], ctx({ baseUrl: 'http://v.example/vod' }))[0];
  const exp = NOW + 20;
  // the profile is http://v.example/vod: /vod is part of the signed path, after the token.
  // Kaltura's string is "<ip>" + ":<key>:<expiry>:<part>": without the IP it starts with ":"
  t.equal(run(0), `http://v.example/${dgst('md5', `:vk:${exp}:/vod/x`)}${exp}/vod/x/a.mp4`);
  t.equal(run(2), `http://v.example/${dgst('md5', `:vk:${exp}:/vod/x/a.mp4`)}${exp}/vod/x/a.mp4`);
  t.equal(run(1), `http://v.example/${dgst('md5', `:vk:${exp}:/vod/x`)}${exp}/vod/x/a.mp4`);
  t.equal(run(2, true), `http://v.example/${dgst('md5', `203.0.113.7:vk:${exp}:/vod/x/a.mp4`)}${exp}/vod/x/a.mp4`);
  t.equal(run(1, true), `http://v.example/${dgst('md5', `203.0.113.7:vk:${exp}:/vod/x`)}${exp}/vod/x/a.mp4`);
});

t.test('ChinaCache', async (t) => {
  const [u] = tokenizeUrls({ type: 'chinacache', key: 'cck', keyId: 'k1', algorithmId: 1, window: 5 }, ['http://cc.example/a/b.mp4'], ctx({ baseUrl: 'http://cc.example/a' }));
  const sig = openssl(['base64', '-A'], hmacRaw('sha1', 'cck', `/a/${NOW + 5}`)).toString().trim();
  t.equal(u, `http://cc.example/a/b.mp4?ACL=%2Fa%2F&P1=${NOW + 5}&P2=k1&P3=1&P4=${encodeURIComponent(sig)}`);
});

t.test('BitGravity', async (t) => {
  const bg = (hashPatternRegex: string | undefined, url: string, baseUrl: string) =>
    tokenizeUrls({ type: 'bitgravity', key: 'bgk', window: 7, hashPatternRegex }, [url], ctx({ baseUrl }))[0];
  const h = (part: string) => dgst('md5', `bgk/${part}?e=${NOW + 7}`);
  // the profile is http://bg.example/content; group 1 starts with "/": Kaltura left-trims it (one
  // "/" between the key and the part), and keeps "mp4:" that is not at the part's start
  t.equal(bg('/\\/content(\\/.*)$/', 'http://bg.example/content/p/309/a.mp4', 'http://bg.example/content'),
    `http://bg.example/content/p/309/a.mp4?e=${NOW + 7}&h=${h('p/309/a.mp4')}`);
  t.equal(bg('/\\/content(\\/.*)$/', 'http://bg.example/content/mp4:a/b.mp4', 'http://bg.example/content'),
    `http://bg.example/content/mp4:a/b.mp4?e=${NOW + 7}&h=${h('mp4:a/b.mp4')}`);
  // a part starting with "mp4:" loses it
  t.equal(bg('/\\/content\\/(.*)$/', 'http://bg.example/content/mp4:a/b.mp4', 'http://bg.example/content'),
    `http://bg.example/content/mp4:a/b.mp4?e=${NOW + 7}&h=${h('a/b.mp4')}`);
  // no pattern (kdeliver's default): the whole path, /content included
  t.equal(bg(undefined, 'http://bg.example/content/a.mp4', 'http://bg.example/content'), `http://bg.example/content/a.mp4?e=${NOW + 7}&h=${h('content/a.mp4')}`);
  const [d] = tokenizeUrls({ type: 'bitgravity', key: 'bgk', window: 7 }, ['http://bg.example/x.mp4'], ctx({ baseUrl: 'http://bg.example' }));
  t.equal(d, `http://bg.example/x.mp4?e=${NOW + 7}&h=${dgst('md5', `bgk/x.mp4?e=${NOW + 7}`)}`);
  // the profile is http://bg.example/content: the pattern sees the path from the host root
  const [c] = tokenizeUrls({ type: 'bitgravity', key: 'bgk', window: 7, hashPatternRegex: '/^\\/(content\\/.*)$/' }, ['http://bg.example/content/a/b.mp4'], ctx({ baseUrl: 'http://bg.example/content' }));
  t.equal(c, `http://bg.example/content/a/b.mp4?e=${NOW + 7}&h=${dgst('md5', `bgk/content/a/b.mp4?e=${NOW + 7}`)}`);
});

t.test('unknown tokenizer, missing key', async (t) => {
  t.throws(() => tokenizeUrls({ type: 'nope' }, ['/x'], ctx()), { name: 'TokenizerError' });
  t.throws(() => tokenizeUrls({ type: 'cht' }, ['/x'], ctx()), { name: 'TokenizerError' });
  t.same(tokenizeUrls({ type: 'cht', key: 'k' }, [], ctx()), []);
  let err: unknown;
  try { tokenizeUrls({ type: 'cloudfront', keyPairId: 'K', privateKeyFile: '/secret/dir/key.pem' }, ['/x'], ctx()); } catch (e) { err = e; }
  t.ok(err instanceof DeliveryError, 'a misconfigured tokenizer is a DeliveryError');
  t.equal((err as DeliveryError).code, 25);
  t.equal((err as DeliveryError).httpStatus, 503);
  t.notMatch((err as DeliveryError).message, /secret\/dir/, 'the server path is not in the message');
});
