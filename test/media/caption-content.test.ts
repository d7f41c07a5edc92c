// A library's caption files are read for what they are, as captionAsset.setContent reads content:
// `kdeliver import` refuses a caption file that is not text or not captions with its place in the
// library file, and records an SRT file declared "vtt" as srt; serveWebVTT's whole file
// (segmentIndex=-1, what the Kaltura player fetches) is WebVTT converted from what the file holds,
// also for a row an older import recorded as vtt over an SRT file. WebVTT read by webvtt-parser
// (the W3C validator's parser, nobody here wrote it).
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webvtt from 'webvtt-parser';
import { importLibrary, readLibraryFile, type LibraryFile } from '../../src/catalog/library.js';
import { startServer } from '../helpers/server.js';
import { runCliModule } from '../ingest/helpers.js';
import { sample } from './helpers.js';
import { repoPath, runnableModule } from '../helpers/repo.js';

const ENTITIES = JSON.parse(readFileSync(repoPath('node_modules/webvtt-parser/html-entities.json'), 'utf8'));
const parseVtt = (vtt: string) => new webvtt.WebVTTParser(ENTITIES).parse(vtt, 'subtitles') as { errors: unknown[]; cues: Array<{ startTime: number; endTime: number; text: string }> };
const JPEG = repoPath('fixtures/media/thumb-640x360.jpg');
const SRT = '1\r\n00:00:01,000 --> 00:00:02,500\r\nHello from SRT & co\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nSecond line\r\n';
const CUES = [{ startTime: 1, endTime: 2.5, text: 'Hello from SRT &amp; co' }, { startTime: 3, endTime: 4, text: 'Second line' }];
const cli = runnableModule('src/cli/main.ts');

/**
 * A library folder with one entry whose one caption is `caption` (bytes) declared `format` in
 * `file`; with its partner for a catalog without the sample library's (`kdeliver import` here).
 */
function library(work: string, caption: string | Buffer, format: 'srt' | 'vtt' | 'dfxp', file: string, withPartner = false): LibraryFile & { path: string } {
  const media = join(work, 'media');
  rmSync(media, { recursive: true, force: true });
  mkdirSync(media, { recursive: true });
  copyFileSync(sample('h264-240p.mp4'), join(media, 'video.mp4'));
  writeFileSync(join(media, file), caption);
  const lib: LibraryFile = {
    version: 1,
    ...(withPartner ? { partners: [{ id: 309, name: 'Caption partner', adminSecret: 'caption-admin-secret', userSecret: 'caption-user-secret' }] } : {}),
    entries: [{
      id: '1_capcont0', partnerId: 309, name: 'Caption content', duration: 12,
      flavors: [{ id: '1_capcontf', flavorParamsId: 301951, file: 'video.mp4', width: 426, height: 240, bitrate: 350, frameRate: 25, durationMs: 12000, codecs: 'avc1.640015,mp4a.40.2', videoCodec: 'h264', audioCodec: 'aac', tags: 'web,mbr,iphone,iphonenew,applembr,dash' }],
      captions: [{ id: '1_capcontA', language: 'English', languageCode: 'en', format, file }],
    }],
  };
  const path = join(work, 'lib.json');
  writeFileSync(path, JSON.stringify(lib));
  return { ...lib, path };
}

function workDir(t: { teardown(fn: () => unknown): void }): string {
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-capcontent-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  return work;
}

t.test('kdeliver import refuses a caption file that is not text or not captions, with its place', async (t) => {
  const work = workDir(t);
  const env = { KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const cases: Array<[string, string | Buffer, 'srt' | 'vtt', string, RegExp]> = [
    ['garbage declared vtt', 'garbage not captions\n', 'vtt', 'captions.vtt', /captions\.vtt is neither SRT .*, WebVTT .* nor TTML\/DFXP/],
    ['a JPEG declared srt', readFileSync(JPEG), 'srt', 'captions.srt', /captions\.srt is not text \(SRT, WebVTT or TTML\/DFXP is expected\)/],
    ['a WebVTT header without a cue', 'WEBVTT\n\nnothing timed here\n', 'vtt', 'captions.vtt', /captions\.vtt is a WebVTT file without a single cue/],
  ];
  for (const [what, bytes, format, file, re] of cases) {
    const r = await runCliModule(cli, ['import', library(work, bytes, format, file, true).path], env);
    t.equal(r.code, 2, `${what}: the import stops (${r.stderr.trim()})`);
    t.match(r.stderr, /entries\[0\]\.captions\[0\]: /, `${what}: the message names the caption`);
    t.match(r.stderr, re, `${what}: and the file, and what is wrong with it`);
  }
});

t.test('an SRT file declared vtt imports as srt and serveWebVTT gives it as WebVTT', async (t) => {
  const work = workDir(t);
  const env = { KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const r = await runCliModule(cli, ['import', library(work, SRT, 'vtt', 'captions.vtt', true).path], env);
  t.equal(r.code, 0, `kdeliver import takes it (${r.stderr.trim()})`);

  // the same reading and import, into a server's catalog (with the sample library's partner 309)
  const server = await startServer(t);
  const { library: read, mediaDir } = readLibraryFile(library(work, SRT, 'vtt', 'captions.vtt').path);
  await importLibrary(server.app.catalog, read, mediaDir, server.config.mediaRoot);
  t.equal((await server.app.catalog.getCaption('1_capcontA'))?.format, 'srt', 'recorded as the SRT it is');
  const res = await fetch(`${server.url}/api_v3/index.php/service/caption_captionasset/action/serveWebVTT/captionAssetId/1_capcontA/segmentIndex/-1`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/vtt/);
  const vtt = await res.text();
  t.match(vtt, /^WEBVTT\n/, 'starts with the WebVTT header');
  const parsed = parseVtt(vtt);
  t.same(parsed.errors, [], 'valid WebVTT');
  t.same(parsed.cues.map((c) => ({ startTime: c.startTime, endTime: c.endTime, text: c.text })), CUES, 'the cues, at their times');
});

t.test('a row an older import recorded as vtt over an SRT file is served as WebVTT', async (t) => {
  const work = workDir(t);
  const server = await startServer(t);
  // as an import that trusted the declared format left it: importLibrary without readLibraryFile's checks
  const lib = library(work, SRT, 'vtt', 'captions.vtt');
  await importLibrary(server.app.catalog, lib, join(work, 'media'), server.config.mediaRoot);
  t.equal((await server.app.catalog.getCaption('1_capcontA'))?.format, 'vtt', 'the row says vtt');
  const api = `${server.url}/api_v3/index.php/service/caption_captionasset/action/serveWebVTT/captionAssetId/1_capcontA`;
  const vtt = await (await fetch(`${api}/segmentIndex/-1`)).text();
  t.match(vtt, /^WEBVTT\n/, 'the whole file starts with the WebVTT header');
  const parsed = parseVtt(vtt);
  t.same(parsed.errors, [], 'valid WebVTT');
  t.same(parsed.cues.map((c) => ({ startTime: c.startTime, endTime: c.endTime, text: c.text })), CUES, 'the cues, with SRT text escaped as WebVTT');
  const seg = parseVtt(await (await fetch(`${api}/segmentIndex/1`)).text());
  t.same(seg.errors, [], 'a segment: valid WebVTT');
  t.same(seg.cues.map((c) => c.text), CUES.map((c) => c.text), 'a segment: the same cues');
  // the packager's subtitle track of the same caption (HLS WebVTT, DASH's fMP4-wrapped TTML)
  const flavor = `${server.url}/hls/p/309/sp/30900/serveFlavor/entryId/1_capcont0/v/1/flavorId/1_capcontf/name/a.mp4`;
  // (its X-TIMESTAMP-MAP header line, HLS's, is not the strict parser's WebVTT)
  const hls = parseVtt((await (await fetch(`${flavor}/subtitles-1.vtt`)).text()).replace(/^X-TIMESTAMP-MAP=.*\n/m, ''));
  t.same(hls.errors, [], 'the HLS subtitle track: valid WebVTT');
  t.same(hls.cues.map((c) => c.text), CUES.map((c) => c.text), 'the HLS subtitle track: SRT text escaped as WebVTT');
  const dash = Buffer.from(await (await fetch(`${flavor.replace('/hls/', '/dash/')}/subtitles-1-1.m4s`)).arrayBuffer()).toString('utf8');
  t.match(dash, /Hello from SRT &amp; co/, 'DASH\'s TTML: the SRT text escaped as XML');
});
