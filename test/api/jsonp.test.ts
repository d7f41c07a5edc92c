// api_v3 JSONP (format=9): a callback outside Kaltura's [0-9_a-zA-Z.] is refused with a JSON
// error that names the field, and the rejected value appears nowhere in the answer (body, headers,
// gzipped or not), whichever way format=9 arrives (query, path pair, form or JSON body, a
// multirequest, a request refused before it reaches the front controller) and in every other
// format too. A valid callback still wraps the answer.
import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { startServer } from '../helpers/server.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';

// every one carries the marker EVIL, which no honest answer contains
const REJECTED = [
  'alert(1)//EVIL',
  '</script><svg onload=alert(1)>EVIL',
  'EVIL"+document.cookie+"',
  'cb;EVIL()',
  'EVIL cb',
  'EVIL\u2028cb',
  'EVIL\u00e9',
  `EVIL${'x'.repeat(5000)}(`,
];

const text = (r: RawAnswer): string => {
  const body = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
  return `${JSON.stringify(r.headers)}\n${body.toString('latin1')}\n${body.toString('utf8')}`;
};

t.test('a rejected JSONP callback is never reflected', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const json = { 'content-type': 'application/json' };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  for (const cb of REJECTED) {
    const q = `callback=${encodeURIComponent(cb)}`;
    // test names stay ASCII: a raw U+2028 would break the TAP stream
    const label = JSON.stringify(cb.slice(0, 40)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const ways: { what: string; url: string; method?: string; headers?: Record<string, string>; body?: string; refusal?: boolean }[] = [
      { what: 'format=9 in the query', url: `${api}/service/system/action/ping?format=9&${q}`, refusal: true },
      { what: 'format/9 as a path pair', url: `${api}/service/system/action/ping/format/9?${q}`, refusal: true },
      { what: 'index.php?service=...', url: `${api}/index.php?service=system&action=ping&format=9&${q}`, refusal: true },
      { what: 'format=9 in a form body', url: `${api}/service/system/action/ping?${q}`, method: 'POST', headers: form, body: 'format=9', refusal: true },
      { what: 'format 9 in a JSON body', url: `${api}/service/system/action/ping?${q}`, method: 'POST', headers: json, body: '{"format":9}', refusal: true },
      { what: 'a multirequest', url: `${api}/service/multirequest?${q}`, method: 'POST', headers: json, body: JSON.stringify({ format: 9, 1: { service: 'system', action: 'ping' }, 2: { service: 'nope', action: 'x' } }), refusal: true },
      { what: 'an API error', url: `${api}/service/nope/action/x?format=9&${q}`, refusal: true },
      { what: 'an unreadable body', url: `${api}/service/system/action/ping?format=9&${q}`, method: 'POST', headers: json, body: '{broken}', refusal: true },
      { what: 'a body refused by the transport', url: `${api}/service/system/action/ping?format=9&${q}`, method: 'POST', headers: { ...json, 'content-length': String(65 * 1024 * 1024) }, body: '{}', refusal: true },
      { what: 'format=1', url: `${api}/service/system/action/ping?format=1&${q}` },
      { what: 'XML', url: `${api}/service/nope/action/x?${q}` },
      { what: 'format=3', url: `${api}/service/nope/action/x?format=3&${q}` },
      { what: 'the callback in the path', url: `${api}/service/system/action/ping/format/9/callback/${encodeURIComponent(cb)}`, refusal: true },
    ];
    for (const w of ways) {
      for (const gzip of [false, true]) {
        const r = await rawRequest(w.url, { method: w.method, headers: { ...w.headers, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) }, body: w.body });
        const what = `${label}, ${w.what}${gzip ? ', gzipped' : ''}`;
        t.equal(r.status, 200, `${what}: HTTP 200`);
        t.notOk(/evil/i.test(text(r)), `${what}: not in the answer`);
        if (w.refusal) {
          t.equal(r.headers['content-type'], 'application/json', `${what}: JSON, never script`);
          const err = JSON.parse((r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body).toString());
          t.match(err, { code: /^(INVALID_FIELD_VALUE|MANDATORY_PARAMETER_MISSING)$/, objectType: 'KalturaAPIException' }, `${what}: refused`);
        }
      }
    }
  }

  const refused = JSON.parse((await rawRequest(`${api}/service/system/action/ping?format=9&callback=alert(1)//`)).body.toString());
  t.same(refused, { code: 'INVALID_FIELD_VALUE', message: 'value in field [callback] is not valid', objectType: 'KalturaAPIException', args: { FIELD_NAME: 'callback' } }, 'the issue\'s request: Kaltura\'s error, naming the field');
  const ok = await rawRequest(`${api}/service/system/action/ping?format=9&callback=jQuery123_456.cb`);
  t.equal(ok.body.toString(), 'jQuery123_456.cb(true);', 'a valid callback wraps the answer');
  t.equal(ok.headers['content-type'], 'application/javascript');
  const missing = JSON.parse((await rawRequest(`${api}/service/system/action/ping?format=9`)).body.toString());
  t.same(missing, { code: 'MANDATORY_PARAMETER_MISSING', message: 'Mandatory parameter missing [callback]', objectType: 'KalturaAPIException', args: { PARAM_NAME: 'callback' } }, 'no callback: Kaltura\'s JSONP error, not the action parameters\' MISSING_MANDATORY_PARAMETER');
});
