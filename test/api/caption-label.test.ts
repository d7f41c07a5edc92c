// A caption added without a label is shown under its language (the player's and the HLS master's
// NAME): changing the language later must rename it too, not leave a French track called "German".
// A label that was given stays what it was.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';


t.test('a caption without a label follows its language', async (t) => {
  const srv = await startServer(t);
  const { call } = await sampleAdminClient(srv.url);
  const srt = new kaltura.objects.StringResource({ content: '1\n00:00:01,000 --> 00:00:02,000\nBonjour\n' });
  const subtitleNames = async () => {
    const m = await (await fetch(`${srv.url}/p/309/sp/0/playManifest/entryId/1_alt0audi/format/applehttp/protocol/http/a.m3u8`)).text();
    return [...m.matchAll(/TYPE=SUBTITLES,.*?NAME="([^"]*)".*?LANGUAGE="([^"]*)"/g)].map((x) => `${x[1]}/${x[2]}`);
  };

  const plain = await call(kaltura.services.captionAsset.add('1_alt0audi', new kaltura.objects.CaptionAsset({ language: 'German', format: 1 })));
  t.equal(plain.label, 'German', 'shown under its language');
  await call(kaltura.services.captionAsset.setContent(plain.id, srt));
  const moved = await call(kaltura.services.captionAsset.update(plain.id, new kaltura.objects.CaptionAsset({ language: 'French' })));
  t.same([moved.label, moved.language, moved.languageCode], ['French', 'French', 'fr']);
  t.ok((await subtitleNames()).includes('French/fr'), 'the HLS master names it French');
  t.notOk((await subtitleNames()).includes('German/fr'));
  const pc = await call(kaltura.services.baseEntry.getPlaybackContext('1_alt0audi', new kaltura.objects.PlaybackContextOptions({})));
  t.ok(pc.playbackCaptions.some((c: { label: string; languageCode: string }) => c.label === 'French' && c.languageCode === 'fr'), 'getPlaybackContext too');

  const named = await call(kaltura.services.captionAsset.add('1_alt0audi', new kaltura.objects.CaptionAsset({ language: 'German', label: 'Deutsch (SDH)', format: 1 })));
  const kept = await call(kaltura.services.captionAsset.update(named.id, new kaltura.objects.CaptionAsset({ language: 'Italian' })));
  t.equal(kept.label, 'Deutsch (SDH)', 'a label that was given is kept');

  // the library file's captions without a label (1_alt0audi's English one has label "English")
  const english = await call(kaltura.services.captionAsset.update('1_c1alt000', new kaltura.objects.CaptionAsset({ language: 'Dutch' })));
  t.same([english.label, english.languageCode], ['Dutch', 'nl'], 'a label that only repeated the language follows it');
});
