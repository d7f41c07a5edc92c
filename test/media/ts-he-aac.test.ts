// HE-AAC in MPEG-TS: an AudioSpecificConfig that signals SBR explicitly (object type 5, as Apple's
// encoders write it; 29 for HE-AAC v2) gets ADTS headers that say AAC-LC at the core's sampling
// rate, the only way ADTS carries HE-AAC (ISO/IEC 14496-3: its two-bit profile names Main, LC,
// SSR or LTP). The writer took object type - 1, so every frame's header said 3, AAC-LTP (ffprobe:
// profile=LTP), a profile AVPlayer and most hardware decoders do not decode, while the master's
// CODECS said mp4a.40.5. The test file is the sample AAC-LC track with its config rewritten in
// place to explicit SBR signalling over a 24 kHz core.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { readBody } from '../../src/media/body.js';
import { requireCommands } from '../helpers/system.js';
import { sample } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-he-aac-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('explicitly signalled HE-AAC: ADTS says AAC-LC at the core rate', async (t) => {
  requireCommands(t, ['ffprobe'], 'ffprobe');
  const bytes = readFileSync(sample('audio-128k.mp4'));
  // ffmpeg's 5-byte config: AAC-LC 48 kHz stereo and a sync extension (11 90 56 e5 00)
  const lc = Buffer.from('119056e500', 'hex');
  const at = bytes.indexOf(lc);
  t.ok(at > 0 && bytes.indexOf(lc, at + 1) < 0, 'the premise: one AudioSpecificConfig');
  // object type 5 (SBR), core index 6 (24 kHz), 2 channels, extension index 3 (48 kHz), then the
  // core's object type 2 (LC) and a plain GASpecificConfig: 25 bits, zero-padded to the same 5 bytes
  Buffer.from('2b11880000', 'hex').copy(bytes, at);
  const he = join(dir, 'he-aac.mp4');
  writeFileSync(he, bytes);
  const probe = (path: string): string => spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=profile', '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout.trim().split('\n')[0];

  const idx = await readMediaIndex(he, { maxMoovBytes: 64 << 20 });
  const track = idx.tracks.find((x) => x.kind === 'audio')!;
  t.equal(track.codecString, 'mp4a.40.5', 'CODECS says HE-AAC');
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const ts = await readBody(he, tsSegment(tl, 0));
  const adts = ts.indexOf(Buffer.from([0xff, 0xf1]));
  t.ok(adts > 0, 'an ADTS header');
  t.equal(ts[adts + 2] >> 6, 1, 'profile: AAC-LC (1), not LTP (3)');
  t.equal((ts[adts + 2] >> 2) & 15, 6, 'sampling index: the 24 kHz core');
  t.equal(((ts[adts + 2] & 1) << 2) | (ts[adts + 3] >> 6), 2, 'two channels');
  const out = join(dir, 'seg-1.ts');
  writeFileSync(out, ts);
  t.not(probe(out), 'LTP', `ffprobe reads the segment's audio as ${probe(out)}`);
});
