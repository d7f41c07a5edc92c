// An entry's downloadUrl over HTTP: only a video or audio media clip gets playManifest's
// format/download; every other entry (images, documents, data and live entries) gets the raw
// action's URL, in api_v3's objects and in API v2's entry alike (one function makes both; README,
// "Entry URLs"). Each URL that serves a file is fetched.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { EntryType, MediaType, type Entry } from '../../src/catalog/types.js';
import { entryObject } from '../../src/api/objects.js';
import { v2Entry } from '../../src/api/v2/objects.js';
import { startServer } from '../helpers/server.js';
import { repoPath } from '../helpers/repo.js';

t.test('downloadUrl of entries without flavors to play', async (t) => {
  const s = await startServer(t);
  const api = async (service: string, action: string, params: Record<string, unknown> = {}): Promise<any> => {
    const res = await fetch(`${s.url}/api_v3/service/${service}/action/${action}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }),
    });
    return res.json();
  };
  const adminKs: string = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'admin' });
  const png = readFileSync(repoPath('fixtures/media/image-320x240.png'));

  await t.test('api_v3: an image entry downloads from raw, as its dataUrl does', async (t) => {
    for (const [service, action] of [['baseEntry', 'get'], ['media', 'get']]) {
      const e = await api(service, action, { ks: adminKs, entryId: '1_image000' });
      t.equal(e.downloadUrl, `${s.url}/p/309/sp/30900/raw/entry_id/1_image000/version/${e.version}`, `${service}.${action}: the raw URL`);
      t.equal(e.downloadUrl, e.dataUrl, 'the same URL as dataUrl');
      const dl = await fetch(e.downloadUrl);
      t.equal(dl.status, 200, 'downloadUrl serves');
      t.equal(dl.headers.get('content-type'), 'image/png');
      t.same(Buffer.from(await dl.arrayBuffer()), png, 'the image itself');
    }
    const listed = await api('baseEntry', 'list', { ks: adminKs, filter: { idEqual: '1_image000' } });
    t.match(listed.objects[0].downloadUrl, /\/raw\/entry_id\/1_image000\/version\/\d+$/, 'list renders the same downloadUrl');
  });

  await t.test('api_v3: a document downloads from raw; a video still from playManifest', async (t) => {
    const doc = await api('baseEntry', 'get', { ks: adminKs, entryId: '1_document' });
    t.equal(doc.downloadUrl, `${s.url}/p/309/sp/30900/raw/entry_id/1_document/version/${doc.version}`);
    const pdf = await fetch(doc.downloadUrl);
    t.equal(pdf.status, 200);
    t.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    const video = await api('baseEntry', 'get', { ks: adminKs, entryId: '1_rcit0qgs' });
    t.equal(video.downloadUrl, `${s.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/download/protocol/http/flavorParamIds/0`);
    const mp4 = await fetch(video.downloadUrl);
    t.equal(mp4.status, 200, 'the video downloads');
    await mp4.arrayBuffer();
  });

  await t.test('API v2: getentry of the image gives the same working raw URL', async (t) => {
    const r = await fetch(`${s.url}/index.php/partnerservices2/getentry?format=1&ks=${adminKs}&entry_id=1_image000`);
    const e = (await r.json() as any).result.entry;
    const v3 = await api('baseEntry', 'get', { ks: adminKs, entryId: '1_image000' });
    t.equal(e.downloadUrl, v3.downloadUrl, 'v2 and api_v3 agree');
    const dl = await fetch(e.downloadUrl);
    t.equal(dl.status, 200);
    t.same(Buffer.from(await dl.arrayBuffer()), png);
  });

  await t.test('api_v3: a data entry gets the raw URL as its downloadUrl too', async (t) => {
    const data: Entry = {
      id: '1_data0000', partnerId: 309, name: 'notes', description: '', type: EntryType.DATA, mediaType: 0, status: 2,
      duration: 0, moderationStatus: 6, startDate: null, endDate: null, accessControlProfileId: null, conversionProfileId: null, tags: '', adminTags: '',
      userId: '', referenceId: '', createdAt: 0, updatedAt: 0, version: 3, dataFile: 'x.txt', thumbnailFile: null, redirectEntryId: null, partnerData: '',
    };
    const o = entryObject(data, { baseUrl: 'http://h', protocol: 'http', flavors: [] });
    t.equal(o.objectType, 'KalturaDataEntry');
    t.equal(o.downloadUrl, 'http://h/p/309/sp/30900/raw/entry_id/1_data0000/version/3');
  });

  await t.test('a live entry: api_v3 and API v2 give the same raw URL', async (t) => {
    for (const type of [EntryType.LIVE_STREAM, EntryType.LIVE_CHANNEL]) {
      const live: Entry = {
        id: '1_live0000', partnerId: 309, name: 'live', description: '', type, mediaType: MediaType.VIDEO, status: 2,
        duration: 0, moderationStatus: 6, startDate: null, endDate: null, accessControlProfileId: null, conversionProfileId: null, tags: '', adminTags: '',
        userId: '', referenceId: '', createdAt: 0, updatedAt: 0, version: 2, dataFile: null, thumbnailFile: null, redirectEntryId: null, partnerData: '',
      };
      const v3 = entryObject(live, { baseUrl: 'http://h', protocol: 'http', flavors: [] });
      const v2 = v2Entry(live, { baseUrl: 'http://h', protocol: 'http', size: null }, false);
      t.equal(v3.downloadUrl, 'http://h/p/309/sp/30900/raw/entry_id/1_live0000/version/2', `type ${type}: api_v3's raw URL`);
      t.equal(v2.fields.downloadUrl, v3.downloadUrl, `type ${type}: API v2 agrees`);
    }
  });
});
