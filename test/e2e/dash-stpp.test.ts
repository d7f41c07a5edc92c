// Captions as TTML in fMP4 (stpp) for DASH players that read text as segments. The server's
// KDELIVER_DASH_SUBTITLES setting or the URL's /subtitleFormat/stpp/ turns the MPD's text sets
// into application/mp4 "stpp" sets; ffprobe reads the init segment as a subtitle track of the
// caption's language, ffmpeg takes the one sample out, fast-xml-parser reads it as well-formed
// TTML, and its paragraphs say what the WebVTT of the same caption says (webvtt-parser), at the
// same times. A DFXP caption added through api_v3 (kaltura-client) goes the same way, its styling
// kept as TTML spans. dash.js in Chromium plays the stpp manifest and puts the cues on the video's
// text track.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import webvtt from 'webvtt-parser';
import kaltura from 'kaltura-client';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { launchBrowser, startPlayerPageServer } from '../helpers/browser.js';
import { ALT, dashManifest } from '../helpers/packager-urls.js';
import { repoPath } from '../helpers/repo.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
const work = mkdtempSync(join(tmpdir(), 'kdeliver-stpp-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const FLAVORS = [ALT.p240, ALT.p360];
const base = (mpd: string) => mpd.slice(0, mpd.lastIndexOf('/') + 1);
/** The MPD path with key/value pairs before /v/ (where the packager reads them). */
const withPairs = (path: string, pairs: string) => path.replace('/v/', `${pairs}/v/`);
const ENTITIES = JSON.parse(readFileSync(repoPath('node_modules/webvtt-parser/html-entities.json'), 'utf8'));

interface Shown { start: number; end: number; text: string }

/** WebVTT → the cues a viewer sees (times in s, text without tags). */
function vttCues(vtt: string): Shown[] {
  const tree = new webvtt.WebVTTParser(ENTITIES).parse(vtt, 'subtitles') as any;
  const flat = (n: any): string => (n.type === 'text' ? n.value : (n.children ?? []).map(flat).join(''));
  return tree.cues.map((c: any) => ({ start: c.startTime, end: c.endTime, text: flat(c.tree).trim() }));
}

const clock = (v: string): number => {
  const [h, m, s] = v.split(':');
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
};

/** A TTML document → its paragraphs (times in s, text with <br/> as a line break, spans' text kept). */
function ttmlCues(xml: string): Shown[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, trimValues: false }).parse(xml) as any[];
  const text = (nodes: any[]): string => nodes.map((n) => ('#text' in n ? String(n['#text']) : 'br' in n ? '\n' : text(n[Object.keys(n).find((k) => k !== ':@')!] ?? []))).join('');
  const out: Shown[] = [];
  const walk = (nodes: any[]) => {
    for (const n of nodes) {
      const tag = Object.keys(n).find((k) => k !== ':@')!;
      if (tag === 'p') out.push({ start: clock(n[':@'].begin), end: clock(n[':@'].end), text: text(n.p).trim() });
      else if (Array.isArray(n[tag])) walk(n[tag]);
    }
  };
  walk(doc);
  return out;
}

/** Init + fragment → ffprobe's view of the track and the one sample ffmpeg takes out. */
function readStpp(init: Buffer, fragment: Buffer, name: string): { stream: Record<string, string>; sample: string } {
  const file = join(work, `${name}.mp4`);
  writeFileSync(file, Buffer.concat([init, fragment]));
  const probe = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' });
  const stream = JSON.parse(probe.stdout).streams?.[0] ?? {};
  const out = join(work, `${name}.ttml`);
  const x = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', file, '-map', '0:0', '-c', 'copy', '-f', 'data', out], { encoding: 'utf8' });
  return { stream: { ...stream, ...Object.fromEntries(Object.entries(stream.tags ?? {}).map(([k, v]) => [`tag:${k}`, String(v)])), ffmpegError: x.stderr }, sample: x.status === 0 ? readFileSync(out, 'utf8') : '' };
}

t.test('DASH captions as TTML in fMP4 (stpp)', async (t) => {
  const s = await startServer(t);
  const plain = dashManifest({ entryId: ALT.entryId, flavorIds: FLAVORS });
  const stppPath = withPairs(plain, '/subtitleFormat/stpp');

  await t.test('the MPD: WebVTT files by default, stpp sets when the URL asks, a clear refusal otherwise', async (t) => {
    const vttMpd = await (await fetch(s.url + plain)).text();
    t.match(vttMpd, /contentType="text" mimeType="text\/vtt" lang="en"/, 'default: WebVTT');
    t.notMatch(vttMpd, /stpp/);
    const mpd = await (await fetch(s.url + stppPath)).text();
    t.match(mpd, /<AdaptationSet id="\d+" contentType="text" mimeType="application\/mp4" codecs="stpp" lang="en">/);
    // absolute, under the MPD's own directory (src/media/dash/mpd.ts)
    const dir = base(s.url + stppPath).replace(/[.$?*+()[\]{}|^\\]/g, '\\$&');
    t.match(mpd, new RegExp(`initialization="${dir}subtitles-1-init\\.mp4" media="${dir}subtitles-1-\\$Number\\$\\.m4s" startNumber="1"><SegmentTimeline><S t="0" d="12000"/>`), 'one segment over the whole clip');
    t.notMatch(mpd, /text\/vtt/, 'no WebVTT set beside them');
    const bad = await fetch(s.url + withPairs(plain, '/subtitleFormat/srt'));
    t.equal(bad.status, 400);
    t.match(bad.headers.get('x-kaltura'), /^error-25/, 'BAD_QUERY');
    t.match(await bad.text(), /subtitleFormat srt is not webvtt or stpp/);
  });

  await t.test('each caption: a subtitle track of its language holding the WebVTT file\'s cues as TTML', async (t) => {
    for (const [n, lang] of [[1, 'eng'], [2, 'spa']] as const) {
      const b = s.url + base(stppPath);
      const init = await fetch(`${b}subtitles-${n}-init.mp4`);
      t.equal(init.status, 200);
      t.equal(init.headers.get('content-type'), 'application/mp4');
      const frag = await fetch(`${b}subtitles-${n}-1.m4s`);
      t.equal(frag.status, 200);
      const { stream, sample } = readStpp(Buffer.from(await init.arrayBuffer()), Buffer.from(await frag.arrayBuffer()), `c${n}`);
      t.match(stream, { codec_tag_string: 'stpp', codec_type: 'data', 'tag:language': lang, 'tag:handler_name': 'SubtitleHandler', duration: '12.000000' }, `caption ${n}: ffprobe's view`);
      t.equal(XMLValidator.validate(sample), true, 'the sample is well-formed XML');
      t.match(sample, /<tt xmlns="http:\/\/www\.w3\.org\/ns\/ttml"/);
      const vtt = await (await fetch(`${s.url}${base(plain)}subtitles-${n}.vtt`)).text();
      const want = vttCues(vtt);
      t.ok(want.length >= 2, `caption ${n}: ${want.length} cues`);
      t.same(ttmlCues(sample), want, `caption ${n}: the same text at the same times as its WebVTT`);
    }
    t.equal((await fetch(`${s.url}${base(stppPath)}subtitles-1-2.m4s`)).status, 404, 'one segment only');
    t.equal((await fetch(`${s.url}${base(stppPath)}subtitles-9-init.mp4`)).status, 404, 'no caption 9');
  });

  await t.test('a DFXP caption added through api_v3: its styling as TTML spans, its text and times kept', async (t) => {
    const config = new kaltura.Configuration();
    config.serviceUrl = s.url;
    config.setLogger({ log() {}, error() {}, debug() {} });
    const client = new kaltura.Client(config);
    client.setKs(await kaltura.services.session.start('sample-admin-secret-309', 'editor', kaltura.enums.SessionType.ADMIN, 309).execute(client));
    const dfxp = readFileSync(repoPath('test/media/fixtures/styled.dfxp'), 'utf8');
    const cap = await kaltura.services.captionAsset.add(ALT.entryId, new kaltura.objects.CaptionAsset({ language: 'German', label: 'Deutsch', format: '2' })).execute(client);
    await kaltura.services.captionAsset.setContent(cap.id, new kaltura.objects.StringResource({ content: dfxp })).execute(client);
    const mpd = await (await fetch(s.url + stppPath)).text();
    const n = [...mpd.matchAll(/lang="([a-z]+)">[\s\S]*?subtitles-(\d+)-init/g)].find((m) => m[1] === 'de')?.[2];
    t.ok(n, 'the German caption is a stpp set');
    const b = s.url + base(stppPath);
    const { stream, sample } = readStpp(Buffer.from(await (await fetch(`${b}subtitles-${n}-init.mp4`)).arrayBuffer()), Buffer.from(await (await fetch(`${b}subtitles-${n}-1.m4s`)).arrayBuffer()), 'de');
    t.match(stream, { codec_tag_string: 'stpp', 'tag:language': 'deu' });
    t.equal(XMLValidator.validate(sample), true, 'well-formed');
    t.match(sample, /<span tts:fontStyle="italic">/, 'italic kept as a TTML span');
    const vtt = await (await fetch(`${s.url}${base(plain)}subtitles-${n}.vtt`)).text();
    t.same(ttmlCues(sample), vttCues(vtt), 'the same text at the same times as its WebVTT');
  });

  await t.test('dash.js plays the stpp manifest and shows its cues on the text track', async (t) => {
    const browser = await launchBrowser(t);
    const pages = await startPlayerPageServer(t);
    const p = await browser.newPage();
    t.teardown(() => p.close());
    const requests: string[] = [];
    const consoleLines: string[] = [];
    p.on('response', (r) => { if (/subtitles-/.test(r.url())) requests.push(`${r.status()} ${r.url().slice(r.url().lastIndexOf('/') + 1)}`); });
    p.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
    await p.goto(pages.url);
    const got = await p.evaluate((src) => new Promise<any>((resolve) => {
      const d = (window as any).dashjs;
      const video = document.getElementById('v') as HTMLVideoElement;
      const player = d.MediaPlayer().create();
      player.updateSettings({ debug: { logLevel: d.Debug.LOG_LEVEL_WARNING }, streaming: { text: { defaultEnabled: true } } });
      // dash.js renders TTML into a div of the page's (WebVTT goes to the browser's own renderer)
      const div = document.createElement('div');
      document.body.appendChild(div);
      const timer = setTimeout(() => resolve({ error: 'no cues shown in 45 s', tracks: player.getTracksFor('text').length, native: [...video.textTracks].map((x) => `${x.language} ${x.mode} ${x.cues?.length}`), time: video.currentTime }), 45_000);
      player.on(d.MediaPlayer.events.ERROR, (e: any) => { clearTimeout(timer); resolve({ error: JSON.stringify(e.error ?? e).slice(0, 300) }); });
      player.on(d.MediaPlayer.events.STREAM_INITIALIZED, () => {
        const tracks = player.getTracksFor('text');
        const en = tracks.findIndex((x: any) => x.lang === 'en');
        player.setTextTrack(en);
        const poll = setInterval(() => {
          const tt = [...video.textTracks].find((x) => x.language === 'en' && x.cues && x.cues.length > 0);
          if (!tt) return;
          clearInterval(poll);
          const cues = [...tt.cues!].map((c: any) => ({ start: c.startTime, end: c.endTime }));
          // what the page shows while it plays (at 2x): the rendering div's text, each change once
          const shown: string[] = [];
          video.playbackRate = 2;
          const watch = setInterval(() => {
            const now = (div.textContent ?? '').trim();
            if (now && shown[shown.length - 1] !== now) shown.push(now);
            if (video.ended || video.currentTime >= 11.6) {
              clearInterval(watch);
              clearTimeout(timer);
              resolve({ codecs: tracks.map((x: any) => `${x.mimeType} ${x.codec ?? ''}`.trim()), cues, shown });
            }
          }, 40);
        }, 100);
      });
      player.initialize(video, src, true);
      player.attachTTMLRenderingDiv(div);
    }), s.url + stppPath);
    t.notOk(got.error, `dash.js: ${got.error ?? 'no error'}`, { got, requests, console: consoleLines.slice(-20) });
    t.ok(got.codecs?.every((c: string) => /application\/mp4/.test(c)), `dash.js sees fMP4 text tracks: ${JSON.stringify(got.codecs)}`);
    const want = vttCues(await (await fetch(`${s.url}${base(plain)}subtitles-1.vtt`)).text());
    t.same(got.cues?.map((c: Shown) => [c.start, c.end]), want.map((c) => [c.start, c.end]), 'the cues\' times on the video\'s text track');
    t.same(got.shown, want.map((c) => c.text), 'the page shows their text in turn');
  });
});

t.test('KDELIVER_DASH_SUBTITLES=stpp makes stpp the default; /subtitleFormat/webvtt/ still asks for WebVTT', async (t) => {
  const s = await startServer(t, { env: { KDELIVER_DASH_SUBTITLES: 'stpp' } });
  const plain = dashManifest({ entryId: ALT.entryId, flavorIds: FLAVORS });
  t.match(await (await fetch(s.url + plain)).text(), /mimeType="application\/mp4" codecs="stpp"/);
  t.match(await (await fetch(s.url + withPairs(plain, '/subtitleFormat/webvtt'))).text(), /mimeType="text\/vtt"/);
});
