// src/request/body.ts: the multipart splitter api_v3 and playManifest's POST share. A delimiter is
// CRLF "--" boundary (RFC 2046); the boundary's text inside a value, not at a line's start, is data.
import t from 'tap';
import { multipartParts, flatBodyParams } from '../../src/request/body.js';

const body = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'));

t.test('the boundary text inside a value is data, not a delimiter', async (t) => {
  const b = body('--XY\nContent-Disposition: form-data; name="a"\n\n301951--XY tail\n--XY\nContent-Disposition: form-data; name="b"\n\n2\n--XY--\n');
  const parts = multipartParts('multipart/form-data; boundary=XY', b);
  t.same(parts.map((p) => [p.name, p.data.toString()]), [['a', '301951--XY tail'], ['b', '2']]);
  t.same([...flatBodyParams('multipart/form-data; boundary=XY', b)], [['a', '301951--XY tail'], ['b', '2']], "playManifest's reader too");
});

t.test('a preamble, empty values and a value ending in CRLF', async (t) => {
  const b = body('preamble\n--XY\nContent-Disposition: form-data; name="a"\n\n\n--XY\nContent-Disposition: form-data; name="b"\n\nline\n\n--XY--\nepilogue');
  t.same(multipartParts('multipart/form-data; boundary="XY"', b).map((p) => [p.name, p.data.toString()]), [['a', ''], ['b', 'line\r\n']]);
});

t.test('a body that opens with a blank line before the first delimiter', async (t) => {
  const b = body('\n--XY\nContent-Disposition: form-data; name="a"\n\n1\n--XY--\n');
  t.same(multipartParts('multipart/form-data; boundary=XY', b).map((p) => [p.name, p.data.toString()]), [['a', '1']]);
});

t.test("a part's name is its name parameter, wherever filename stands", async (t) => {
  const b = body('--XY\nContent-Disposition: form-data; filename="movie.mp4"; name="fileData"\nContent-Type: video/mp4\n\nDATA\n--XY--\n');
  const [part] = multipartParts('multipart/form-data; boundary=XY', b);
  t.same({ name: part.name, fileName: part.fileName, type: part.contentType }, { name: 'fileData', fileName: 'movie.mp4', type: 'video/mp4' });
});
