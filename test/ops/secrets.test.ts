// The server-wide secrets always exist, and what playManifest signs with is what the media routes
// check with, through real `kdeliver` processes and HTTP:
// - the sample library off and no secrets configured: the signed media URLs of a protected entry
//   play (they used to be refused with error 27: signed with an empty secret that the check refuses);
// - production with nothing configured starts (it used to refuse), generates both secrets once,
//   keeps them in the data directory (0600) across restarts, and `kdeliver sign` uses the same; the
//   catalog (partners' admin secrets, content keys) is private too;
// - configured values win over the stored ones; the sample secrets are still refused in production.
import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { signPlayManifestUrl } from '../../src/access/kt.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-secrets-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const SAMPLE = join(projectRoot, 'fixtures', 'sample-library.json');
const PM = '/p/309/sp/30900/playManifest/entryId/1_kssecure';

const userKs = async (env: Record<string, string>) => {
  const r = await cmd.kdeliver(['ks', '--partner', '309', '--type', 'user', '--privileges', 'sview:1_kssecure'], env);
  if (r.code !== 0) throw new Error(`kdeliver ks: ${r.stderr}`);
  return r.stdout.trim();
};
const get = (url: string) => fetch(url, { redirect: 'manual' });
/** playManifest format/url of the protected entry with a KS: the signed serveFlavor URL it redirects to. */
const mediaUrlOf = async (base: string, ks: string) => {
  const res = await get(`${base}${PM}/format/url/protocol/http/ks/${ks}/a.mp4`);
  if (res.status !== 302) throw new Error(`playManifest: ${res.status} ${res.headers.get('x-kaltura')} ${await res.text()}`);
  return res.headers.get('location')!;
};
const isMp4 = async (t: Test, res: Response, what: string) => {
  t.equal(res.status, 200, `${what}: ${res.status} ${res.headers.get('x-kaltura') ?? ''}`);
  const body = Buffer.from(await res.arrayBuffer());
  t.equal(body.subarray(4, 8).toString('latin1'), 'ftyp', `${what}: an MP4`);
};
const secretsFile = (dir: string) => join(dir, 'secrets.json');

t.test('sample library off, no secrets configured: a protected entry plays through its signed media URLs', async (t) => {
  const env = { KDELIVER_DATA_DIR: join(work, 'dev'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const imported = await cmd.kdeliver(['import', SAMPLE], env);
  t.equal(imported.code, 0, imported.stderr);
  const server = await cmd.serve(env);
  const ks = await userKs(env);
  const media = await mediaUrlOf(server.url, ks);
  t.match(media, /\/serveFlavor\/.*\/exp\/\d+\/sig\/[\w-]+\/name\/a\.mp4$/, 'a signed serveFlavor URL');
  await isMp4(t, await get(media), 'serveFlavor');

  const master = await get(`${server.url}${PM}/format/applehttp/protocol/http/ks/${ks}/a.m3u8`);
  t.equal(master.status, 200);
  const masterText = await master.text();
  const variant = new URL(masterText.split('\n').find((l) => l && !l.startsWith('#'))!, master.url || server.url).href;
  const playlist = await get(variant);
  t.equal(playlist.status, 200, `variant playlist: ${playlist.headers.get('x-kaltura') ?? ''}`);
  const segment = (await playlist.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
  const seg = await get(new URL(segment, variant).href);
  t.equal(seg.status, 200, `segment: ${seg.headers.get('x-kaltura') ?? ''}`);
  t.equal(Buffer.from(await seg.arrayBuffer())[0], 0x47, 'an MPEG-TS segment');
  t.equal(await server.stop(), 0);
});

t.test('production with no secrets configured: starts, generates them once, keeps them private and across restarts', async (t) => {
  const dir = join(work, 'prod');
  const env = { KDELIVER_DATA_DIR: dir, NODE_ENV: 'production' };
  // two processes meeting an empty data directory at once agree on one kt secret
  const expiry = String(Math.floor(Date.now() / 1000) + 3600);
  const [a, b] = await Promise.all([0, 1].map(() => cmd.kdeliver(['sign', `${PM}/format/url/protocol/http/a.mp4`, '--expiry', expiry], env)));
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stdout, b.stdout, 'the same kt from both');
  const stored = JSON.parse(readFileSync(secretsFile(dir), 'utf8'));
  t.equal(statSync(secretsFile(dir)).mode & 0o777, 0o600, 'secrets.json is readable by its owner only');
  for (const k of ['KDELIVER_URL_TOKEN_SECRET', 'KDELIVER_MEDIA_URL_SECRET']) t.ok(stored[k].length >= 40, `${k} generated`);
  t.not(stored.KDELIVER_URL_TOKEN_SECRET, stored.KDELIVER_MEDIA_URL_SECRET);

  const imported = await cmd.kdeliver(['import', SAMPLE], env);
  t.equal(imported.code, 0, imported.stderr);
  const server = await cmd.serve(env);
  // the catalog holds the partners' admin secrets and the content keys: as private as secrets.json
  // (its -wal and -shm files exist while a server has it open)
  const catalogFiles = ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm'].map((f) => join(dir, f));
  for (const f of catalogFiles) t.equal(statSync(f).mode & 0o777, 0o600, `${f.slice(dir.length + 1)} is readable by its owner only`);
  const signed = a.stdout.trim();
  const kt = await get(server.url + signed);
  t.equal(kt.status, 302, `the CLI's kt is the server's: ${kt.headers.get('x-kaltura') ?? ''}`);
  const ks = await userKs(env);
  const media = await mediaUrlOf(server.url, ks);
  await isMp4(t, await get(media), 'serveFlavor');
  t.equal(await server.stop(), 0);

  chmodSync(secretsFile(dir), 0o644);
  // a catalog made by an older kdeliver under the usual umask
  chmodSync(join(dir, 'catalog.sqlite'), 0o644);
  const again = await cmd.serve(env);
  t.same(JSON.parse(readFileSync(secretsFile(dir), 'utf8')), stored, 'the same secrets after a restart');
  t.equal(statSync(secretsFile(dir)).mode & 0o777, 0o600, 'made private again');
  for (const f of catalogFiles) t.equal(statSync(f).mode & 0o777, 0o600, `${f.slice(dir.length + 1)} made private again`);
  await isMp4(t, await get(media.replace(server.url, again.url)), 'a media URL signed before the restart');
  t.equal((await get(again.url + signed)).status, 302, 'a kt signed before the restart');
  t.equal(await again.stop(), 0);

  // configured values win over the stored ones
  const own = { KDELIVER_URL_TOKEN_SECRET: 'u'.repeat(32), KDELIVER_MEDIA_URL_SECRET: 'm'.repeat(32) };
  const configured = await cmd.serve({ ...env, ...own });
  const refused = await get(configured.url + signed);
  t.equal(refused.status, 403);
  t.equal(refused.headers.get('x-kaltura'), 'error-27', 'a kt of the stored secret is refused');
  t.equal((await get(configured.url + signPlayManifestUrl(`${PM}/format/url/protocol/http/a.mp4`, own.KDELIVER_URL_TOKEN_SECRET, Number(expiry)))).status, 302);
  const path = new URL(media).pathname.replace(/\/exp\/\d+\/sig\/[^/]+/, '');
  const oldSig = await get(media.replace(server.url, configured.url));
  t.equal(oldSig.headers.get('x-kaltura'), 'error-27', 'a media URL of the stored secret is refused');
  await isMp4(t, await get(configured.url + signMediaUrl(path, own.KDELIVER_MEDIA_URL_SECRET, Math.floor(Date.now() / 1000))), 'a media URL of the configured secret');
  t.equal(await configured.stop(), 0);
});

t.test('production still refuses the sample secrets unless the sample library is asked for', async (t) => {
  const env = { KDELIVER_DATA_DIR: join(work, 'refuse'), NODE_ENV: 'production', KDELIVER_URL_TOKEN_SECRET: 'sample-url-token-secret' };
  const r = await run('kdeliver', ['serve'], { env: { ...env, PATH: `${join(work, 'bin')}:${process.env.PATH}`, PORT: '0' }, timeoutMs: 60_000 });
  t.equal(r.code, 2);
  t.match(r.stderr, /the sample secrets are refused in production unless KDELIVER_SAMPLE_LIBRARY=true/);
});
