// A JSON body nested far deeper than any Kaltura object (a few hundred thousand brackets, a few
// hundred kilobytes) is the client's error, INVALID_REQUEST_BODY at HTTP 200, on every path that
// reads a body: the anonymous call the api_v3 answer cache looks at, a multirequest's sub-request,
// a call with a KS, and API v2. Walking such a body ran out of stack and was answered as an
// internal error, in XML whatever format the body asked for.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const DEPTH = 200_000;
const deepArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;

t.test('deeply nested JSON bodies are refused as a bad body, never an internal error', async (t) => {
  const s = await startServer(t);
  const post = async (path: string, body: string) => {
    const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200, `${path}: HTTP 200`);
    return res.text();
  };
  const ks: string = await (await fetch(`${s.url}/api_v3/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).json();

  const cases: [string, string, string][] = [
    ['anonymous call (the answer cache reads it)', '/api_v3/service/system/action/ping?format=1', `{"format":1,"x":${deepArray}}`],
    ['anonymous list', '/api_v3/service/baseEntry/action/list?format=1', `{"partnerId":309,"filter":{"idIn":${deepObject}}}`],
    ['a multirequest sub-request', '/api_v3/service/multirequest?format=1', `{"ks":"${ks}","1":{"service":"system","action":"ping","x":${deepArray}}}`],
    ['a call with a KS', '/api_v3/service/system/action/ping?format=1', `{"ks":"${ks}","x":${deepObject}}`],
  ];
  for (const [what, path, body] of cases) {
    const answer = JSON.parse(await post(path, body));
    t.match(answer, { code: 'INVALID_REQUEST_BODY', objectType: 'KalturaAPIException' }, what);
  }

  // the Node client's uploads: multipart with the parameters in a `json` field
  const form = new FormData();
  form.append('json', `{"ks":"${ks}","format":1,"x":${deepArray}}`);
  form.append('fileData', new Blob([new Uint8Array(4)]), 'x.bin');
  const multipart = await fetch(`${s.url}/api_v3/service/system/action/ping?format=1`, { method: 'POST', body: form });
  t.match(await multipart.json(), { code: 'INVALID_REQUEST_BODY', message: /multipart "json" field nests deeper/ }, 'a multipart json field');

  const v2 = JSON.parse(await post('/index.php/partnerservices2/getentry?format=1', `{"ks":"${ks}","entry_id":"1_rcit0qgs","x":${deepArray}}`));
  t.match(v2, { error: [{ code: 'INTERNAL_SERVER_ERROR', desc: /nest/ }] }, 'API v2: its error for a body it cannot read');

  // what a client really sends still works, nesting and all
  const fine = await post('/api_v3/service/multirequest', JSON.stringify({ format: 1, ks, 1: { service: 'baseEntry', action: 'list', filter: { idEqual: '1_rcit0qgs' }, pager: { pageSize: 1 } }, 2: { service: 'system', action: 'ping' } }));
  t.match(JSON.parse(fine), [{ objectType: 'KalturaBaseEntryListResponse', totalCount: 1 }, true]);
});
