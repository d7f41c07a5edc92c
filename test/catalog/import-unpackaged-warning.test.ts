// `kdeliver import` of a flavor whose MP4 the packager will not package (a recording cut short, a
// file named .mp4 that is none) went through without a word: the entry was READY, and only its
// HLS and DASH URLs said, later, that the file cannot be packaged. The import now says so on
// stderr, one line per such flavor, and still imports it (the file is served as a file). A file
// that is neither MP4 by its boxes nor by its name (WebM for progressive download) is not warned
// of, nor is a fragmented MP4 (ffmpeg's -movflags frag_keyframe, OBS's fragmented recordings),
// which is packaged since its moofs are read (test/http/fragmented-input.test.ts).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binTarget, cleanEnv, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/media-tools.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-warning-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const media = join(work, 'media');
mkdirSync(media);
const ffmpeg = (...args: string[]): void => {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25:duration=2', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};
ffmpeg('-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', 'frag_keyframe+empty_moov', join(media, 'fragmented.mp4'));
ffmpeg('-c:v', 'libvpx-vp9', '-deadline', 'realtime', join(media, 'clip.webm'));
// a recording cut short: the moov at the end is gone
copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), join(media, 'cut.mp4'));
truncateSync(join(media, 'cut.mp4'), 20000);
copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), join(media, 'good.mp4'));
// named MP4 but no MP4 at all, and shorter than a box header
writeFileSync(join(media, 'notes.mp4'), 'notes\n');

const entry = (n: number, file: string) => ({ id: `0_warn000${n}`, partnerId: 7001, name: file, flavors: [{ id: `0_warnf00${n}`, flavorParamsId: 301951, file }] });
const file = join(work, 'lib.json');
writeFileSync(file, JSON.stringify({
  version: 1,
  partners: [{ id: 7001, name: 'Mine', adminSecret: 'mine-admin-secret', userSecret: 'mine-user-secret' }],
  entries: [entry(1, 'good.mp4'), entry(2, 'fragmented.mp4'), entry(3, 'clip.webm'), entry(4, 'cut.mp4'), entry(5, 'notes.mp4')],
}));

t.test('import names the flavors that will not be packaged, and imports them', async (t) => {
  const r = await run(process.execPath, [binTarget(), 'import', file], { env: { ...cleanEnv, KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /imported .*lib\.json: 5 entries/);
  const warned = r.stderr.split('\n').filter((l) => /not packaged/.test(l));
  t.equal(warned.length, 2, warned.join('\n'));
  t.match(warned[0], /^import lib\.json: entries\[3\] \(0_warn0004\) flavor 0_warnf004 \(cut\.mp4\): not packaged for HLS, DASH or Smooth Streaming, only served as a file: /);
  // it said "empty file" of a 6-byte file
  t.match(warned[1], /^import lib\.json: entries\[4\] \(0_warn0005\) flavor 0_warnf005 \(notes\.mp4\): not packaged.*: not an MP4 file \(6 bytes, too short for a box\)$/);
  t.notMatch(r.stderr, /good\.mp4|clip\.webm|fragmented\.mp4/, 'a good MP4, a WebM and a fragmented MP4 are not warned of');
});
