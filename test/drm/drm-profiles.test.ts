// Per-partner DRM profiles, configured as a user does it: `kdeliver export` of the sample
// library, Widevine, PlayReady and FairPlay licence servers added to partner 309, `kdeliver
// import`. Then 1_cenc0001's MPD carries ContentProtection with each licence URL and pssh boxes
// that parse (mp4box reads the init segment's), fMP4 HLS carries EXT-X-KEY for each system
// (FairPlay's skd:// in cbcs only), Smooth Streaming carries the PlayReady header,
// getPlaybackContext lists them under Kaltura's scheme names, and neither key nor KS reaches the log.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';
import { loadConfig } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';
import { generateKs, ksForPath } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { readPlayReadyHeader } from '../../src/media/crypto/pssh-data.js';
import { DRM_URL_PLACEHOLDERS, drmProfilesProblem, normalDrmProfiles } from '../../src/catalog/drm-profiles.js';
import { fairPlayKeyUri, playbackDrmData, profileLicenseUrl } from '../../src/drm/profiles.js';
import type { Entry } from '../../src/catalog/types.js';
import { binTarget, run } from '../helpers/command.js';

const mp4box = createRequire(import.meta.url)('mp4box') as { createFile(): any };

const CENC_KID = 'b0eb8a17323924b6d8d36875aacb0b48';
const CENC_KEY = '2e12bc8bbc726374d07ee3626f50108f';
const WIDEVINE = 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed';
const PLAYREADY = '9a04f079-9840-4286-ab92-e65be0885f95';
const CLEARKEY = '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b';
const CERT = Buffer.from('a FairPlay application certificate (DER in real life)').toString('base64');
const PROFILES = [
  { provider: 'widevine', licenseServerUrl: 'https://wv.example.test/license?entry={entryId}&ks={ks}' },
  { provider: 'playready', licenseServerUrl: 'https://pr.example.test/rightsmanager.asmx?p={partnerId}' },
  { provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/fps/license', publicCertificate: CERT, certificateUrl: 'https://fps.example.test/fps/certificate.der', keyUri: 'skd://entry-{entryId}' },
];

const work = mkdtempSync(join(tmpdir(), 'kdeliver-drm-profiles-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const env = { KDELIVER_DATA_DIR: join(work, 'data') };
const kdeliver = (args: string[]) => run(process.execPath, [binTarget(), ...args], { env });

// the user's way: export, add the profiles, import
const file = join(work, 'library.json');
// (no assertion before the subtests: tap would end the file's plan at the first await)
const exp = await kdeliver(['export', file]);
if (exp.code !== 0) throw new Error(`kdeliver export: ${exp.stderr}`);
const lib = JSON.parse(readFileSync(file, 'utf8'));
lib.partners.find((p: { id: number }) => p.id === 309).drmProfiles = PROFILES;
writeFileSync(file, JSON.stringify(lib));
const imp = await kdeliver(['import', file]);
if (imp.code !== 0) throw new Error(`kdeliver import: ${imp.stderr}`);

const log: string[] = [];
const sink = new Writable({ write(chunk, _e, done) { log.push(String(chunk)); done(); } });
const config = loadConfig({ ...env, KDELIVER_LOG_LEVEL: 'debug' });
const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream: sink } });
await app.listen({ host: '127.0.0.1', port: 0 });
t.teardown(() => app.close());
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 3600, userId: 'viewer', privileges: 'sview:1_cenc0001', now: Math.floor(Date.now() / 1000) });
const F = '/p/309/sp/30900/serveFlavor/entryId/1_cenc0001/v/1/flavorId/1_f1cenc00';
const sign = (path: string) => url + signMediaUrl(path, config.mediaUrlSecret, Math.floor(Date.now() / 1000), undefined, ksForPath(ks));
const get = async (u: string) => {
  const res = await fetch(u, { redirect: 'manual' });
  return { status: res.status, res, body: Buffer.from(await res.arrayBuffer()) };
};

/** A pssh box's parts (ISO/IEC 23001-7 8.1): version, system id, key ids (v1), data. */
function readPssh(b: Buffer): { version: number; systemId: string; kids: string[]; data: Buffer } {
  t.equal(b.readUInt32BE(0), b.length, 'pssh box size is its length');
  t.equal(b.toString('latin1', 4, 8), 'pssh');
  const version = b[8];
  const hex = b.toString('hex', 12, 28);
  const systemId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  let at = 28;
  const kids: string[] = [];
  if (version === 1) {
    const n = b.readUInt32BE(at);
    at += 4;
    for (let i = 0; i < n; i++, at += 16) kids.push(b.toString('hex', at, at + 16));
  }
  const size = b.readUInt32BE(at);
  t.equal(at + 4 + size, b.length, 'pssh data size fills the box');
  return { version, systemId, kids, data: b.subarray(at + 4) };
}

/** The key ids of WidevinePsshData (protobuf field 2). */
function widevineKids(data: Buffer): string[] {
  const kids: string[] = [];
  for (let at = 0; at < data.length;) {
    const tag = data[at++];
    if ((tag & 7) === 2) {
      const len = data[at++];
      if (tag >> 3 === 2) kids.push(data.toString('hex', at, at + len));
      at += len;
    } else if ((tag & 7) === 0) {
      while (data[at++] & 0x80);
    } else throw new Error(`unexpected protobuf wire type ${tag & 7}`);
  }
  return kids;
}

const PR_KID = Buffer.from('178aebb03932b624d8d36875aacb0b48', 'hex').toString('base64'); // the key id as a little-endian GUID

t.test('the MPD has ContentProtection for ClearKey, Widevine and PlayReady, each with its licence URL and a valid pssh', async (t) => {
  const redirect = await get(`${url}/p/309/sp/30900/playManifest/entryId/1_cenc0001/format/mpegdash/protocol/http/ks/${ks}/a.mpd`);
  t.equal(redirect.status, 302);
  const mpd = (await get(redirect.res.headers.get('location')!)).body.toString();
  const cp = (id: string) => new RegExp(`<ContentProtection schemeIdUri="urn:uuid:${id}"[^>]*>([\\s\\S]*?)</ContentProtection>`).exec(mpd)?.[1] ?? '';
  const wv = cp(WIDEVINE);
  t.match(wv, /<dashif:laurl>https:\/\/wv\.example\.test\/license\?entry=1_cenc0001&amp;ks=[A-Za-z0-9%_-]+<\/dashif:laurl>/, 'Widevine licence URL, entry and KS filled in');
  const wvPssh = readPssh(Buffer.from(/<cenc:pssh>([^<]+)</.exec(wv)![1], 'base64'));
  t.equal(wvPssh.systemId, WIDEVINE);
  t.same(widevineKids(wvPssh.data), [CENC_KID], 'WidevinePsshData names the key id');
  const pr = cp(PLAYREADY);
  t.match(pr, '<dashif:laurl>https://pr.example.test/rightsmanager.asmx?p=309</dashif:laurl>');
  const pro = Buffer.from(/<mspr:pro>([^<]+)</.exec(pr)![1], 'base64');
  const header = readPlayReadyHeader(pro);
  t.match(header, `<KID>${PR_KID}</KID>`, 'the PlayReady header names the key id (little-endian GUID)');
  t.match(header, '<ALGID>AESCTR</ALGID>');
  const prPssh = readPssh(Buffer.from(/<cenc:pssh>([^<]+)</.exec(pr)![1], 'base64'));
  t.equal(prPssh.systemId, PLAYREADY);
  t.same(prPssh.data, pro, 'the pssh data is the PlayReady Object');
  t.match(cp(CLEARKEY), /clearKeyLicense\/entryId\/1_cenc0001\/ks\//, 'ClearKey stays');
  t.notMatch(mpd, /fps\.example|streamingkeydelivery/, 'FairPlay is not a DASH system');

  // the init segment's pssh boxes, as mp4box reads them
  const init = (await get(new URL('init-f1-v1.mp4', redirect.res.headers.get('location')!).href)).body;
  const f = mp4box.createFile();
  const ab = init.buffer.slice(init.byteOffset, init.byteOffset + init.byteLength) as ArrayBuffer & { fileStart?: number };
  ab.fileStart = 0;
  f.appendBuffer(ab);
  f.flush();
  const psshs = (f.moov?.psshs ?? f.moov?.boxes?.filter((b: { type: string }) => b.type === 'pssh') ?? []) as Array<{ system_id: string; data?: Uint8Array; kid?: unknown[] }>;
  const ids = psshs.map((p) => p.system_id.replace(/-/g, '').toLowerCase());
  t.same(ids.sort(), [CLEARKEY, WIDEVINE, PLAYREADY].map((s) => s.replace(/-/g, '')).sort(), 'mp4box reads a pssh per system in the init segment');
});

t.test('HLS: EXT-X-KEY for each system; FairPlay skd:// with cbcs fMP4 and SAMPLE-AES MPEG-TS only', async (t) => {
  const cenc = (await get(sign(`/hls/container/fmp4${F}/name/a.mp4/index.m3u8`))).body.toString();
  t.match(cenc, /#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="data:text\/plain;base64,[A-Za-z0-9+/=]+",KEYID=0xb0eb8a17323924b6d8d36875aacb0b48,KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"/, 'Widevine (pssh as data URI)');
  t.match(cenc, /#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="data:text\/plain;charset=UTF-16;base64,[^"]+",KEYFORMAT="com.microsoft.playready"/, 'PlayReady');
  t.match(cenc, /KEYFORMAT="org.w3.clearkey"/, 'ClearKey stays');
  t.notMatch(cenc, /skd:/, 'no FairPlay key with cenc (FairPlay plays cbcs only)');
  const wvUri = /URI="data:text\/plain;base64,([^"]+)",KEYID=[^,]+,KEYFORMAT="urn:uuid:edef8ba9/.exec(cenc)![1];
  t.same(widevineKids(readPssh(Buffer.from(wvUri, 'base64')).data), [CENC_KID], 'the Widevine data URI is a pssh box naming the key id');

  const cbcsIndex = sign(`/hls/container/fmp4${F}/name/a.mp4/index.m3u8`).replace(/\/index\.m3u8$/, '/encryption/cbcs/index.m3u8');
  const cbcs = (await get(cbcsIndex)).body.toString();
  t.match(cbcs, '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://entry-1_cenc0001",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"', 'FairPlay skd:// from the profile');
  t.match(cbcs, /#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text\/plain;base64,[^"]+",KEYID=0xb0eb8a17323924b6d8d36875aacb0b48,KEYFORMAT="urn:uuid:edef8ba9/, 'Widevine');
  const cbcsInit = (await get(new URL('init-v1-a1.mp4', cbcsIndex).href)).body;
  t.ok(cbcsInit.includes(Buffer.from('cbcs')), 'the cbcs init segment says cbcs');

  // MPEG-TS: FairPlay's key with SAMPLE-AES, none with whole-segment AES-128
  const tsIndex = sign(`/hls${F}/name/a.mp4/index.m3u8`);
  const aes = (await get(tsIndex)).body.toString();
  t.match(aes, '#EXT-X-KEY:METHOD=AES-128,URI="encryption.key"');
  t.notMatch(aes, /skd:/);
  const sampleAes = (await get(tsIndex.replace(/\/index\.m3u8$/, '/encryption/sample-aes/index.m3u8'))).body.toString();
  t.match(sampleAes, /#EXT-X-KEY:METHOD=SAMPLE-AES,URI="encryption.key",IV=0x[0-9a-f]{32}\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd:\/\/entry-1_cenc0001",IV=0x[0-9a-f]{32},KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"/, 'SAMPLE-AES: the key URI and FairPlay');
});

t.test('Smooth Streaming carries the PlayReady header with its licence URL', async (t) => {
  const manifest = sign(`/mss${F}/forceproxy/true/name/a.mp4/manifest`);
  const mss = await get(manifest);
  t.equal(mss.status, 200);
  const m = /<ProtectionHeader SystemID="9A04F079-9840-4286-AB92-E65BE0885F95">([^<]+)<\/ProtectionHeader>/.exec(mss.body.toString());
  t.ok(m, 'Protection header of PlayReady');
  const header = readPlayReadyHeader(Buffer.from(m![1], 'base64'));
  t.match(header, `<KID>${PR_KID}</KID>`);
  t.match(header, '<LA_URL>https://pr.example.test/rightsmanager.asmx?p=309</LA_URL>');
  const pm = await get(`${url}/p/309/sp/30900/playManifest/entryId/1_cenc0001/format/sl/protocol/http/ks/${ks}/manifest`);
  t.ok(pm.status === 200 || pm.status === 302, `playManifest format/sl answers (${pm.status})`);
});

t.test('getPlaybackContext lists the DRM data under Kaltura\'s scheme names, with licence URLs and the certificate', async (t) => {
  const pc = await (await fetch(`${url}/api_v3/service/baseEntry/action/getPlaybackContext`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 1, ks, entryId: '1_cenc0001', contextDataParams: { objectType: 'KalturaContextDataParams' } }),
  })).json();
  const dash = pc.sources.find((s: { format: string }) => s.format === 'mpegdash');
  t.match(dash.drm, [
    { objectType: 'KalturaDrmPlaybackPluginData', scheme: 'kdeliver.CLEAR_KEY', licenseURL: /\/clearKeyLicense\/entryId\/1_cenc0001\/ks\/.+\/license$/ },
    { objectType: 'KalturaDrmPlaybackPluginData', scheme: 'drm.WIDEVINE_CENC', licenseURL: `https://wv.example.test/license?entry=1_cenc0001&ks=${encodeURIComponent(ks)}` },
    { objectType: 'KalturaDrmPlaybackPluginData', scheme: 'drm.PLAYREADY_CENC', licenseURL: 'https://pr.example.test/rightsmanager.asmx?p=309' },
  ]);
  t.equal(dash.drm.length, 3);
  const hls = pc.sources.find((s: { format: string }) => s.format === 'applehttp');
  t.same(hls.drm, [{
    objectType: 'KalturaFairPlayPlaybackPluginData', scheme: 'fairplay.FAIRPLAY', licenseURL: 'https://fps.example.test/fps/license',
    certificate: CERT, certificateURL: 'https://fps.example.test/fps/certificate.der',
  }]);
  const clear = await (await fetch(`${url}/api_v3/service/baseEntry/action/getPlaybackContext`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 1, ks, entryId: '1_rcit0qgs' }),
  })).json();
  t.ok(clear.sources.every((s: { drm: unknown[] }) => s.drm.length === 0), 'a clear entry of the same partner has none');
});

t.test('the decision trace names the licence servers', async (t) => {
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 3600, userId: 'admin', now: Math.floor(Date.now() / 1000) });
  const res = await fetch(`${url}/console/api/trace?url=${encodeURIComponent(`/p/309/sp/30900/playManifest/entryId/1_cenc0001/format/mpegdash/protocol/http/ks/${ks}/a.mpd`)}`, { headers: { 'x-kaltura-ks': admin } });
  const r = { status: res.status, ...(await res.json()) };
  t.equal(r.status, 200);
  const steps = (r as { trace: Array<{ message: string }> }).trace.map((s) => s.message).join('\n');
  t.match(steps, /licences from kdeliver \(ClearKey\), widevine \(wv\.example\.test\), playready \(pr\.example\.test\)/);
  t.notOk(steps.includes(ks), 'the trace does not carry the KS');
});

t.test('export keeps the profiles; a bad profile is refused by import with its place in the file', async (t) => {
  const again = join(work, 'again.json');
  t.equal((await kdeliver(['export', again])).code, 0);
  t.same(JSON.parse(readFileSync(again, 'utf8')).partners.find((p: { id: number }) => p.id === 309).drmProfiles, PROFILES);
  const bad = JSON.parse(readFileSync(again, 'utf8'));
  bad.partners.find((p: { id: number }) => p.id === 309).drmProfiles = [{ provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/' }];
  writeFileSync(again, JSON.stringify(bad));
  const r = await kdeliver(['import', again]);
  t.not(r.code, 0);
  t.match(r.stderr, /partners\[\d+\]\.drmProfiles: \[0\]\.publicCertificate must be the FairPlay application certificate/);
  for (const [what, certificateUrl] of [['not http(s)', 'ftp://fps.example.test/cert.der'], ['with a space', 'https://fps.example.test/a cert.der'], ['not a string', 42]] as const) {
    bad.partners.find((p: { id: number }) => p.id === 309).drmProfiles = [{ provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/', certificateUrl }];
    writeFileSync(again, JSON.stringify(bad));
    const refused = await kdeliver(['import', again]);
    t.not(refused.code, 0, `certificateUrl ${what}: refused`);
    t.match(refused.stderr, /\[0\]\.certificateUrl must be an http\(s\) URL/, `certificateUrl ${what}: named`);
  }
  bad.partners.find((p: { id: number }) => p.id === 309).drmProfiles = [{ provider: 'widevine', licenseServerUrl: 'https://wv.example.test/', certificateUrl: 'https://wv.example.test/c' }];
  writeFileSync(again, JSON.stringify(bad));
  t.match((await kdeliver(['import', again])).stderr, /\[0\]\.certificateUrl is a FairPlay setting/);
});

t.test('a FairPlay profile with certificateUrl only: valid, and the playback context lists the URL without a certificate', async (t) => {
  const profile = { provider: 'fairplay' as const, licenseServerUrl: 'https://fps.example.test/fps/license', certificateUrl: 'https://fps.example.test/fps/certificate.der' };
  t.equal(drmProfilesProblem([profile]), null);
  t.same(normalDrmProfiles([profile]), [profile]);
  const entry = { id: '1_cenc0001', partnerId: 309 } as Entry;
  t.same(playbackDrmData({ drmProfiles: [profile] }, entry, 'applehttp', undefined), [{
    objectType: 'KalturaFairPlayPlaybackPluginData', scheme: 'fairplay.FAIRPLAY', licenseURL: 'https://fps.example.test/fps/license',
    certificateURL: 'https://fps.example.test/fps/certificate.der',
  }]);
  t.match(drmProfilesProblem([{ provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/' }]), /publicCertificate must be/, 'neither: refused');
});

t.test('a placeholder kdeliver does not replace is refused, not given to players as written', async (t) => {
  // {entryid} (a wrong case) or {flavorId} would reach every player literally, and every licence request would fail
  const wv = (licenseServerUrl: string) => [{ provider: 'widevine', licenseServerUrl }];
  t.match(drmProfilesProblem(wv('https://drm.example.test/wv?entry={entryid}&ks={ks}')), /\[0\]\.licenseServerUrl: \{entryid\} is not replaced \(the placeholders are \{partnerId\}, \{entryId\} and \{ks\}\)/);
  t.match(drmProfilesProblem(wv('https://drm.example.test/{flavorId}/license')), /\{flavorId\} is not replaced/);
  t.equal(drmProfilesProblem(wv('https://drm.example.test/{partnerId}/wv?entry={entryId}&ks={ks}')), null, 'the three placeholders: valid');
  const fp = (o: Record<string, string>) => [{ provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/', publicCertificate: 'AAAA', ...o }];
  t.match(drmProfilesProblem(fp({ keyUri: 'skd://{entryID}' })), /\[0\]\.keyUri: \{entryID\} is not replaced \(the placeholders are \{entryId\} and \{keyId\}\)/);
  t.equal(drmProfilesProblem(fp({ keyUri: 'skd://{entryId}/{keyId}' })), null);
  t.match(drmProfilesProblem(fp({ certificateUrl: 'https://fps.example.test/{partnerId}/cert.der' })), /\[0\]\.certificateUrl: \{partnerId\} is not replaced \(it is used as written\)/);
  const bad = JSON.parse(JSON.stringify(lib));
  bad.partners.find((p: { id: number }) => p.id === 309).drmProfiles = wv('https://drm.example.test/wv?entry={entryid}');
  const placeholder = join(work, 'placeholder.json');
  writeFileSync(placeholder, JSON.stringify(bad));
  const r = await kdeliver(['import', placeholder]);
  t.not(r.code, 0, 'import refuses it');
  t.match(r.stderr, /partners\[\d+\]\.drmProfiles: \[0\]\.licenseServerUrl: \{entryid\} is not replaced/, 'with its place in the file');
});

// one table says what import accepts and what delivery replaces: every name accepted for a field is
// gone from what a player receives (a name added for one and not the other reached players literally)
t.test('every placeholder import accepts is replaced in what players receive', async (t) => {
  const entry = { id: '1_cenc0001', partnerId: 309 } as Entry;
  const keyId = Buffer.from(CENC_KID, 'hex');
  const deliver: Record<keyof typeof DRM_URL_PLACEHOLDERS, ((url: string) => string) | null> = {
    licenseServerUrl: (url) => profileLicenseUrl({ provider: 'widevine', licenseServerUrl: url }, entry, ks),
    keyUri: (url) => fairPlayKeyUri({ provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/', keyUri: url }, entry, keyId),
    certificateUrl: null, // used as written: no names accepted
  };
  for (const [field, names] of Object.entries(DRM_URL_PLACEHOLDERS) as [keyof typeof DRM_URL_PLACEHOLDERS, readonly string[]][]) {
    const query = names.map((n) => `${n}={${n}}`).join('&');
    const url = field === 'keyUri' ? `skd://x?${query}` : `https://drm.example.test/x?${query}`;
    const profile = field === 'licenseServerUrl' ? { provider: 'widevine', licenseServerUrl: url }
      : { provider: 'fairplay', licenseServerUrl: 'https://fps.example.test/', publicCertificate: 'AAAA', [field]: url };
    t.equal(drmProfilesProblem([profile]), null, `${field}: ${names.join(', ') || 'no placeholder'} accepted`);
    if (names.length === 0) continue;
    const out = deliver[field]!(url);
    t.notMatch(out, /\{\w+\}/, `${field}: each of them replaced (${out.slice(0, 120)})`);
  }
  t.match(profileLicenseUrl({ provider: 'widevine', licenseServerUrl: 'https://d.test/{partnerId}/{entryId}' }, entry, undefined), 'https://d.test/309/1_cenc0001');
  t.equal(fairPlayKeyUri({ provider: 'fairplay', licenseServerUrl: 'https://f.test/' }, entry, keyId), `skd://${CENC_KID.toLowerCase()}`, 'the default key URI');
});

t.test('neither the content key nor the KS reaches the log', async (t) => {
  // a licence and a key request of this partner's entries, then the whole log
  const lic = await fetch(`${url}/p/309/sp/30900/clearKeyLicense/entryId/1_cenc0001/ks/${ksForPath(ks)}/license`, {
    method: 'POST', body: JSON.stringify({ kids: [Buffer.from(CENC_KID, 'hex').toString('base64url')], type: 'temporary' }),
  });
  t.equal(lic.status, 200);
  t.match(await lic.text(), Buffer.from(CENC_KEY, 'hex').toString('base64url'), 'the licence carries the key');
  const all = log.join('');
  t.match(all, /clearKeyLicense/, 'the licence request was logged');
  for (const form of [CENC_KEY, Buffer.from(CENC_KEY, 'hex').toString('base64'), Buffer.from(CENC_KEY, 'hex').toString('base64url')]) t.notOk(all.includes(form), 'no content key');
  t.notOk(all.includes(ks.slice(10, 60)) || all.includes(ksForPath(ks).slice(10, 60)) || all.includes(encodeURIComponent(ks).slice(10, 60)), 'no KS');
});
