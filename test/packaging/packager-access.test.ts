// Which flavors of a URL set a packager request is access-checked for: every one for a manifest,
// only the segment's own for a segment, init segment or DASH fragment. The check is the real
// mediaAccess (signature and SERVE rules) the route gives answerPackager; the test only
// counts the calls and records which flavors they were for.
import t from 'tap';
import { asDeliveryError } from '../../src/errors.js';
import { answerPackager } from '../../src/packaging/packager.js';
import { parsePackagerPath, type PackagerProtocol } from '../../src/request/packager-url.js';
import { mediaAccess } from '../../src/serve/media-access.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { startServer } from '../helpers/server.js';

const srv = await startServer(t);
const { catalog } = srv.app;
const config = srv.config;
const now = Math.floor(Date.now() / 1000);
// 1_kssecure has access-control rules: its media URLs must carry playManifest's signature
const SET = '/p/309/sp/30900/serveFlavor/entryId/1_kssecure/v/1/flavorId/1_f,1kssec0,2kssec0,3kssec0,/name/a.mp4.urlset';
const SEQ = '/p/309/sp/30900/serveFlavor/entryId/1_kssecure/sequence/1_kssecure,1_rcit0qgs/v/1/flavorParamIds/301961,301951/name/a.mp4';

interface Outcome {
  /** The flavors checked, in order ('-' for an entry-only check). */
  checked: string[];
  kind?: string;
  error?: string;
}

async function ask(proto: PackagerProtocol, base: string, file: string, opts: { sign?: boolean; tamper?: boolean; at?: number } = {}): Promise<Outcome> {
  let url = `/${proto}${base}/${file}`;
  if (opts.sign !== false) url = signMediaUrl(url, config.mediaUrlSecret, opts.at ?? now);
  if (opts.tamper) url = url.replace(/\/sig\/(.)/, (_, c: string) => `/sig/${c === 'A' ? 'B' : 'A'}`);
  const checked: string[] = [];
  const req = parsePackagerPath(proto, url.slice(proto.length + 1));
  try {
    const answer = await answerPackager(req, {
      catalog,
      config,
      cache: srv.app.indexCache,
      media: srv.app.media,
      baseUrl: 'http://127.0.0.1',
      checkKeySession: async () => {},
      checkAccess: async (entry, flavor) => {
        checked.push(flavor?.id ?? '-');
        return (await mediaAccess({ catalog, config, now, http: { rawUrl: url, clientIp: '127.0.0.1', headers: {}, country: () => null, regexBudget: { left: 2_000_000 } } }, entry, flavor)).refusal;
      },
    });
    return { checked, kind: answer.kind };
  } catch (e) {
    const err = asDeliveryError(e);
    if (!err) throw e;
    return { checked, error: err.errorName };
  }
}

t.test('manifests check every flavor of the set', async (t) => {
  t.same(await ask('hls', SET, 'master.m3u8'), { checked: ['1_f1kssec0', '1_f2kssec0', '1_f3kssec0'], kind: 'text' });
  t.same(await ask('hls', SET, 'index-f2-v1-a1.m3u8'), { checked: ['1_f1kssec0', '1_f2kssec0', '1_f3kssec0'], kind: 'text' });
  t.same(await ask('dash', SET, 'manifest.mpd'), { checked: ['1_f1kssec0', '1_f2kssec0', '1_f3kssec0'], kind: 'text' });
  t.same(await ask('mss', SET, 'manifest'), { checked: ['1_f1kssec0', '1_f2kssec0', '1_f3kssec0'], kind: 'text' });
});

t.test('a segment checks only the flavor whose bytes it serves', async (t) => {
  t.same(await ask('hls', SET, 'seg-1-f1-v1-a1.ts'), { checked: ['1_f1kssec0'], kind: 'media' }, 'flavor 1 of 3: one check, not three');
  t.same(await ask('hls', SET, 'seg-2-v1-a1.ts'), { checked: ['1_f1kssec0'], kind: 'media' }, 'no -f: the first flavor');
  t.same(await ask('hls', SET, 'seg-1-f3-v1-a1.ts'), { checked: ['1_f3kssec0'], kind: 'media' });
  t.same(await ask('hls', `/container/fmp4${SET}`, 'init-f2-v1-a1.mp4'), { checked: ['1_f2kssec0'], kind: 'media' });
  t.same(await ask('hls', `/container/fmp4${SET}`, 'seg-3-f2-v1-a1.m4s'), { checked: ['1_f2kssec0'], kind: 'media' });
  t.same(await ask('dash', SET, 'fragment-2-f3-a1.m4s'), { checked: ['1_f3kssec0'], kind: 'media' });
  t.same(await ask('hls', SEQ, 'seg-7-f2-v1-a1.ts'), { checked: ['-', '1_f2kssec0', '1_f2rcit00'], kind: 'media' }, 'a sequence: its entry and the clips of rendition 2');
  t.same(await ask('hls', SET, 'seg-1-f7-v1-a1.ts'), { checked: ['1_f1kssec0', '1_f2kssec0', '1_f3kssec0'], error: 'FILE_NOT_FOUND' }, 'an -f outside the set checks all, then is not found');
});

t.test('unsigned, tampered and expired URLs are refused for segments as for manifests', async (t) => {
  for (const [proto, base, file] of [
    ['hls', SET, 'master.m3u8'],
    ['hls', SET, 'seg-1-f2-v1-a1.ts'],
    ['hls', `/container/fmp4${SET}`, 'init-f3-v1-a1.mp4'],
    ['dash', SET, 'fragment-1-f1-v1.m4s'],
    ['hls', SET, 'seg-1-f7-v1-a1.ts'],
    ['hls', SEQ, 'seg-1-f1-v1-a1.ts'],
  ] as const) {
    t.same(await ask(proto, base, file, { sign: false }), { checked: [(await ask(proto, base, file)).checked[0]], error: 'INVALID_TOKEN' }, `${file} unsigned`);
    t.match(await ask(proto, base, file, { tamper: true }), { error: 'INVALID_TOKEN' }, `${file} with a changed signature`);
    t.match(await ask(proto, base, file, { at: now - 2 * 86400 }), { error: 'EXPIRED_TOKEN' }, `${file} signed two days ago`);
  }
});
