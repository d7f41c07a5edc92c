// Library writes reach the packager's DASH manifests as they reach playManifest and the HLS master
// (test/e2e/api-write-kaltura-client.test.ts): a caption set through api_v3 is a text adaptation set
// of the very next MPD, gone from the next one when deleted, and a deleted flavor is no longer
// packaged (playManifest's MPD URL) nor a Representation.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const ENTRY = '1_alt0audi';

t.test('caption and flavor writes are seen by the next DASH manifest', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const ks = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).text()) as string;
  const call = async (path: string, body: Record<string, unknown>) => JSON.parse(await (await fetch(`${api}/service/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks, format: 1, ...body }),
  })).text());
  const mpd = async () => {
    const pm = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${ENTRY}/format/mpegdash/protocol/http/manifest.mpd`, { redirect: 'manual' });
    t.equal(pm.status, 302);
    location = pm.headers.get('location')!;
    const res = await fetch(location);
    t.equal(res.status, 200);
    return res.text();
  };
  let location = '';
  const texts = (m: string) => (m.match(/<AdaptationSet[^>]*(contentType="text"|mimeType="text\/vtt")/g) ?? []).length;
  const first = await mpd();
  const before = texts(first);
  t.match(location, /\/flavorId\/1_,f1,f2,a1,a2,alt000\//, 'the MPD URL names the flavors it packages');

  const cap = await call('caption_captionasset/action/add', { entryId: ENTRY, captionAsset: { language: 'German', label: 'Deutsch (API)' } });
  t.equal(texts(await mpd()), before, 'no content yet: not offered');
  await call('caption_captionasset/action/setContent', { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHallo\n' } });
  const withCaption = await mpd();
  t.equal(texts(withCaption), before + 1, 'the next MPD has one more text adaptation set');
  t.match(withCaption, /lang="de"/);
  t.equal(await call('caption_captionasset/action/delete', { captionAssetId: cap.id }), null);
  t.equal(texts(await mpd()), before, 'deleted: gone from the next MPD');

  const reps = (m: string) => (m.match(/<Representation /g) ?? []).length;
  const flavors = await call('flavorasset/action/getByEntryId', { entryId: ENTRY });
  const video = flavors.find((f: { id: string; width: number }) => f.id === '1_f2alt000');
  t.ok(video, 'the 360p flavor');
  t.equal(await call('flavorasset/action/delete', { id: video.id }), null);
  const after = await mpd();
  t.equal(reps(after), reps(first) - 1, 'one Representation fewer');
  t.match(location, /\/flavorId\/1_,f1,a1,a2,alt000\//, 'the deleted flavor is no longer packaged');
});
