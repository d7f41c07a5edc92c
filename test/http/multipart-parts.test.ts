// Multipart bodies (src/request/body.ts multipartParts) as api_v3 and playManifest's POST read them:
// a part's Content-Disposition parameters (RFC 7578 §4.2, RFC 2183's grammar) in any order, quoted or
// not, with or without spaces. The splitter used to find `name="` anywhere in the part's head, so a
// part whose filename came first was filed under its file name (an upload's fileData was missing),
// and an unquoted `name=format` was dropped without a word (playManifest answered as if it had not
// been sent). A Content-Disposition that cannot be read is a clear refusal, never a 500.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';

const T = Math.floor(Date.now() / 1000);
const s = await startServer(t, { now: () => T });
const B = 'kdeliver-test-boundary-7578';
const TYPE = `multipart/form-data; boundary=${B}`;

/** A multipart body from parts written as they travel: [Content-Disposition value, data, extra header lines]. */
const body = (parts: [string, string | Buffer, string?][]): Buffer => Buffer.concat([
  ...parts.flatMap(([cd, data, extra]) => [Buffer.from(`--${B}\r\nContent-Disposition: ${cd}\r\n${extra ?? ''}\r\n`), Buffer.from(data), Buffer.from('\r\n')]),
  Buffer.from(`--${B}--\r\n`),
]);
const post = (path: string, b: Buffer, type = TYPE): Promise<RawAnswer> => rawRequest(s.url + path, { method: 'POST', headers: { 'content-type': type }, body: b });
const json = (r: RawAnswer): any => JSON.parse(r.body.toString('utf8'));

t.test('api_v3: a file part whose filename comes first is its field\'s file', async (t) => {
  const ks = json(await rawRequest(`${s.url}/api_v3/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2&userId=uploader`)) as string;
  const token = json(await post('/api_v3/service/uploadToken/action/add', body([
    ['form-data; name="format"', '1'], ['form-data; name="ks"', ks], ['form-data; name="uploadToken:fileName"', 'clip.bin'],
  ])));
  t.match(token, { objectType: 'KalturaUploadToken' });
  const data = Buffer.alloc(5000, 7);
  const shapes: [string, string][] = [
    ['filename first', 'form-data; filename="clip.bin"; name="fileData"'],
    ['no spaces, upper-case parameter names', 'form-data;FILENAME="clip.bin";NAME="fileData"'],
    ['unquoted name, a quoted ; in the file name', 'form-data; filename="a;name=x.bin"; name=fileData'],
    ['RFC 8187 filename*', 'form-data; name="fileData"; filename*=utf-8\'\'%E2%82%AC.bin'],
  ];
  for (const [what, cd] of shapes) {
    const id = json(await post('/api_v3/service/uploadToken/action/add', body([['form-data; name="format"', '1'], ['form-data; name="ks"', ks]]))).id as string;
    const r = json(await post('/api_v3/service/uploadToken/action/upload?format=1', body([
      ['form-data; name="ks"', ks], ['form-data; name="uploadTokenId"', id], [cd, data, 'Content-Type: application/octet-stream\r\n'],
    ])));
    t.match(r, { objectType: 'KalturaUploadToken', id, uploadedFileSize: data.length }, `${what}: the file arrived`);
  }
  const bad = await post('/api_v3/service/uploadToken/action/upload?format=1', body([['form-data; name="fileData"; filename="open.bin', data]]));
  t.equal(bad.status, 200, 'api_v3 answers its errors with 200');
  // the body is refused whole: its format field too, so the query gives the format
  t.match(json(bad), { objectType: 'KalturaAPIException', code: 'INVALID_REQUEST_BODY', message: /leaves a quoted value open/ });
  const twice = await post('/api_v3/service/uploadToken/action/upload?format=1', body([['form-data; name="fileData"; name="other"', data]]));
  t.match(json(twice), { code: 'INVALID_REQUEST_BODY', message: /gives "name" twice/ });
  // The Node client sends `format` in a leading json field, not in the URL: a refusal in XML was
  // taken by it for a result (its upload "succeeded"). The fields read before the broken part say the format.
  const nodeClient = await post('/api_v3/service/uploadtoken/action/upload', body([
    ['form-data; name="json"', JSON.stringify({ format: 1, ks, uploadTokenId: '0_whatever', resume: false, finalChunk: true, resumeAt: -1 })],
    ['form-data; name="fileData"; filename="open.bin', data, 'Content-Type: application/octet-stream\r\n'],
  ]));
  t.match(json(nodeClient), { objectType: 'KalturaAPIException', code: 'INVALID_REQUEST_BODY', message: /leaves a quoted value open/ }, 'JSON, as the leading json field asks');
  const formField = await post('/api_v3/service/uploadtoken/action/upload', body([['form-data; name="format"', '1'], ['form-data; name="fileData"; name="other"', data]]));
  t.match(json(formField), { code: 'INVALID_REQUEST_BODY' }, 'a plain format field before the broken part likewise');
});

t.test('playManifest POST: parameters in any Content-Disposition form; a file part named by its name', async (t) => {
  const PM = '/p/309/sp/0/playManifest';
  const want = await rawRequest(`${s.url}${PM}/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`);
  t.equal(want.status, 200);
  const forms: [string, [string, string][]][] = [
    ['unquoted names', [['form-data; name=entryId', '1_rcit0qgs'], ['form-data; name=format', 'applehttp'], ['form-data; name=protocol', 'http']]],
    ['no spaces, upper-case', [['form-data;NAME="entryId"', '1_rcit0qgs'], ['FORM-DATA;name="format"', 'applehttp'], ['form-data ; name = "protocol"', 'http']]],
  ];
  for (const [what, parts] of forms) {
    const r = await post(`${PM}/a.m3u8`, body(parts));
    t.equal(r.status, 200, `${what}: 200`);
    t.ok(r.body.equals(want.body), `${what}: the GET's playlist`);
  }
  const file = await post(`${PM}/entryId/1_rcit0qgs/format/url/a.mp4`, body([['form-data; filename="ks.txt"; name="ks"', 'x']]));
  t.equal(file.status, 400);
  t.match(file.body.toString(), /carries no files \(the part "ks"\)/, 'the part is named by its name, not its file name');
  const open = await post(`${PM}/entryId/1_rcit0qgs/format/url/a.mp4`, body([['form-data; name="format', 'url']]));
  t.equal(open.status, 400);
  t.match(open.body.toString(), /^error 25 BAD_QUERY: wrong query attributes, a multipart part's Content-Disposition leaves a quoted value open/);
});
