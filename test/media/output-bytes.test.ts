// Byte-for-byte pins of the writers' output on the sample media: the clipped progressive MP4, fMP4
// (init, HLS segments, DASH fragments, MSS fragments) and MPEG-TS segments, whole and by range.
// The parsers in writers.test.ts say the output is valid; these hashes say a refactor of the
// shared box builders and region reads changed no byte of it. The video MPEG-TS pins were taken
// again when every video PES gained an access unit delimiter (src/media/ts/writer.ts), the
// audio-only ones when their PES became short enough to carry a PCR every 100 ms.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy, hlsPolicy } from '../../src/media/segment.js';
import { initSegment, mediaSegment } from '../../src/media/fmp4/writer.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { readBody, type MediaBody } from '../../src/media/body.js';
import { planClippedMp4 } from '../../src/media/progressive.js';
import { sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** The whole body, a range across headers and samples, and a range inside the samples only. */
async function bodyHashes(path: string, body: MediaBody): Promise<string> {
  const n = body.length;
  const whole = await readBody(path, body);
  const head = await readBody(path, body, 100, Math.min(n - 1, 60_000));
  const tail = await readBody(path, body, Math.max(0, n - 5000), n - 1);
  return `${n}:${sha(whole)}:${sha(head)}:${sha(tail)}`;
}

async function outputHashes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ['h264-240p.mp4', 'h264-720p.mp4', 'audio-128k.mp4', 'alt-audio-spa.mp4']) {
    const path = sample(name);
    const idx = await readMediaIndex(path, BIG);
    for (const [from, to] of [[0, Infinity], [3000, 7000], [5000, Infinity]]) {
      out[`${name} progressive ${from}-${to}`] = await bodyHashes(path, planClippedMp4(idx, from, to).body);
    }
    const hls = buildTimeline(idx, hlsPolicy(10000));
    const tracks = [hls.video?.track, hls.audio?.track].filter((x) => x !== undefined);
    out[`${name} init`] = sha(initSegment(tracks));
    for (const [i, s] of hls.segments.entries()) {
      out[`${name} fmp4 hls ${i + 1}`] = await bodyHashes(path, mediaSegment(hls, s, { sequence: i + 1, dash: false }));
      out[`${name} ts ${i + 1}`] = await bodyHashes(path, tsSegment(hls, i));
    }
    for (const use of [{ video: true, audio: false }, { video: false, audio: true }]) {
      const dash = buildTimeline(idx, flatPolicy(4000), { fromMs: 0, toMs: Infinity }, use);
      if (!dash.video && !dash.audio) continue;
      const kind = use.video ? 'video' : 'audio';
      for (const [i, s] of dash.segments.entries()) {
        out[`${name} dash ${kind} ${i + 1}`] = await bodyHashes(path, mediaSegment(dash, s, { sequence: i + 1, dash: true }));
        out[`${name} mss ${kind} ${i + 1}`] = await bodyHashes(path, mediaSegment(dash, s, { sequence: i + 1, dash: false, timescale: 10_000_000 }));
      }
    }
  }
  return out;
}

// Computed with this file's outputHashes() at commit 2746337 (before src/media/progressive.ts
// and the writers shared their box builders and region reads); print with KDELIVER_PRINT_HASHES=1.
const EXPECTED: Record<string, string> = {
  'h264-240p.mp4 progressive 0-Infinity': '566854:6becbdf90c3037d5:641e8d263931e385:09e4d151a6ffd4ed',
  'h264-240p.mp4 progressive 3000-7000': '249071:55a8661b1102b15f:57f7d2e011e7faff:c8374cbe7fc8a2af',
  'h264-240p.mp4 progressive 5000-Infinity': '387111:b333e10fceedad56:291c847f3aeb8899:09e4d151a6ffd4ed',
  'h264-240p.mp4 init': 'f8fb0c3a63994b14',
  'h264-240p.mp4 fmp4 hls 1': '80145:7e7b5d12961b6288:8a6443a44e7396dc:cdb67521106cdc6d',
  'h264-240p.mp4 ts 1': '89864:a6904c70e0ab6237:572850e0ef33268b:1542f6099170b778',
  'h264-240p.mp4 fmp4 hls 2': '100142:eba61f6ce24e8e1c:05070f91cab922fb:4898b2b46b9298f0',
  'h264-240p.mp4 ts 2': '109980:e6fdfd79b9c6bb56:8f0b987700f0a0c3:9a1baade1d51bf7d',
  'h264-240p.mp4 fmp4 hls 3': '96100:612b762d7307a282:12ba6d1da1838d81:03c27309cf609d99',
  'h264-240p.mp4 ts 3': '105468:995e1634abd94a98:0cecdeae68c54f6d:dac6114eeeaacc45',
  'h264-240p.mp4 fmp4 hls 4': '196183:c03fdbd0dcc39655:3433aa47f8316e00:fe0a3d9ba99efa1f',
  'h264-240p.mp4 ts 4': '215260:1e8d83fb7eefecdd:617850e6098aed07:43d288910f09cd57',
  'h264-240p.mp4 fmp4 hls 5': '94464:479b31c1d401f2fa:3aa70ddbcfe275b7:6448158b488e1b2c',
  'h264-240p.mp4 ts 5': '104340:a18be4ad2b153ea0:15902dcbdafca621:4821c8749be20e24',
  'h264-240p.mp4 dash video 1': '114469:3600283260167211:a95e2da2017f1582:f94f42035617461c',
  'h264-240p.mp4 mss video 1': '114393:52f7f0c5d40c0ade:13692237f61964de:f94f42035617461c',
  'h264-240p.mp4 dash video 2': '132028:75d56f1142f6065b:20734fc45a3702b8:2289019b07ff5a93',
  'h264-240p.mp4 mss video 2': '131952:2473a6110a8017b4:d28b9a85b6f33af7:2289019b07ff5a93',
  'h264-240p.mp4 dash video 3': '123557:9b834f28e750caac:00f2042b495965c6:4f4743e5c7ea4ebf',
  'h264-240p.mp4 mss video 3': '123481:61fcf1cd5d9e9b73:7570d3aa03aa5454:4f4743e5c7ea4ebf',
  'h264-240p.mp4 dash audio 1': '65842:483ecc69a4bc7b31:a70fe1cd8e560d77:4898b2b46b9298f0',
  'h264-240p.mp4 mss audio 1': '65766:aebee5ad77684335:a4cbba6870b0cfcf:4898b2b46b9298f0',
  'h264-240p.mp4 dash audio 2': '65529:a009a025d7504014:03736765f80b2fd8:b928591e86c3bd06',
  'h264-240p.mp4 mss audio 2': '65453:a9afce749d3bb716:2ff5df64779c1c04:b928591e86c3bd06',
  'h264-240p.mp4 dash audio 3': '65841:56f10ff6a07ecfeb:825789bf2c157e73:6448158b488e1b2c',
  'h264-240p.mp4 mss audio 3': '65765:ae769e11e40a52af:a7a7169a330fc00d:6448158b488e1b2c',
  'h264-720p.mp4 progressive 0-Infinity': '2001695:7bc4b34da46d56e4:52faa28eccea932e:40e834a9fb3fa8c1',
  'h264-720p.mp4 progressive 3000-7000': '856825:64d1f15882290e33:7214ce5d0a305381:cb7782269d487883',
  'h264-720p.mp4 progressive 5000-Infinity': '1328857:81e253286b4c0d11:c952330573a3c54a:40e834a9fb3fa8c1',
  'h264-720p.mp4 init': 'd62211e8187ff43e',
  'h264-720p.mp4 fmp4 hls 1': '323025:d7a3739d98c12f6a:e80859f3cecbd977:cdb67521106cdc6d',
  'h264-720p.mp4 ts 1': '337084:6d072fad613f9782:a98dc973107ce93b:a6db9ae2a799ba9e',
  'h264-720p.mp4 fmp4 hls 2': '350309:0e1693b4447a8199:4c8d0dab23eaa453:4898b2b46b9298f0',
  'h264-720p.mp4 ts 2': '365284:a3771d2a66737c89:5f35f7a632108ce1:f690b93136af8fd3',
  'h264-720p.mp4 fmp4 hls 3': '324389:57ac3522bc807684:a02b0c5b37fc7a86:03c27309cf609d99',
  'h264-720p.mp4 ts 3': '338588:c2bce24c632903cc:607530b8834af55a:b9dfa197552b7083',
  'h264-720p.mp4 fmp4 hls 4': '672656:04b2a9dc3385c600:d9c057b2a7946a36:fe0a3d9ba99efa1f',
  'h264-720p.mp4 ts 4': '701428:664066f0094675cc:a93dc0deec9f6f1f:2cde40c5bd88450a',
  'h264-720p.mp4 fmp4 hls 5': '331300:a43b492900f6983c:e647253af42c7e71:6448158b488e1b2c',
  'h264-720p.mp4 ts 5': '345544:139a1ce9e252f59a:24aa93c1047ae3b1:4b8b1242de8df440',
  'h264-720p.mp4 dash video 1': '607516:f7cade8c2248a118:80e054daa1823518:7a4d2d0dcac89b11',
  'h264-720p.mp4 mss video 1': '607440:a69df973af7369ec:2c2e43510338cf4f:7a4d2d0dcac89b11',
  'h264-720p.mp4 dash video 2': '607396:c2d74127703ac235:5fadfed9c03494b7:38572c775d3ed442',
  'h264-720p.mp4 mss video 2': '607320:f1fed18cb6939178:5a8e42855d253383:38572c775d3ed442',
  'h264-720p.mp4 dash video 3': '589787:7656833053a735ef:74e97195bb43887b:f9fe843ef66fdd11',
  'h264-720p.mp4 mss video 3': '589711:933a56a3682e7cf7:b8f575a727d2955d:f9fe843ef66fdd11',
  'h264-720p.mp4 dash audio 1': '65842:483ecc69a4bc7b31:a70fe1cd8e560d77:4898b2b46b9298f0',
  'h264-720p.mp4 mss audio 1': '65766:aebee5ad77684335:a4cbba6870b0cfcf:4898b2b46b9298f0',
  'h264-720p.mp4 dash audio 2': '65529:a009a025d7504014:03736765f80b2fd8:b928591e86c3bd06',
  'h264-720p.mp4 mss audio 2': '65453:a9afce749d3bb716:2ff5df64779c1c04:b928591e86c3bd06',
  'h264-720p.mp4 dash audio 3': '65841:56f10ff6a07ecfeb:825789bf2c157e73:6448158b488e1b2c',
  'h264-720p.mp4 mss audio 3': '65765:ae769e11e40a52af:a7a7169a330fc00d:6448158b488e1b2c',
  'audio-128k.mp4 progressive 0-Infinity': '197433:bb48fae5b0650c34:aa01d8e877e4d977:f5ffd312f8be350e',
  'audio-128k.mp4 progressive 3000-7000': '66710:8a30ee747ab3aa4d:680385758feb5490:74482e457ada3687',
  'audio-128k.mp4 progressive 5000-Infinity': '115611:0146eb65a728fe3b:d2c17756ddcd5cba:f5ffd312f8be350e',
  'audio-128k.mp4 init': 'dfc0e49986c65565',
  'audio-128k.mp4 fmp4 hls 1': '32958:7db27c7444e0218f:f3c694d5cedcfab1:603d429622e442bd',
  'audio-128k.mp4 ts 1': '35908:6c7a6bc934756ad5:896688bff9c6172d:32fca53c0540d519',
  'audio-128k.mp4 fmp4 hls 2': '32976:8fec4d8dc506bb7b:d29a9d0ea240f813:451f570325503401',
  'audio-128k.mp4 ts 2': '35720:c9f625a40888fbe6:f834a83126751372:7a97a57815fcb1cd',
  'audio-128k.mp4 fmp4 hls 3': '32964:32383fc29f674de3:36da9d4e43d3ccc8:5c8312fb1e0abcbc',
  'audio-128k.mp4 ts 3': '35720:8c37eabc39537a69:44440c64d1d7ddc5:430e525f0c7b08f0',
  'audio-128k.mp4 fmp4 hls 4': '65424:8c389a4fd7ae9743:c1a4bae69d6984dc:38f493f977e2dc8c',
  'audio-128k.mp4 ts 4': '70688:65e36f3b3a36d223:d8385f603f48b800:e2c98b944649ba6d',
  'audio-128k.mp4 fmp4 hls 5': '32924:bf633dc362a43547:5b07d18e1abe2b16:f5ffd312f8be350e',
  'audio-128k.mp4 ts 5': '35720:b89be1908fa787e4:f7f2525a2049666e:8eb238f68f078429',
  'audio-128k.mp4 dash audio 1': '65914:4a97c4e29726a390:58cd21dcc545bd00:451f570325503401',
  'audio-128k.mp4 mss audio 1': '65838:67a44e09457825ad:be14f8db581b4897:451f570325503401',
  'audio-128k.mp4 dash audio 2': '65527:106927c311f33a6b:c01230ebb2001fcb:b103f8a64e033af4',
  'audio-128k.mp4 mss audio 2': '65451:5ce4a3ff225411da:da3653d85f23516c:b103f8a64e033af4',
  'audio-128k.mp4 dash audio 3': '65841:1f52c6b1d8de8b9d:b9be0f361ea194ea:f5ffd312f8be350e',
  'audio-128k.mp4 mss audio 3': '65765:1e9044680101df07:bb26a1aa80dd9741:f5ffd312f8be350e',
  'alt-audio-spa.mp4 progressive 0-Infinity': '149494:8c4fa3964f35a711:6dd938e0778d3200:ca0ff873eeca550f',
  'alt-audio-spa.mp4 progressive 3000-7000': '50620:8b62c9b191251799:2dd028ace7be140a:82f751f085cdc026',
  'alt-audio-spa.mp4 progressive 5000-Infinity': '87601:3869757b1b0f19bc:c38fc9f97ad2706f:ca0ff873eeca550f',
  'alt-audio-spa.mp4 init': 'c471f6333136f1ff',
  'alt-audio-spa.mp4 fmp4 hls 1': '24955:e44cee7efa17ba14:97662db417d2d503:2b9e3c77451cf548',
  'alt-audio-spa.mp4 ts 1': '27260:6ae54ef8b76ad82c:9d74032c8ce191c8:e807033f0dc7b7bf',
  'alt-audio-spa.mp4 fmp4 hls 2': '24965:5c077ad99cf67bed:3ad4797387887eb9:c240f740de7845ea',
  'alt-audio-spa.mp4 ts 2': '27072:b2611d3e9ed5db1e:d157d5da26c25ed5:133b05671dd71bc1',
  'alt-audio-spa.mp4 fmp4 hls 3': '24940:12a569211a8bfb8c:9a5529cbf529e1b1:16905b0d6cb286fc',
  'alt-audio-spa.mp4 ts 3': '26884:0863382452f88bc6:20ac1b8195b4aa0e:e05f7aeb0c5a7317',
  'alt-audio-spa.mp4 fmp4 hls 4': '49499:4f8e6911c5e510bb:3b8defc087689d99:aefe0944f6b959e0',
  'alt-audio-spa.mp4 ts 4': '53204:5ba59742b994ff65:6959da7fedab9367:05ccd413a18a18c0',
  'alt-audio-spa.mp4 fmp4 hls 5': '24948:966f5ee05207cf2c:764e30a17ab96343:ca0ff873eeca550f',
  'alt-audio-spa.mp4 ts 5': '27448:329197cb562c314c:b14b61b5dc9aeaab:d01463e2617d5955',
  'alt-audio-spa.mp4 dash audio 1': '49900:4393cea78a46643d:9f984eddba524263:c240f740de7845ea',
  'alt-audio-spa.mp4 mss audio 1': '49824:55e9a544eb4a5096:189341abb4f6b481:c240f740de7845ea',
  'alt-audio-spa.mp4 dash audio 2': '49564:272bf0984f3d0ba3:2244a241c7382ae9:64635adfe5a77f86',
  'alt-audio-spa.mp4 mss audio 2': '49488:b1517a5fea468815:172d2a46cf41b2e5:64635adfe5a77f86',
  'alt-audio-spa.mp4 dash audio 3': '49879:d45b18ffe7326bee:3d2889a6f2185cdc:ca0ff873eeca550f',
  'alt-audio-spa.mp4 mss audio 3': '49803:a0b7a178f6145bc2:69f52ae3850ac920:ca0ff873eeca550f',
};

t.test('writers output the same bytes as before the shared builders', async (t) => {
  const got = await outputHashes();
  if (process.env.KDELIVER_PRINT_HASHES) console.log(JSON.stringify(got, null, 2));
  t.same(got, EXPECTED);
});
