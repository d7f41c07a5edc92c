// Property test: whatever arrives at api_v3 (random services, actions, flattened keys, nested
// bodies, tokens, formats), the answer is HTTP 200 with a well-formed body, and no input makes an
// action fail unexpectedly (INTERNAL_SERVERL_ERROR would mean a bug, not a bad input).
import t from 'tap';
import fc from 'fast-check';
import { startServer } from '../helpers/server.js';

const SERVICES = ['session', 'system', 'user', 'baseEntry', 'media', 'flavorAsset', 'flavorParams', 'caption_captionAsset', 'metadata_metadata', 'multirequest', 'nope', ''];
const ACTIONS = ['start', 'startWidgetSession', 'get', 'end', 'ping', 'list', 'getPlaybackContext', 'getUrl', 'getWebPlayableByEntryId', 'getFlavorAssetsWithParams', 'getByEntryId', 'serve', 'serveWebVTT', 'x', ''];
const KEYS = ['entryId', 'id', 'filter', 'pager', 'ks', 'partnerId', 'secret', 'type', 'userId', 'expiry', 'widgetId', 'captionAssetId', 'contextDataParams', 'responseProfile', 'format', 'objectType', 'idIn', 'statusIn', 'pageSize', 'pageIndex', 'mediaTypeEqual', 'entryIdEqual', 'version', '1', '2', '0', 'service', 'action', '__proto__', 'constructor'];

const scalar = fc.oneof(
  fc.constantFrom('1_rcit0qgs', '1_kssecure', '1_f1rcit00', '1_c2alt000', '_309', '_310', 'sample-admin-secret-309', '{1:result:objects:0:id}', '{1:result:ks}', '{2:result:_all:id}', '', '-1', '2', 'true', 'null', '%00', '../../etc/passwd'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 400000 }),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('v'), { maxKeys: 4 })),
})).v;
const subRequest = fc.record({ service: fc.constantFrom(...SERVICES), action: fc.constantFrom(...ACTIONS) }).chain((base) =>
  fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 }).map((extra) => ({ ...extra, ...base })));

t.test('api_v3 answers every input with 200 and never fails unexpectedly', async (t) => {
  const s = await startServer(t);
  const ks = await (await s.app.inject({ method: 'POST', url: '/api_v3/service/session/action/start', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ format: 1, secret: 'sample-admin-secret-309', partnerId: 309, type: 2 }) })).json();
  await fc.assert(fc.asyncProperty(
    fc.boolean(), fc.array(subRequest, { minLength: 1, maxLength: 4 }), fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 3 }),
    fc.constantFrom('json', 'form', 'query'), fc.boolean(), fc.constantFrom('1', '2', '3', '9', 'x'),
    async (multi, subs, common, how, withKs, format) => {
      const params: Record<string, unknown> = multi ? { ...common, ...Object.fromEntries(subs.map((r, i) => [String(i + 1), r])) } : { ...common, ...subs[0] };
      if (withKs) params.ks = ks;
      params.format = format;
      const path = multi ? '/api_v3/service/multirequest' : '/api_v3/index.php';
      const flat = new URLSearchParams();
      const flatten = (prefix: string, v: unknown) => {
        if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}:${k}` : k, x);
        else flat.append(prefix, String(v));
      };
      flatten('', params);
      const res = how === 'json'
        ? await s.app.inject({ method: 'POST', url: `${path}?callback=cb`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(params) })
        : how === 'form'
          ? await s.app.inject({ method: 'POST', url: `${path}?callback=cb`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: flat.toString() })
          : await s.app.inject({ method: 'GET', url: `${path}?callback=cb&${flat.toString()}` });
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
      if (res.body.includes('INTERNAL_SERVERL_ERROR')) throw new Error(`unexpected failure for ${JSON.stringify(params).slice(0, 500)}`);
      const ct = String(res.headers['content-type']);
      if (ct.startsWith('application/json')) JSON.parse(res.body);
      else if (ct.startsWith('application/javascript')) { if (!/^cb\(.*\);$/s.test(res.body)) throw new Error('bad JSONP'); }
      else if (ct.startsWith('text/xml')) { if (!res.body.startsWith('<?xml')) throw new Error('bad XML'); }
      else if (!ct.startsWith('text/plain') && !ct.startsWith('text/vtt')) throw new Error(`unexpected content type ${ct}`);
    },
  ), { numRuns: 400, seed: 20261124 });
  t.pass('400 random requests answered');
});
