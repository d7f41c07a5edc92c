// The CloudFront tokenizer's privateKeyFile in a library file: relative to the library file's
// folder (as mediaDir), read and checked at import, stored as the PEM itself (no path of this machine); the URLs playManifest then
// signs with it verify with openssl and the public key. The sample library's own key keeps working.
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { importLibrary, LibraryError, readLibraryFile, sampleLibraryPath, type LibraryFile } from '../../src/catalog/library.js';
import { describeCatalog } from '../../src/catalog/export.js';
import { tokenizeUrls } from '../../src/delivery/tokenizers/index.js';
import { openssl } from '../access/openssl.js';
import { startServer } from '../helpers/server.js';
import { repoPath } from '../helpers/repo.js';

const fixture = (name: string) => repoPath(`fixtures/${name}`);
const work = mkdtempSync(join(tmpdir(), 'kdeliver-cf-key-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const libDir = join(work, 'library');
mkdirSync(libDir);
copyFileSync(fixture('cloudfront-sample-key.pem'), join(libDir, 'key.pem'));
writeFileSync(join(libDir, 'not-a-key.pem'), 'hello\n');

const profile = (tokenizer: Record<string, unknown>) => ({
  id: 3020, name: 'CloudFront, own key', type: 4, streamerType: 'http', url: 'https://cf.example/media',
  tokenizer: { type: 'cloudfront', keyPairId: 'KMINE', window: 300, ...tokenizer },
});
let n = 0;
const write = (tokenizer: Record<string, unknown>) => {
  const file = join(libDir, `lib-${++n}.json`);
  writeFileSync(file, JSON.stringify({ version: 1, deliveryProfiles: [profile(tokenizer)] }));
  return file;
};
const unCf = (s: string) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
const raw = (u: string, name: string) => new RegExp(`[?&]${name}=([^&]*)`).exec(u)![1];
/** openssl's verdict on a signed URL's Signature over its Policy, with the sample public key. */
const opensslVerifies = (url: string): boolean => {
  const sig = join(work, `sig-${++n}`);
  writeFileSync(sig, unCf(raw(url, 'Signature')));
  const policy = unCf(raw(url, 'Policy'));
  try {
    return /Verified OK/.test(openssl(['dgst', '-sha1', '-verify', fixture('cloudfront-sample-key.pub.pem'), '-signature', sig], policy).toString());
  } catch {
    return false;
  }
};

t.test('a relative privateKeyFile is the file beside the library, stored as the PEM itself; playManifest signs with it', async (t) => {
  const { library, mediaDir } = readLibraryFile(write({ privateKeyFile: 'key.pem' }));
  t.equal(library.deliveryProfiles![0].tokenizer!.privateKey, readFileSync(join(libDir, 'key.pem'), 'utf8'), 'the file beside the library file, read at import');
  t.equal(library.deliveryProfiles![0].tokenizer!.privateKeyFile, undefined, 'no path of this machine is stored');
  const s = await startServer(t);
  await importLibrary(s.app.catalog, library, mediaDir, s.config.mediaRoot);
  const r = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/protocol/https/deliveryProfileId/3020/a.mp4`, { redirect: 'manual' });
  t.equal(r.status, 302, `playManifest signs (${r.headers.get('x-kaltura') ?? ''})`);
  const location = r.headers.get('location')!;
  t.match(location, /^https:\/\/cf\.example\/media\/p\/309\/.*\?Policy=.*&Signature=.*&Key-Pair-Id=KMINE$/);
  t.ok(opensslVerifies(location), 'openssl verifies the signature with the public key');
  t.match(unCf(raw(location, 'Policy')).toString(), /"Resource":"https:\/\/cf\.example\/media\/p\/309\/sp\/30900\/serveFlavor\/entryId\/1_rcit0qgs\/v\/\d+\*"/);
});

t.test('a key file that is missing, not a key or not a string refuses the library at import, with its place', async (t) => {
  const refused = (tokenizer: Record<string, unknown>, message: RegExp, what: string) => {
    let err: unknown;
    try { readLibraryFile(write(tokenizer)); } catch (e) { err = e; }
    t.ok(err instanceof LibraryError, `${what}: a LibraryError`);
    t.match((err as Error)?.message, message, what);
  };
  refused({ privateKeyFile: 'nope.pem' }, /deliveryProfiles\[0\]\.tokenizer\.privateKeyFile: cannot read .*library\/nope\.pem \(ENOENT\)/, 'missing');
  refused({ privateKeyFile: 'not-a-key.pem' }, /deliveryProfiles\[0\]\.tokenizer\.privateKeyFile: .*not-a-key\.pem is not a PEM private key/, 'not a key');
  refused({ privateKeyFile: 7 }, /deliveryProfiles\[0\]\.tokenizer\.privateKeyFile: must be a string/, 'a number');
  refused({ privateKeyFile: 'key.pem', privateKey: 'another key' }, /deliveryProfiles\[0\]\.tokenizer\.privateKeyFile: give the key once: privateKeyFile or privateKey, not both/, 'both');
  // an absolute path is taken as it is; an inline key needs no file
  const abs = readLibraryFile(write({ privateKeyFile: join(libDir, 'key.pem') })).library;
  t.equal(abs.deliveryProfiles![0].tokenizer!.privateKey, readFileSync(join(libDir, 'key.pem'), 'utf8'));
  t.doesNotThrow(() => readLibraryFile(write({ privateKey: 'inline PEM, checked when used' })));
});

t.test('the sample library\'s key: resolved beside it; a relative name an older import stored still works', async (t) => {
  const { library } = readLibraryFile(sampleLibraryPath());
  const cfg = library.deliveryProfiles!.find((d) => d.id === 2002)!.tokenizer!;
  t.equal(cfg.privateKey, readFileSync(join(dirname(sampleLibraryPath()), 'cloudfront-sample-key.pem'), 'utf8'), 'the key beside it, stored inline: the same wherever kdeliver is installed');
  const ctx = { now: 1_700_000_000, ks: null, clientIp: '203.0.113.7', entryId: 'e', partnerId: 309, baseUrl: 'https://d111111abcdef8.cloudfront.net' };
  const url = 'https://d111111abcdef8.cloudfront.net/p/309/sp/30900/serveFlavor/entryId/e/v/1/flavorId/f/name/a.mp4';
  t.ok(opensslVerifies(tokenizeUrls(cfg, [url], ctx)[0]), 'stored inline');
  const { privateKey: _inline, ...older } = cfg;
  t.ok(opensslVerifies(tokenizeUrls({ ...older, privateKeyFile: 'cloudfront-sample-key.pem' }, [url], ctx)[0]), 'a relative name from an older import');
});

t.test('an export carries a key file an older import left in the catalog as the PEM itself', async (t) => {
  const s = await startServer(t);
  // a catalog from before keys were stored inline: the tokenizer names this machine's file
  const older = { version: 1, deliveryProfiles: [profile({ privateKeyFile: join(libDir, 'key.pem') })] } as LibraryFile;
  await importLibrary(s.app.catalog, older, libDir, s.config.mediaRoot);
  const { library } = await describeCatalog(s.app.catalog, s.config.mediaRoot);
  const cfg = library.deliveryProfiles!.find((d) => d.id === 3020)!.tokenizer!;
  t.equal(cfg.privateKey, readFileSync(join(libDir, 'key.pem'), 'utf8'), 'the PEM itself');
  t.equal(cfg.privateKeyFile, undefined, 'not this machine\'s path');
});
