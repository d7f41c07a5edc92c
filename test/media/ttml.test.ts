// TTML/DFXP captions: a broadcast-style file (chained styles, regions, clock, offset, frame and
// tick times, nested timing, elements TTML does not know) imports; the WebVTT it becomes is valid
// to webvtt-parser (the W3C validator's parser, nobody here wrote it) and shows the same text at
// the same times, with the styling WebVTT can carry; a malformed file is refused at import with
// a message naming its line. Through the server: serve gives the TTML as stored, serveWebVTT and
// the packager's HLS and DASH subtitles give the WebVTT, getPlaybackContext says format "2".
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webvtt from 'webvtt-parser';
import { parseTtml, parseTtmlTime, TtmlError } from '../../src/media/ttml.js';
import { captionToWebVtt } from '../../src/media/captions.js';
import { importLibrary, LibraryError, readLibraryFile } from '../../src/catalog/library.js';
import { startServer } from '../helpers/server.js';
import { runCliModule } from '../ingest/helpers.js';
import { sample } from './helpers.js';
import { repoPath, runnableModule } from '../helpers/repo.js';

const FIXTURES = repoPath('test/media/fixtures/');
const STYLED = readFileSync(join(FIXTURES, 'styled.dfxp'), 'utf8');

/** What the styled fixture says, read by hand from the file: times in seconds and the plain text. */
const EXPECTED = [
  { start: 0.5, end: 2, text: 'Hello & welcome\nto kdeliver' },
  { start: 2.5, end: 4, text: 'Yellow and italic text' },
  { start: 4.48, end: 5.48, text: 'Frames still count' }, // 00:00:04:12 at 25 fps, dur 25 frames
  { start: 6, end: 7.5, text: 'Nested <timing>' }, // a div beginning at 6 s
  { start: 8, end: 9, text: 'Ticks' }, // 2e7 and 3e7 ticks at 10 MHz, inside the 6 s div
];

interface VttCue { startTime: number; endTime: number; text: string; alignment: string; linePosition: number | string; textPosition: number | string; size: number; tree: any }

/** WebVTT → what a viewer sees: the cue tree's text, tags gone and entities decoded by the parser. */
function plain(node: any): string {
  if (node.type === 'text') return node.value;
  return (node.children ?? []).map(plain).join('');
}

// the parser decodes only a few entities unless given the whole HTML table (its README says so)
const ENTITIES = JSON.parse(readFileSync(repoPath('node_modules/webvtt-parser/html-entities.json'), 'utf8'));
function parseVtt(vtt: string): { errors: unknown[]; cues: VttCue[]; styles: string[] } {
  return new webvtt.WebVTTParser(ENTITIES).parse(vtt, 'subtitles') as any;
}

t.test('TTML time expressions', async (t) => {
  const tb = { frameRate: 25, subFrameRate: 1, tickRate: 10_000_000 };
  const cases: Array<[string, number | null]> = [
    ['00:00:01.500', 1500], ['01:02:03', 3723000], ['00:00:04:12', 4480], ['100:00:00.000', 360000000],
    ['2.5s', 2500], ['1.5m', 90000], ['1h', 3600000], ['250ms', 250], ['50f', 2000], ['20000000t', 2000],
    ['00:61:00', null], ['1.5', null], ['abc', null], ['-1s', null], ['', null],
  ];
  for (const [v, ms] of cases) {
    const got = parseTtmlTime(v, tb);
    if (ms === null) t.equal(got, null, `"${v}" is not a time`);
    else t.ok(got !== null && Math.abs(got - ms) < 1e-6, `"${v}" = ${ms} ms (got ${got})`);
  }
});

t.test('a styled DFXP with regions and unknown elements becomes valid WebVTT with the same text at the same times', async (t) => {
  const doc = parseTtml(STYLED);
  t.match(doc.warnings.join('\n'), /line 23: <blink>/, 'the unknown inline element is reported with its line (its text kept)');
  t.match(doc.warnings.join('\n'), /line 24: <note>/, 'the unknown block element is reported with its line (dropped)');

  for (const [what, opts] of [['plain', {}], ['HLS, clipped to 1-8.5 s', { originMs: 1000, durationMs: 7500, mpegTs90k: 126000 }]] as const) {
    const vtt = captionToWebVtt(STYLED, opts);
    const parsed = parseVtt(vtt);
    const errors = parsed.errors.filter((e: any) => !('mpegTs90k' in opts && e.line === 2 && /blank line after the signature/.test(e.message)));
    t.same(errors, [], `${what}: webvtt-parser finds no error (but HLS's X-TIMESTAMP-MAP header line)`, { vtt });
    const origin = ('originMs' in opts ? opts.originMs : 0) / 1000;
    const limit = 'durationMs' in opts ? opts.durationMs / 1000 : Infinity;
    const want = EXPECTED
      .map((c) => ({ start: +Math.max(0, c.start - origin).toFixed(3), end: +Math.min(limit, c.end - origin).toFixed(3), text: c.text }))
      .filter((c) => c.end > c.start);
    t.same(parsed.cues.map((c) => ({ start: +c.startTime.toFixed(3), end: +c.endTime.toFixed(3), text: plain(c.tree) })), want, `${what}: same text at the same times`);
  }

  const cues = parseVtt(captionToWebVtt(STYLED)).cues;
  t.match(cues[0].text, /<b>kdeliver<\/b>/, 'bold span → <b>');
  t.match(cues[1].text, /^<c\.(\w+)>Yellow <i>and italic<\/i> text<\/c>$/, 'chained style colour → a class, italic span → <i>');
  t.match(cues[3].text, /^<u>/, 'underline → <u>');
  const styles = parseVtt(captionToWebVtt(STYLED)).styles.join('\n');
  const yellowClass = /^<c\.(\w+)>/.exec(cues[1].text)![1];
  t.match(styles, new RegExp(`::cue\\(\\.${yellowClass}\\) \\{ color: #ffff00; \\}`), 'the class is styled in a STYLE block');
  t.match(styles, /color: rgb\(0,255,255\)/, 'rgb() colours are kept');
  t.equal(cues[0].alignment, 'center', 'the bottom region centres its text');
  t.equal(cues[0].linePosition, 95, 'bottom region (origin 80%, extent 15%, displayAlign after) → line 95%');
  t.equal(cues[0].textPosition, 10, 'region origin x → position 10%');
  t.equal(cues[0].size, 80, 'region extent width → size 80%');
  t.equal(cues[2].alignment, 'left', 'the top region\'s own style aligns left');
  t.equal(cues[2].linePosition, 5, 'top region → line 5%');
});

t.test('malformed or unusable TTML is refused with its line', async (t) => {
  const broken = readFileSync(join(FIXTURES, 'broken.dfxp'), 'utf8');
  t.throws(() => parseTtml(broken), { name: 'Error', line: 7, message: /^line 7: not well-formed XML: Expected closing tag 'p'/ }, 'unclosed <p> found where </div> closes (line 7)');
  const cases: Array<[string, string, RegExp]> = [
    ['<?xml version="1.0"?>\n<html><body/></html>', 'an HTML document', /^line 2: the root element is <html>, not <tt>$/],
    ['<tt xmlns="http://www.w3.org/ns/ttml">\n<body><div>\n<p begin="1s" end="2s">a</p>\n<p begin="soon" end="3s">b</p>\n</div></body></tt>', 'a bad time', /^line 4: begin="soon" is not a TTML time expression$/],
    ['<tt><body><p begin="1s" end="2s">a & b</p></body></tt>', 'a bare ampersand', /^line 1: not well-formed XML/],
    ['not xml at all', 'plain text', /^line 1: not well-formed XML/],
  ];
  for (const [text, what, re] of cases) t.throws(() => parseTtml(text), { message: re }, what);
  t.ok(new TtmlError(3, 'x') instanceof Error);
});

t.test('kdeliver import takes a DFXP caption and refuses a broken one with its line', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-ttml-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const media = join(work, 'media');
  const make = (caption: string): string => {
    rmSync(media, { recursive: true, force: true });
    mkdirSync(media, { recursive: true });
    copyFileSync(sample('h264-240p.mp4'), join(media, 'video.mp4'));
    writeFileSync(join(media, 'captions.dfxp'), caption);
    const lib = join(work, 'lib.json');
    writeFileSync(lib, JSON.stringify({
      version: 1,
      partners: [{ id: 309, name: 'TTML partner', adminSecret: 'ttml-admin-secret', userSecret: 'ttml-user-secret' }],
      entries: [{
        id: '1_ttmlcap0', partnerId: 309, name: 'TTML captions', duration: 12,
        flavors: [{ id: '1_ttmlf240', flavorParamsId: 301951, file: 'video.mp4', width: 426, height: 240, bitrate: 350, frameRate: 25, durationMs: 12000, codecs: 'avc1.640015,mp4a.40.2', videoCodec: 'h264', audioCodec: 'aac', tags: 'web,mbr,iphone,iphonenew,applembr,dash' }],
        captions: [{ id: '1_ttmlcapA', language: 'English', languageCode: 'en', label: 'English (TTML)', format: 'dfxp', file: 'captions.dfxp', isDefault: true }],
      }],
    }));
    return lib;
  };
  const cli = runnableModule('src/cli/main.ts');
  const env = { KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' };

  const bad = await runCliModule(cli, ['import', make(readFileSync(join(FIXTURES, 'broken.dfxp'), 'utf8'))], env);
  t.equal(bad.code, 2, 'a broken TTML stops the import');
  t.match(bad.stderr, /entries\[0\]\.captions\[0\]: .*captions\.dfxp is not usable TTML: line 7: not well-formed XML/, 'the message names the caption, the file and the line');
  let refused: unknown = null;
  try {
    readLibraryFile(make('<tt>\n<body><p begin="x" end="2s">a</p></body></tt>'));
  } catch (e) {
    refused = e;
  }
  t.ok(refused instanceof LibraryError, 'the library reader refuses it too');
  t.match((refused as Error).message, /captions\.dfxp is not usable TTML: line 2: begin="x" is not a TTML time expression/);

  const good = await runCliModule(cli, ['import', make(STYLED)], env);
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /imported .*: 1 entry/);
});

t.test('served: the TTML as stored, WebVTT from serveWebVTT and the packager, format 2 in the API', async (t) => {
  const server = await startServer(t);
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-ttml-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, 'media'));
  copyFileSync(sample('h264-240p.mp4'), join(work, 'media', 'video.mp4'));
  writeFileSync(join(work, 'media', 'captions.dfxp'), STYLED);
  writeFileSync(join(work, 'lib.json'), JSON.stringify({
    version: 1,
    entries: [{
      id: '1_ttmlcap0', partnerId: 309, name: 'TTML captions', duration: 12,
      flavors: [{ id: '1_ttmlf240', flavorParamsId: 301951, file: 'video.mp4', width: 426, height: 240, bitrate: 350, frameRate: 25, durationMs: 12000, codecs: 'avc1.640015,mp4a.40.2', videoCodec: 'h264', audioCodec: 'aac', tags: 'web,mbr,iphone,iphonenew,applembr,dash' }],
      captions: [{ id: '1_ttmlcapA', language: 'English', languageCode: 'en', label: 'English (TTML)', format: 'dfxp', file: 'captions.dfxp', isDefault: true }],
    }],
  }));
  const { library, mediaDir } = readLibraryFile(join(work, 'lib.json'));
  await importLibrary(server.app.catalog, library, mediaDir, server.config.mediaRoot);
  const api = `${server.url}/api_v3/index.php/service/caption_captionasset/action`;

  const raw = await fetch(`${api}/serve/captionAssetId/1_ttmlcapA`);
  t.equal(raw.status, 200);
  t.match(raw.headers.get('content-type'), /^application\/ttml\+xml/);
  t.equal(await raw.text(), STYLED, 'serve gives the TTML as stored');

  const want = EXPECTED.map((c) => ({ start: c.start, end: c.end, text: c.text }));
  const seen = (vtt: string, shift = 0) => parseVtt(vtt).cues.map((c) => ({ start: +(c.startTime + shift).toFixed(3), end: +(c.endTime + shift).toFixed(3), text: plain(c.tree) }));
  const vttRes = await fetch(`${api}/serveWebVTT/captionAssetId/1_ttmlcapA/segmentIndex/-1/version/1/captions.vtt`);
  t.match(vttRes.headers.get('content-type'), /^text\/vtt/);
  const vtt = await vttRes.text();
  t.same(parseVtt(vtt).errors, [], 'serveWebVTT: valid WebVTT');
  t.same(seen(vtt), want, 'serveWebVTT: same text at the same times');

  const hls = `${server.url}/hls/p/309/sp/30900/serveFlavor/entryId/1_ttmlcap0/v/1/flavorId/1_ttmlf240/name/a.mp4`;
  t.match(await (await fetch(`${hls}/master.m3u8`)).text(), /#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English \(TTML\)",LANGUAGE="en"/, 'the HLS master lists the TTML track');
  const hlsVtt = await (await fetch(`${hls}/subtitles-1.vtt`)).text();
  t.match(hlsVtt, /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n/, 'HLS WebVTT with its timestamp map');
  // HLS puts X-TIMESTAMP-MAP in the header (RFC 8216 3.5), where the WebVTT grammar wants a blank
  // line: the one complaint the parser may have, and only about that line
  t.same(parseVtt(hlsVtt).errors.filter((e: any) => !(e.line === 2 && /blank line after the signature/.test(e.message))), [], 'HLS subtitles: valid WebVTT');
  t.same(seen(hlsVtt), want, 'HLS subtitles: same text at the same times');
  const dash = `${server.url}/dash/p/309/sp/30900/serveFlavor/entryId/1_ttmlcap0/v/1/flavorId/1_ttmlf240/forceproxy/true/name/a.mp4`;
  t.match(await (await fetch(`${dash}/manifest.mpd`)).text(), /<AdaptationSet id="\d+" contentType="text" mimeType="text\/vtt" lang="en">/, 'the MPD has the text set');
  t.same(seen(await (await fetch(`${dash}/subtitles-1.vtt`)).text()), want, 'DASH subtitles: same text at the same times');

  const list = await (await fetch(`${server.url}/api_v3/service/caption_captionasset/action/list?format=1&filter[entryIdEqual]=1_ttmlcap0&ks=${encodeURIComponent(await adminKs(server.url))}`)).json();
  t.equal(list.objects?.[0]?.format, '2', 'captionAsset.format is 2 (DFXP)');
  const ctx = await (await fetch(`${server.url}/api_v3/service/baseEntry/action/getPlaybackContext?format=1&entryId=1_ttmlcap0&ks=${encodeURIComponent(await adminKs(server.url))}`)).json();
  t.equal(ctx.playbackCaptions?.[0]?.format, '2', 'playbackCaptions says DFXP');
  t.match(ctx.playbackCaptions?.[0]?.webVttUrl, /serveWebVTT/, 'and gives the WebVTT URL the player uses for it');
});

async function adminKs(base: string): Promise<string> {
  const r = await (await fetch(`${base}/api_v3/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).json();
  return r as string;
}
