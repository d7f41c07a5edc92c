// Captions of an entry held back by moderation or its schedule are its media's: served to an
// admin (or sview) session, refused to anyone else, as playManifest refuses the entry. They were
// served to anyone holding the caption asset id, the PLAY checks running only for entries with
// access-control rules (Kaltura's CaptionAssetService::validateForDownload checks play).
import t from 'tap';
import { startServer } from '../helpers/server.js';

t.test('captionAsset.serve of an entry pending moderation or out of its schedule', async (t) => {
  const s = await startServer(t);
  const base = `${s.url}/api_v3/service`;
  const api = async (service: string, action: string, body: Record<string, unknown>): Promise<any> => (await fetch(`${base}/${service}/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...body }),
  })).json();
  const admin = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2 });
  const user = await api('session', 'start', { secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer' });
  for (const entryId of ['1_moderat0', '1_sched000']) {
    const cap = await api('caption_captionAsset', 'add', { ks: admin, entryId, captionAsset: { objectType: 'KalturaCaptionAsset', format: 2, language: 'English' } });
    const set = await api('caption_captionAsset', 'setContent', { ks: admin, id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nheld back\n' } });
    t.equal(set.objectType, 'KalturaCaptionAsset', `${entryId}: a caption set (${set.message ?? 'ok'})`);
    const serve = (ks?: string) => fetch(`${base}/caption_captionAsset/action/serve?captionAssetId=${cap.id}&format=1${ks ? `&ks=${ks}` : ''}`).then((r) => r.text());
    for (const [who, ks] of [['anonymous', undefined], ['a user KS', user]] as const) {
      const refused = JSON.parse(await serve(ks));
      t.equal(refused.code, 'ACCESS_CONTROL_RESTRICTED', `${entryId}, ${who}: refused`);
    }
    t.match(await serve(admin), /held back/, `${entryId}, an admin KS: served`);
  }
});
