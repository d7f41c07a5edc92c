// playManifest by POST, as Kaltura takes it: the parameters of a form, JSON or multipart body under
// the path's and the query's, one request model, the GET's answer byte for byte; a kt refused; the
// answer cache never crossing a POST and a GET of the same URL; bad bodies refused with error 25;
// the body's KS never in the log. Real servers over the sample library.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLoggingServer, startServer } from '../helpers/server.js';
import { rawRequest, runShell, type RawAnswer } from '../helpers/raw-http.js';
import { projectRoot } from '../helpers/repo.js';
import { generateKs } from '../../src/access/ks.js';
import { signPlayManifestUrl } from '../../src/access/kt.js';

// one second for every answer: GET and POST answers carry Expires/Last-Modified and signed media
// URLs made for the request's second, and must be compared byte for byte
const T = Math.floor(Date.now() / 1000);
const s = await startServer(t, { now: () => T });
const PM = '/p/309/sp/0/playManifest';
const ks = (privileges = 'sview:*') => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'tester', expiry: 3600, privileges, version: 2, now: T });

const get = (path: string, headers: Record<string, string> = {}) => rawRequest(s.url + path, { headers });
const post = (path: string, contentType: string | null, body: string | Buffer) =>
  rawRequest(s.url + path, { method: 'POST', headers: contentType === null ? {} : { 'content-type': contentType }, body });
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
/** A multipart/form-data body of plain fields (and files: [name, filename, text]). */
const multipart = (fields: [string, string][], files: [string, string, string][] = []): { type: string; body: string } => {
  const b = 'kdeliverTestBoundary7';
  const parts = fields.map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .concat(files.map(([k, f, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"; filename="${f}"\r\nContent-Type: text/plain\r\n\r\n${v}\r\n`));
  return { type: `multipart/form-data; boundary=${b}`, body: `${parts.join('')}--${b}--\r\n` };
};
/** Status, every header but Date (the moment Node sent it), and the body's bytes. */
const answerOf = (r: RawAnswer) => {
  const { date, ...headers } = r.headers;
  return { status: r.status, headers, body: r.body.toString('latin1') };
};
const errorCode = (r: RawAnswer) => /error-(\d+)/.exec(String(r.headers['x-kaltura'] ?? ''))?.[1];

t.test('a POST is answered as the GET of the same parameters, byte for byte, in every body form', async (t) => {
  const userKs = ks();
  const cases: { name: string; getPath: string; postPath: string; params: Record<string, string> }[] = [
    { name: 'applehttp', getPath: `${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`, postPath: `${PM}/a.m3u8`, params: { entryId: '1_rcit0qgs', format: 'applehttp', protocol: 'http' } },
    { name: 'mpegdash (302)', getPath: `${PM}/entryId/1_rcit0qgs/format/mpegdash/protocol/http/manifest.mpd`, postPath: `${PM}/entryId/1_rcit0qgs/manifest.mpd`, params: { format: 'mpegdash', protocol: 'http' } },
    { name: 'url redirect, short aliases', getPath: `${PM}/entryId/1_rcit0qgs/format/url/flavorParamId/301971/video.mp4`, postPath: `${PM}/video.mp4`, params: { e: '1_rcit0qgs', f: 'url', fp: '301971' } },
    { name: 'a protected entry, the KS in the body', getPath: `${PM}/entryId/1_kssecure/format/applehttp/protocol/http/ks/${userKs}/a.m3u8`, postPath: `${PM}/entryId/1_kssecure/format/applehttp/protocol/http/a.m3u8`, params: { ks: userKs } },
    { name: 'JSON flavors (responseFormat in the body)', getPath: `${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/responseFormat/json`, postPath: `${PM}/entryId/1_rcit0qgs`, params: { format: 'applehttp', protocol: 'http', responseFormat: 'json' } },
  ];
  for (const c of cases) {
    const want = answerOf(await get(c.getPath));
    t.ok(want.status === 200 || want.status === 302, `${c.name}: the GET plays (${want.status})`);
    const mp = multipart(Object.entries(c.params));
    const bodies: [string, string, string][] = [
      ['form', 'application/x-www-form-urlencoded', form(c.params)],
      ['JSON', 'application/json', JSON.stringify(c.params)],
      ['JSON with a charset', 'application/json; charset=utf-8', JSON.stringify(c.params)],
      ['multipart fields', mp.type, mp.body],
      ['multipart json field', multipart([['json', JSON.stringify(c.params)]]).type, multipart([['json', JSON.stringify(c.params)]]).body],
    ];
    for (const [kind, type, body] of bodies) t.same(answerOf(await post(c.postPath, type, body)), want, `${c.name}: ${kind}`);
    t.same(answerOf(await get(c.getPath)), want, `${c.name}: the GET after the POSTs is the same`);
  }

  // JSONP: the callback from the query, the KS in the body
  const kssecure = `${PM}/entryId/1_kssecure/format/url/protocol/http/responseFormat/jsonp/a.js?callback=cb.x_1`;
  const jsonp = answerOf(await get(`${PM}/entryId/1_kssecure/format/url/protocol/http/responseFormat/jsonp/ks/${userKs}/a.js?callback=cb.x_1`));
  t.equal(jsonp.status, 200);
  t.match(jsonp.body, /^cb\.x_1\(/);
  t.same(answerOf(await post(kssecure, 'application/json', JSON.stringify({ ks: userKs }))), jsonp, 'JSONP with the KS in the body');
  const bodyCallback = await post(`${PM}/entryId/1_rcit0qgs/format/url/protocol/http/responseFormat/jsonp/a.js`, 'application/x-www-form-urlencoded', 'callback=cb');
  const noCallback = await get(`${PM}/entryId/1_rcit0qgs/format/url/protocol/http/responseFormat/jsonp/a.js`);
  // a refusal differs by its caching headers alone: src/render/error.ts lets only a GET's be kept
  t.same([bodyCallback.status, errorCode(bodyCallback), bodyCallback.body.toString()], [noCallback.status, errorCode(noCallback), noCallback.body.toString()], 'a callback in the body is not read (the query only, as Kaltura)');
  t.equal(bodyCallback.status, 400);

  // every URL form of the GET route takes a POST
  const want = answerOf(await get(`${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`));
  for (const prefix of ['/p/309/sp/0', '/p/309', '/s/p/309/sp/0', '/s/p/309', '/index.php/extwidget', '/extwidget']) {
    t.same(answerOf(await post(`${prefix}/playManifest`, 'application/x-www-form-urlencoded', form({ entryId: '1_rcit0qgs', format: 'applehttp', protocol: 'http' }))), want, `${prefix}/playManifest`);
    t.same(answerOf(await post(`${prefix}/playManifest/entryId/1_rcit0qgs/a.m3u8`, 'application/json', '{"format":"applehttp","protocol":"http"}')), want, `${prefix}/playManifest/...`);
  }
  // an empty POST is the GET
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`, null, '')), want, 'an empty body, no content type');
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`, 'application/json', '')), want, 'an empty JSON body');
});

t.test('path pairs win over the query, which wins over the body; a multipart json field replaces the plain fields', async (t) => {
  const hls = answerOf(await get(`${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`));
  const dash = answerOf(await get(`${PM}/entryId/1_rcit0qgs/format/mpegdash/protocol/http/a.m3u8`));
  const url = answerOf(await get(`${PM}/entryId/1_rcit0qgs/format/url/protocol/http/a.m3u8`));
  t.not(hls.body, dash.body);
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?format=mpegdash`, 'application/x-www-form-urlencoded', 'format=url')), hls, 'path over query and body');
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/protocol/http/a.m3u8?format=mpegdash`, 'application/x-www-form-urlencoded', 'format=url')), dash, 'query over body');
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/protocol/http/a.m3u8`, 'application/json', '{"format":"url"}')), url, 'the body alone');
  // the entry from the body, under the header's KS: the X-Kaltura-Ks header still wins over ks
  const one = await get(`${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/flavorIds/1_f1rcit00/a.m3u8`);
  const mp = multipart([['flavorIds', '1_f2rcit00'], ['json', '{"flavorIds":"1_f1rcit00","format":"applehttp"}']]);
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/protocol/http/a.m3u8`, mp.type, mp.body)), answerOf(one), 'the json field replaces the plain fields');
  const emptyJson = multipart([['format', 'mpegdash'], ['json', '{}']]);
  t.same(answerOf(await post(`${PM}/entryId/1_rcit0qgs/protocol/http/a.m3u8`, emptyJson.type, emptyJson.body)), dash, 'an empty json field leaves the plain fields (Kaltura: an empty array is falsy)');
  const header = await post(`${PM}/entryId/1_kssecure/format/url/a.mp4`, null, '');
  t.equal(errorCode(header), '3', 'the protected entry without a KS: error 3');
  const withHeader = await rawRequest(`${s.url}${PM}/entryId/1_kssecure/format/url/a.mp4`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-kaltura-ks': 'not-a-ks' }, body: form({ ks: ks() }),
  });
  t.equal(errorCode(withHeader), '7', 'X-Kaltura-Ks wins over the body\'s ks, as over the path\'s');
});

t.test('a POST refusal is the GET refusal but for its caching headers: no-store, never kept', async (t) => {
  // Kaltura sends its caching headers with a refusal of a GET only (the playManifest facts §8.1);
  // a POST's refusal may rest on its body, which no cache key sees, so it says no-store
  const cases: [string, string, Record<string, string>][] = [
    ['unknown entry (1)', `${PM}/entryId/1_nosuch00/format/applehttp/protocol/http/a.m3u8`, {}],
    ['a deleted entry (1)', `${PM}/entryId/1_deleted0/format/url/protocol/http/a.mp4`, {}],
    ['bad format (25)', `${PM}/entryId/1_rcit0qgs/format/nosuch/a.m3u8`, {}],
    ['access control (3), the KS in the body', `${PM}/entryId/1_kssecure/format/applehttp/protocol/http/a.m3u8`, { ks: ks('sview:1_rcit0qgs') }],
  ];
  const CACHING = ['cache-control', 'expires', 'last-modified', 'pragma'];
  const rest = (r: RawAnswer) => {
    const { headers, ...a } = answerOf(r);
    return { ...a, headers: Object.fromEntries(Object.entries(headers).filter(([k]) => !CACHING.includes(k))) };
  };
  for (const [what, url, body] of cases) {
    const g = Object.keys(body).length ? await get(url.replace('/a.m3u8', `/ks/${body.ks}/a.m3u8`)) : await get(url);
    const p = await post(url, 'application/x-www-form-urlencoded', form(body));
    t.ok(g.status >= 400, `${what}: refused (${g.status})`);
    t.same(rest(p), rest(g), `${what}: status, X-Kaltura headers, CORS and body as the GET's`);
    t.equal(p.headers['cache-control'], 'no-store', `${what}: POST no-store`);
    t.equal(p.headers.expires, undefined, `${what}: POST no Expires`);
    t.equal(p.headers['last-modified'], undefined, `${what}: POST no Last-Modified`);
  }
});

t.test('a kt with POST is error 27, wherever it is, even a valid one', async (t) => {
  const signed = signPlayManifestUrl(`${PM}/entryId/1_rcit0qgs/format/url/a.mp4`, 'sample-url-token-secret');
  t.equal((await get(signed)).status, 302, 'the signed URL plays with GET');
  const refusals: [string, RawAnswer][] = [
    ['a valid kt in the path', await post(signed, null, '')],
    ['a kt in the query', await post(`${PM}/entryId/1_rcit0qgs/format/url/a.mp4?kt=0123456789abcdef0123456789abcdef01234567`, null, '')],
    ['a kt in a form body', await post(`${PM}/entryId/1_rcit0qgs/format/url/a.mp4`, 'application/x-www-form-urlencoded', 'kt=0123456789abcdef0123456789abcdef01234567')],
    ['a kt in a JSON body', await post(`${PM}/entryId/1_rcit0qgs/format/url/a.mp4`, 'application/json', '{"kt":"0123456789abcdef0123456789abcdef01234567"}')],
  ];
  for (const [what, r] of refusals) {
    t.equal(r.status, 403, what);
    t.equal(errorCode(r), '27', what);
    t.match(String(r.headers['x-kaltura-app']), /exiting on error 27 - invalid token/, what);
  }
});

t.test('the answer cache never crosses a POST and a GET of the same URL', async (t) => {
  const c = await startServer(t, { now: () => T });
  const stats = () => c.app.manifestCache.stats();
  const at = (path: string, init: { method?: string; type?: string; body?: string } = {}) =>
    rawRequest(c.url + path, { method: init.method ?? 'GET', headers: init.type ? { 'content-type': init.type } : {}, body: init.body });
  const U = `${PM}/entryId/1_rcit0qgs/protocol/http/a.m3u8`;

  const first = answerOf(await at(U));
  t.equal(first.status, 302, 'U is format url: a redirect');
  t.same(answerOf(await at(U)), first);
  t.equal(stats().entries, 1, 'the GET\'s answer is kept');
  const kept = stats();

  // the body changes the answer: its own, never the GET's kept one
  const cases: [string, Record<string, string>, string][] = [
    ['format', { format: 'applehttp' }, `${PM}/entryId/1_rcit0qgs/protocol/http/format/applehttp/a.m3u8`],
    ['flavorIds', { flavorIds: '1_f3rcit00' }, `${PM}/entryId/1_rcit0qgs/protocol/http/flavorIds/1_f3rcit00/a.m3u8`],
  ];
  for (const [what, params, equivalent] of cases) {
    const p = answerOf(await at(U, { method: 'POST', type: 'application/x-www-form-urlencoded', body: form(params) }));
    t.not(p.body + JSON.stringify(p.headers), first.body + JSON.stringify(first.headers), `a POST with ${what} in the body is not the GET's kept answer`);
    t.same(p, answerOf(await rawRequest(`${c.url}${equivalent}`, { method: 'POST' })), `... it is the answer to its own parameters`);
  }
  // (the decision store, the second tier, keys on the parsed request, the body's parameters
  // included: it may keep a POST's decisions)
  const answers = ({ entries, bytes, hits, misses }: ReturnType<typeof stats>) => ({ entries, bytes, hits, misses });
  t.same(answers(stats()), answers(kept), 'the POSTs neither looked for a kept answer (no hit, no miss counted) nor kept one');
  const protectedUrl = `${PM}/entryId/1_kssecure/protocol/http/a.m3u8`;
  t.equal(errorCode(await at(protectedUrl)), '3', 'the protected entry by GET: error 3');
  const withKs = await at(protectedUrl, { method: 'POST', type: 'application/json', body: JSON.stringify({ ks: ks() }) });
  t.equal(withKs.status, 302, 'by POST with a KS in the body: plays');
  t.equal(errorCode(await at(protectedUrl)), '3', 'the GET after it is refused again');

  const after = stats();
  t.equal(after.entries, kept.entries, 'no POST answer was kept under its URL');
  t.equal(after.hits, kept.hits, 'no POST was answered from, or counted against, a kept answer');
  // GET U after the POSTs: the GET's own answer (kept), not a POST's
  t.same(answerOf(await at(U)), first, 'the GET after the POSTs gets the GET\'s answer');
  t.equal(stats().hits, after.hits + 1, '... from the cache');

  // the decision store keeps POST and GET shapes apart as well: a POST after a GET of the same
  // URL with the same body parameters is still the GET's answer
  const k = ks();
  const g = answerOf(await at(`${PM}/entryId/1_kssecure/format/applehttp/protocol/http/ks/${k}/a.m3u8`));
  t.same(answerOf(await at(`${PM}/entryId/1_kssecure/format/applehttp/protocol/http/a.m3u8`, { method: 'POST', type: 'application/x-www-form-urlencoded', body: form({ ks: k }) })), g);
});

t.test('bad bodies: error 25 with a clear reason, never a 500; the server goes on', async (t) => {
  const P = `${PM}/entryId/1_rcit0qgs/format/url/a.mp4`;
  const mpFile = multipart([['format', 'url']], [['ks', 'ks.txt', 'x']]);
  const cases: [string, string | null, string | Buffer, number, RegExp][] = [
    ['malformed JSON', 'application/json', '{"format":}', 400, /the JSON body is not valid JSON/],
    ['JSON that is not an object', 'application/json', '["format","url"]', 400, /must be one JSON object/],
    ['a JSON value that is an object', 'application/json', '{"format":{"a":1}}', 400, /parameter "format" is not text, a number or a boolean/],
    ['a JSON name given twice', 'application/json', '{"ks":"a","format":"url","ks":"b"}', 400, /the JSON body gives the parameter "ks" twice/],
    ['a JSON name given twice, once escaped', 'application/json', '{"ks":"a","\\u006bs":"b"}', 400, /gives the parameter "ks" twice/],
    ['a form name given twice', 'application/x-www-form-urlencoded', 'ks=a&format=url&ks=b', 400, /the body gives the parameter "ks" twice/],
    ['a multipart name given twice', multipart([['ks', 'a'], ['ks', 'b']]).type, multipart([['ks', 'a'], ['ks', 'b']]).body, 400, /gives the parameter "ks" twice/],
    ['a malformed multipart json field', multipart([['json', '{"a":']]).type, multipart([['json', '{"a":']]).body, 400, /the multipart "json" field must be one JSON object|is not valid JSON/],
    ['multipart without a boundary', 'multipart/form-data', '--x\r\n', 400, /multipart body without a boundary/],
    ['a file', mpFile.type, mpFile.body, 400, /carries no files/],
    ['a NUL byte', 'application/x-www-form-urlencoded', 'entryId=1_rcit0qgs%00', 400, /NUL byte/],
    ['text/plain', 'text/plain', 'format=url', 415, /application\/x-www-form-urlencoded, application\/json or multipart\/form-data/],
    ['XML', 'application/xml', '<a/>', 415, /a playManifest body is/],
    ['no content type', null, 'format=url', 415, /a playManifest body is/],
    ['over 64 kB', 'application/x-www-form-urlencoded', `ks=${'a'.repeat(64 * 1024)}`, 413, /the request body is too large/],
  ];
  for (const [what, type, body, status, reason] of cases) {
    const r = await post(P, type, body);
    t.equal(r.status, status, `${what}: ${status}`);
    t.equal(errorCode(r), '25', `${what}: error 25`);
    t.match(r.body.toString('utf8'), /^error 25 BAD_QUERY: wrong query attributes, /, what);
    t.match(r.body.toString('utf8'), reason, what);
  }
  t.equal((await get(P)).status, 302, 'the server still answers');
  // names are counted at the object's own level only: a value's text that looks like a name is none
  const tricky = await post(`${PM}/a.mp4`, 'application/json', JSON.stringify({ entryId: '1_rcit0qgs', clientTag: '{"entryId": 1, "a\\"": ["entryId"]}', format: 'url', x: null, playbackRate: 0, disableCaptions: false }));
  t.equal(tricky.status, 302, 'a JSON body whose values quote names is read');
  t.same(answerOf(tricky), answerOf(await get(P)), '... as the GET');
});

t.test('the README\'s POST line runs as printed and answers the HLS master', async (t) => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const m = /\*\*POST\.\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
  t.ok(m, 'README: the POST paragraph and its sh block');
  const lines = m![1].replaceAll('http://127.0.0.1:8080', s.url).replace(/\bnpx kdeliver /g, `node ${join(projectRoot, 'dist/src/cli/kdeliver.js')} `);
  const env: Record<string, string> = { KDELIVER_DATA_DIR: s.dataDir, ...(s.config.databaseUrl ? { KDELIVER_DATABASE_URL: s.config.databaseUrl } : {}) };
  const out = await runShell(lines, env);
  t.match(out, /^#EXTM3U\n#EXT-X-STREAM-INF:/, 'the HLS master of the protected entry');
  t.match(out, /\/entryId\/1_kssecure\//);
});

t.test('a KS in the body never reaches the log; the requests are logged', async (t) => {
  const server = await startLoggingServer(t);
  const url = server.url;
  const secret = ks();
  const P = `${url}${PM}/entryId/1_kssecure/format/applehttp/protocol/http/a.m3u8`;
  const mp = multipart([['ks', secret]]);
  const sent: [string, Record<string, string>, string][] = [
    ['form', { 'content-type': 'application/x-www-form-urlencoded' }, form({ ks: secret })],
    ['JSON', { 'content-type': 'application/json' }, JSON.stringify({ ks: secret })],
    ['multipart', { 'content-type': mp.type }, mp.body],
    ['multipart json', { 'content-type': multipart([['json', JSON.stringify({ ks: secret })]]).type }, multipart([['json', JSON.stringify({ ks: secret })]]).body],
    ['refused: twice', { 'content-type': 'application/x-www-form-urlencoded' }, `ks=${encodeURIComponent(secret)}&ks=${encodeURIComponent(secret)}`],
    ['refused: with a kt', { 'content-type': 'application/x-www-form-urlencoded' }, form({ ks: secret, kt: '0123456789abcdef0123456789abcdef01234567' })],
    ['refused: malformed JSON', { 'content-type': 'application/json' }, `{"ks":"${secret}",}`],
    ['refused: text', { 'content-type': 'text/plain' }, `ks=${secret}`],
    ['refused: too big', { 'content-type': 'application/x-www-form-urlencoded' }, `ks=${secret}&pad=${'a'.repeat(70_000)}`],
  ];
  for (const [what, headers, body] of sent) {
    const r = await rawRequest(P, { method: 'POST', headers, body });
    if (!what.startsWith('refused')) t.equal(r.status, 200, `${what}: plays`);
    else t.ok(r.status >= 400 && r.status < 500, `${what}: refused (${r.status})`);
  }
  await new Promise((r) => setTimeout(r, 100));
  const log = server.log();
  t.ok((log.match(/"method":"POST","url":"\/p\/309\/sp\/0\/playManifest\/entryId\/1_kssecure/g) ?? []).length >= sent.length, 'every POST is logged');
  t.match(log, /"msg":"playManifest"/);
  t.match(log, /refused: error 25/);
  t.notOk(log.includes(secret) || log.includes(encodeURIComponent(secret)), 'no KS in the log');
  // the KS's own payload part (after the v2 header) as well, in case a line held a piece of it
  t.notOk(log.includes(secret.slice(10, 60)), 'no part of the KS in the log');
});
