// Caption files as they come from the wild: SRT saved by Windows tools in Windows-1252, UTF-16
// with a byte-order mark, UTF-8 with one. Each is taken through api_v3 (uploadToken, then
// caption_captionAsset.setContent) and must come back as the same words from serve, serveWebVTT
// and the HLS subtitles playlist's WebVTT; bytes that are no text at all are still refused.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const ENTRY = '1_rcit0qgs';
const WORDS = 'Café “quoted” – naïve';
const SRT = `1\r\n00:00:01,000 --> 00:00:03,000\r\n${WORDS}\r\n\r\n`;

t.test('captions in Windows-1252, UTF-16 and UTF-8 with a BOM are read as text', async (t) => {
  const s = await startServer(t);
  const base = `${s.url}/api_v3/service`;
  const api = async (service: string, action: string, body: Record<string, unknown>): Promise<any> => (await fetch(`${base}/${service}/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ks, ...body }),
  })).json();
  let ks = '';
  ks = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2 });
  const setContent = async (label: string, bytes: Buffer): Promise<any> => {
    const cap = await api('caption_captionAsset', 'add', { entryId: ENTRY, captionAsset: { objectType: 'KalturaCaptionAsset', format: 1, language: 'English', label } });
    const token = (await api('uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken', fileName: `${label}.srt` } })).id as string;
    const form = new FormData();
    form.set('format', '1');
    form.set('ks', ks);
    form.set('uploadTokenId', token);
    form.set('fileData', new Blob([new Uint8Array(bytes)]), `${label}.srt`);
    t.equal((await (await fetch(`${base}/uploadToken/action/upload`, { method: 'POST', body: form })).json()).status, 2, `${label}: uploaded`);
    return api('caption_captionAsset', 'setContent', { id: cap.id, contentResource: { objectType: 'KalturaUploadedFileTokenResource', token } });
  };

  const cp1252 = Buffer.from(SRT.replace('“', '\x93').replace('”', '\x94').replace('–', '\x96'), 'latin1');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SRT, 'utf16le')]);
  const utf8Bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SRT, 'utf8')]);
  const ids: string[] = [];
  for (const [label, bytes] of [['windows-1252', cp1252], ['utf-16', utf16], ['utf-8 with BOM', utf8Bom]] as const) {
    const set = await setContent(label, bytes);
    t.equal(set.objectType, 'KalturaCaptionAsset', `${label}: setContent takes it (${set.message ?? 'ok'})`);
    if (set.objectType !== 'KalturaCaptionAsset') continue;
    ids.push(set.id);
    const vtt = await fetch(`${base}/caption_captionAsset/action/serveWebVTT/captionAssetId/${set.id}/segmentIndex/1/ks/${ks}`);
    const vttText = await vtt.text();
    t.match(vttText, /^WEBVTT\n/, `${label}: serveWebVTT starts with the WebVTT header`);
    t.ok(vttText.includes(WORDS), `${label}: serveWebVTT gives the words: ${JSON.stringify(vttText.slice(-40))}`);
    const served = await fetch(`${base}/caption_captionAsset/action/serve/captionAssetId/${set.id}/ks/${ks}`);
    t.match(served.headers.get('content-type'), /charset=utf-8/);
    t.ok((await served.text()).includes(WORDS), `${label}: serve gives the words in the charset it names`);
  }

  // the HLS subtitles of the entry, as a player fetches them
  const master = await (await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${ENTRY}/format/applehttp/protocol/http/a.m3u8`)).text();
  const subtitleLists = [...master.matchAll(/TYPE=SUBTITLES,[^\n]*NAME="([^"]+)"[^\n]*URI="([^"]+)"/g)];
  t.equal(subtitleLists.length, 3, 'three subtitle renditions in the master');
  for (const [, name, uri] of subtitleLists) {
    const list = await (await fetch(uri)).text();
    const segment = new URL(list.split('\n').find((l) => l.endsWith('.vtt'))!, uri);
    const text = await (await fetch(segment)).text();
    t.ok(text.includes(WORDS), `HLS ${name}: the WebVTT segment gives the words`);
  }

  const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  const refused = await setContent('png', binary);
  t.equal(refused.code, 'CAPTION_ASSET_PARSING_FAILED', `bytes that are no text are refused: ${refused.message}`);
});
