// What playManifest is asked that the packager's own manifests must say (DASH, Smooth Streaming,
// and the HLS master of the manifest-redirect profile 1006), where playManifest redirects to them
// instead of writing the manifest itself: disableCaptions, defaultAudioLang, and the captions the
// entry keeps off the player (displayOnPlayer false). Each reached playManifest's own HLS master
// only; the packager URLs never said the first two, and the packager listed every READY caption.
import t, { type Test } from 'tap';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';

const srv = await startServer(t);
const PM = (entry: string, format: string, extra: string, file: string) => `${srv.url}/p/309/sp/30900/playManifest/entryId/${entry}/format/${format}/protocol/http${extra}/${file}`;
const text = async (url: string) => {
  const r = await fetch(url, { redirect: 'manual' });
  return { status: r.status, location: r.headers.get('location'), body: await r.text() };
};
/** The manifest playManifest redirects to. */
async function packaged(t: Test, url: string): Promise<string> {
  const r = await text(url);
  t.equal(r.status, 302, 'a redirect to the packager');
  return (await text(r.location!)).body;
}
const DASH = ['mpegdash', '/deliveryProfileId/1003', 'manifest.mpd'] as const;
const HLS = ['applehttp', '/deliveryProfileId/1006', 'a.m3u8'] as const;

t.test('disableCaptions reaches the packager: no captions in its DASH manifest or HLS master', async (t) => {
  for (const [format, extra, file, captioned] of [
    ['mpegdash', '/deliveryProfileId/1003', 'manifest.mpd', /contentType="text"/],
    ['applehttp', '/deliveryProfileId/1006', 'a.m3u8', /TYPE=SUBTITLES/],
  ] as const) {
    t.match(await packaged(t, PM('1_alt0audi', format, extra, file)), captioned, `${format}: captions by default`);
    const body = await packaged(t, PM('1_alt0audi', format, `${extra}/disableCaptions/1`, file));
    t.notMatch(body, captioned, `${format}: none with disableCaptions`);
    t.match(body, format === 'mpegdash' ? /<MPD/ : /^#EXTM3U/, 'still the manifest');
  }
});

t.test('defaultAudioLang marks the default audio in the packager\'s manifests', async (t) => {
  const dash = await packaged(t, PM('1_alt0audi', DASH[0], `${DASH[1]}/defaultAudioLang/spa`, DASH[2]));
  const role = (lang: string) => new RegExp(`<AdaptationSet[^>]*lang="${lang}"[^>]*>(?:(?!</AdaptationSet>)[\\s\\S])*<Role schemeIdUri="urn:mpeg:dash:role:2011" value="(\\w+)"`).exec(dash)?.[1];
  t.equal(role('es'), 'main', 'DASH: Spanish is the main audio');
  t.equal(role('en'), 'alternate', 'DASH: English an alternate');
  const hls = await packaged(t, PM('1_alt0audi', HLS[0], `${HLS[1]}/defaultAudioLang/Espa%C3%B1ol`, HLS[2]));
  t.match(hls, /#EXT-X-MEDIA:TYPE=AUDIO[^\n]*LANGUAGE="es"[^\n]*DEFAULT=YES/, 'HLS: Spanish is the default (asked by its name)');
  t.match(hls, /#EXT-X-MEDIA:TYPE=AUDIO[^\n]*LANGUAGE="en"[^\n]*DEFAULT=NO/, 'HLS: English is not');
  // a value no language has, with a "/": left out of the packager's URL, which it would break
  const odd = await text(`${PM('1_alt0audi', ...DASH)}?defaultAudioLang=${encodeURIComponent('en/../x')}`);
  t.equal(odd.status, 302);
  t.notMatch(odd.location, /defaultAudioLang/);
  t.equal((await fetch(odd.location!)).status, 200, 'the manifest is still served');
});

t.test('a caption kept off the player is in none of the packager\'s manifests', async (t) => {
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000) });
  const r = await fetch(`${srv.url}/api_v3/service/caption_captionAsset/action/update?format=1&ks=${admin}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: '1_c2alt000', captionAsset: { objectType: 'KalturaCaptionAsset', displayOnPlayer: false } }),
  });
  t.equal((await r.json()).displayOnPlayer, false, 'the Spanish caption is kept off the player');
  const own = await text(PM('1_alt0audi', 'applehttp', '', 'a.m3u8'));
  t.equal((own.body.match(/TYPE=SUBTITLES/g) ?? []).length, 1, 'playManifest\'s HLS master: one caption');
  const hls = await packaged(t, PM('1_alt0audi', ...HLS));
  t.equal((hls.match(/TYPE=SUBTITLES/g) ?? []).length, 1, 'the packager\'s HLS master: the same one');
  t.match(hls, /TYPE=SUBTITLES[^\n]*LANGUAGE="en"[^\n]*URI="subtitles-1\.m3u8"/);
  const dash = await packaged(t, PM('1_alt0audi', ...DASH));
  t.equal((dash.match(/contentType="text"/g) ?? []).length, 1, 'the DASH manifest: the same one');
  t.notMatch(dash, /lang="es"[^>]*contentType="text"|contentType="text"[^>]*lang="es"/, 'not the Spanish one');
});
