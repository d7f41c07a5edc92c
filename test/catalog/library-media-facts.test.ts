// A library file whose flavors name only their file and flavor params, as a person writes a first
// one: `kdeliver import` takes the rest from the file itself (src/media/facts.ts) and the tags from
// the flavor params, so the entry plays with true HLS BANDWIDTH, RESOLUTION, FRAME-RATE and CODECS.
// It answered error 6 (no flavor with the format's tags) for every format before, and its masters
// would have said BANDWIDTH=0. Checked against the sample library (the same files, described in
// full: a contract) and against ffprobe, a reader that is not ours.
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import m3u8Parser from 'm3u8-parser';
import { binTarget, cleanEnv, run } from '../helpers/command.js';
import { ffprobeJson } from '../helpers/media-tools.js';
import { projectRoot } from '../helpers/repo.js';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { readLibraryFile } from '../../src/catalog/library.js';
import type { FlavorAsset } from '../../src/catalog/types.js';

requireCommands(t, ['ffprobe'], 'ffmpeg');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-library-facts-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
mkdirSync(join(work, 'media'));
for (const f of ['h264-360p.mp4', 'h264-720p.mp4', 'audio-128k.mp4']) copyFileSync(join(projectRoot, 'fixtures/media', f), join(work, 'media', f));
const sample = readLibraryFile(join(projectRoot, 'fixtures/sample-library.json')).library;
const described = (file: string) => sample.entries!.flatMap((e) => e.flavors ?? []).find((f) => f.file === file)!;

const library = {
  version: 1,
  partners: [{ id: 7001, name: 'Mine', adminSecret: 'mine-admin-secret', userSecret: 'mine-user-secret' }],
  entries: [
    {
      id: '0_mine0001', partnerId: 7001, name: 'My movie',
      flavors: [
        { id: '0_minef001', flavorParamsId: 301951, file: 'h264-360p.mp4' },
        { id: '0_minef002', flavorParamsId: 301971, file: 'h264-720p.mp4' },
      ],
    },
    {
      // what the file gives wins; null is a field left out
      id: '0_mine0002', partnerId: 7001, name: 'Described',
      flavors: [{ id: '0_minef003', flavorParamsId: 301951, file: 'h264-360p.mp4', bitrate: 999, tags: 'web,mbr,applembr', width: null }],
    },
  ],
};

const data = join(work, 'data');
const file = join(work, 'lib.json');
writeFileSync(file, JSON.stringify(library));
const imported = await run(process.execPath, [binTarget(), 'import', file], { env: { ...cleanEnv, KDELIVER_DATA_DIR: data, KDELIVER_SAMPLE_LIBRARY: 'false' } });

t.test('kdeliver import takes what a flavor leaves out from its file and its flavor params', async (t) => {
  t.equal(imported.code, 0, imported.stderr);
  const server = await startServer(t, { env: { KDELIVER_DATA_DIR: data, KDELIVER_SAMPLE_LIBRARY: 'false' } });
  const flavors = await server.app.env.catalog.listFlavors('0_mine0001');
  const fields = (f: Pick<FlavorAsset, 'codecs' | 'width' | 'height' | 'bitrate' | 'frameRate' | 'durationMs' | 'videoCodec' | 'audioCodec'> & { tags: string | string[] }) => ({
    codecs: f.codecs, width: f.width, height: f.height, bitrate: f.bitrate, frameRate: f.frameRate, durationMs: f.durationMs,
    videoCodec: f.videoCodec, audioCodec: f.audioCodec, tags: Array.isArray(f.tags) ? f.tags.join(',') : f.tags,
  });
  for (const [id, name] of [['0_minef001', 'h264-360p.mp4'], ['0_minef002', 'h264-720p.mp4']]) {
    const got = flavors.find((f) => f.id === id)!;
    const d = described(name);
    t.same(fields(got), fields({ ...d, tags: d.tags! } as never), `${name}: what the sample library says of the same file`);
    const probe = await ffprobeJson(join(work, 'media', name));
    const v = probe.json.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
    const [num, den] = String(v.avg_frame_rate).split('/').map(Number);
    t.same([got.width, got.height, got.frameRate], [v.width, v.height, Math.round((num / den) * 1000) / 1000], `${name}: as ffprobe reads it`);
    t.equal(got.bitrate, Math.round(Number(probe.json.format.bit_rate) / 1000), `${name}: ffprobe's overall bitrate`);
  }
  t.equal((await server.app.env.catalog.getEntry('0_mine0001'))!.duration, 12, 'the entry lasts as long as its media');

  const kept = (await server.app.env.catalog.listFlavors('0_mine0002'))[0];
  t.match(kept, { bitrate: 999, tags: ['web', 'mbr', 'applembr'], width: 640, codecs: 'avc1.64001e,mp4a.40.2' }, 'the file\'s own values are kept; the rest is read');

  const base = `${server.url}/p/7001/sp/700100/playManifest/entryId/0_mine0001`;
  const hls = await fetch(`${base}/format/applehttp/protocol/http/a.m3u8`);
  const text = await hls.text();
  t.equal(hls.status, 200, text);
  const parser = new m3u8Parser.Parser();
  parser.push(text);
  parser.end();
  t.same((parser.manifest.playlists ?? []).map((p: { attributes: Record<string, unknown> }) => [p.attributes.BANDWIDTH, p.attributes.RESOLUTION, p.attributes['FRAME-RATE'], p.attributes.CODECS]), [
    [677944, { width: 640, height: 360 }, 25, 'avc1.64001e,mp4a.40.2'],
    [1415558, { width: 1280, height: 720 }, 25, 'avc1.64001f,mp4a.40.2'],
  ], 'the HLS master says what the sample library\'s does for the same media');
  const dash = await fetch(`${base}/format/mpegdash/protocol/http/a.mpd`, { redirect: 'manual' });
  t.equal(dash.status, 302, 'DASH plays');
  const mpd = await fetch(dash.headers.get('location')!);
  t.equal(mpd.status, 200);
  t.match(await mpd.text(), /codecs="avc1\.64001f"/);
  const progressive = await fetch(`${base}/format/url/protocol/http/a.mp4`, { redirect: 'manual' });
  t.equal(progressive.status, 302, 'progressive plays');
});
