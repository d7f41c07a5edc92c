// HLS of a flavor MPEG-TS cannot carry goes as fMP4. playManifest chose /container/fmp4/ for HEVC
// and AV1 only: a VP9 (+ Opus) or H.264 + Opus entry got MPEG-TS playlists whose segments answered
// error 5 ("MPEG-TS carries H.264 and HEVC video, not vp09…"). The choice now follows the TS
// writer's own table (src/media/codecs.ts), for playManifest's per-flavor master, the packager's
// master (deliveryProfileId/1006) and getPlaybackContext's HLS source alike; H.264/AAC stays TS.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { importLibrary } from '../../src/catalog/library.js';
import { run } from '../helpers/media-tools.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-hls-codecs-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const VP9 = ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k'];
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
const OPUS = ['-c:a', 'libopus', '-b:a', '48k'];
const AAC = ['-c:a', 'aac'];

function make(name: string, video: string[], audio: string[] | null): string {
  const file = `${name}.mp4`;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '4', ...video, '-g', '25', ...(audio ?? ['-an']), '-movflags', '+faststart', join(dir, file)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return file;
}

const cases = [
  { id: '1_vp9opus0', name: 'VP9 + Opus', file: make('vp9-opus', VP9, OPUS), fmp4: true },
  { id: '1_vp9only0', name: 'VP9 alone', file: make('vp9-only', VP9, null), fmp4: true },
  { id: '1_h264opus', name: 'H.264 + Opus', file: make('h264-opus', H264, OPUS), fmp4: true },
  { id: '1_h264aac0', name: 'H.264 + AAC', file: make('h264-aac', H264, AAC), fmp4: false },
];

const s = await startServer(t);
await importLibrary(s.app.catalog, {
  version: 1,
  entries: cases.map((c, i) => ({ id: c.id, partnerId: 309, name: c.name, flavors: [{ id: `${c.id.slice(0, 8)}f${i}`, flavorParamsId: 301951, file: c.file }] })),
}, dir, s.config.mediaRoot);

const pm = (id: string): string => `${s.url}/p/309/sp/30900/playManifest/entryId/${id}`;
const variantsOf = (master: string): string[] => master.split('\n').filter((l) => /^https?:/.test(l));

/** ffmpeg reads the playlist to the end, fetching every segment (and the init segment) itself. */
async function decodes(t: Test, url: string): Promise<void> {
  // not spawnSync: the server answering ffmpeg runs in this process
  const r = await run('ffmpeg', ['-v', 'error', '-i', url, '-f', 'null', '-'], 60_000);
  t.equal(r.code, 0, `ffmpeg decodes ${url}`);
  t.equal(r.stderr.trim(), '', 'without an error');
}

/** A media playlist's first segment (and init segment) answered 200, and the playlist decoding. */
async function playsAs(t: Test, playlist: string, fmp4: boolean): Promise<void> {
  const r = await fetch(playlist);
  t.equal(r.status, 200, `playlist ${playlist}`);
  const text = await r.text();
  const seg = text.split('\n').find((l) => l && !l.startsWith('#'));
  t.ok(seg, 'lists segments');
  t.match(seg, fmp4 ? /\.m4s(\?|$)/ : /\.ts(\?|$)/, fmp4 ? 'fMP4 segments' : 'MPEG-TS segments');
  const segment = await fetch(new URL(seg!, playlist));
  t.equal(segment.status, 200, `segment ${seg}: ${segment.status === 200 ? '' : await segment.clone().text()}`);
  await segment.arrayBuffer();
  if (fmp4) {
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(text);
    t.ok(map, 'an init segment');
    const init = await fetch(new URL(map![1], playlist));
    t.equal(init.status, 200, 'init segment');
    await init.arrayBuffer();
  }
  await decodes(t, playlist);
}

for (const c of cases) {
  t.test(`${c.name}: HLS as ${c.fmp4 ? 'fMP4' : 'MPEG-TS'}`, async (t) => {
    const flavor = (await s.app.catalog.listFlavors(c.id))[0];
    t.comment(`${c.name}: codecs ${flavor.codecs}`);

    // playManifest's own master: one variant per flavor
    const r = await fetch(`${pm(c.id)}/format/applehttp/protocol/http/a.m3u8`);
    t.equal(r.status, 200, 'playManifest master');
    const master = await r.text();
    const variants = variantsOf(master);
    t.equal(variants.length, 1, 'one variant');
    for (const v of variants) {
      t.match(v, /\/index\.m3u8$/);
      if (c.fmp4) t.match(v, /\/hls\/container\/fmp4\/p\/309\//, `fMP4 playlist: ${v}`);
      else t.match(v, /\/hls\/p\/309\//, `MPEG-TS playlist, as before: ${v}`);
      await playsAs(t, v, c.fmp4);
    }

    // the packager's master (deliveryProfileId 1006)
    const m = await fetch(`${pm(c.id)}/format/applehttp/deliveryProfileId/1006/protocol/http/a.m3u8`, { redirect: 'manual' });
    t.equal(m.status, 302, 'deliveryProfileId 1006 redirects to the packager master');
    const location = m.headers.get('location')!;
    t.match(location, c.fmp4 ? /\/hls\/container\/fmp4\/p\/309\/.*\/master\.m3u8$/ : /\/hls\/p\/309\/.*\/master\.m3u8$/, location);
    const pmaster = await (await fetch(location)).text();
    const pvariant = pmaster.split('\n').find((l) => l && !l.startsWith('#'));
    t.ok(pvariant, 'the packager master lists a variant');
    await playsAs(t, new URL(pvariant!, location).href, c.fmp4);

    // getPlaybackContext's HLS source: the same playManifest, the same choice
    const api = async (service: string, action: string, params: Record<string, unknown>): Promise<any> =>
      (await fetch(`${s.url}/api_v3/service/${service}/action/${action}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }),
      })).json();
    const ks: string = (await api('session', 'startWidgetSession', { widgetId: '_309' })).ks;
    const pc = await api('baseEntry', 'getPlaybackContext', { ks, entryId: c.id, contextDataParams: { objectType: 'KalturaContextDataParams' } });
    const hls = (pc.sources as Array<{ format: string; url: string }>).find((x) => x.format === 'applehttp');
    t.ok(hls, 'an HLS source');
    const sourceMaster = await fetch(hls!.url);
    t.equal(sourceMaster.status, 200);
    for (const v of variantsOf(await sourceMaster.text())) {
      t.match(v, c.fmp4 ? /\/hls\/container\/fmp4\// : /\/hls\/p\/309\//, `getPlaybackContext's HLS variant: ${v}`);
    }
  });
}
