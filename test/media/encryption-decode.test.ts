// Encrypted output, decided by ffmpeg: it decrypts what the writers make (HLS AES-128 of MPEG-TS
// and fMP4, SAMPLE-AES of MPEG-TS, cenc and cbcs fMP4) and every decoded frame must equal the
// one it decodes from the clear output; with a wrong key or none it must not.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Encryption } from '../../src/media/crypto/encryption.js';
import { requireCommands } from '../helpers/system.js';
import { decode, HLS_LOCAL, KEY, KEY_ID, packageFragments, packageHls, type Decoded } from './encrypted-media.js';
import { sample } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'kdeliver-crypto-'));
const SRC = sample('h264-240p.mp4');
const IV = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
let n = 0;
const dir = (): string => join(root, String(++n));

const frames = (d: Decoded): number => [...d.streams.values()].reduce((a, s) => a + s.length, 0);

t.before(() => requireCommands(t, ['ffmpeg'], 'ffmpeg'));

t.test('HLS AES-128: ffmpeg decrypts MPEG-TS and fMP4 segments with the key file, frame for frame', async (t) => {
  for (const container of ['ts', 'fmp4'] as const) {
    const clear = await packageHls(SRC, dir(), { container });
    const want = decode(clear.playlist, HLS_LOCAL);
    t.equal(want.status, 0);
    t.ok(frames(want) > 800, `${container}: clear output decodes`);
    for (const iv of [undefined, IV]) {
      const what = `${container}, ${iv ? 'explicit IV' : 'sequence-number IVs'}`;
      const enc: Encryption = { scheme: 'aes-128', key: KEY, keyUri: 'key.bin', iv };
      const pkg = await packageHls(SRC, dir(), { container, encryption: enc });
      const text = readFileSync(pkg.playlist, 'utf8');
      t.match(text, iv ? `#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x${IV.toString('hex')}` : /#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\n/, `${what}: EXT-X-KEY`);
      if (container === 'fmp4') t.ok(text.indexOf('#EXT-X-KEY') > text.indexOf('#EXT-X-MAP'), 'the key follows the map: init segments stay clear');
      const first = readFileSync(join(pkg.dir, pkg.segments[0]));
      t.equal(first.length % 16, 0, `${what}: whole AES blocks`);
      t.not(first[0], container === 'ts' ? 0x47 : 0, 'no clear TS sync byte / box header at the start');
      const got = decode(pkg.playlist, HLS_LOCAL);
      t.equal(got.status, 0, `${what}: ffmpeg decodes`);
      t.equal(got.stderr.trim(), '', `${what}: without an error`);
      t.same(got.streams, want.streams, `${what}: every decoded frame equals the clear one`);
      // the wrong key: ffmpeg finds no stream, or decodes garbage
      const wrong = await packageHls(SRC, dir(), { container, encryption: enc, keyFile: Buffer.alloc(16, 0x55) });
      const bad = decode(wrong.playlist, HLS_LOCAL);
      t.ok(bad.status !== 0 || frames(bad) === 0, `${what}: nothing decodes with the wrong key (status ${bad.status}, ${frames(bad)} frames)`);
    }
  }
});

/**
 * ffmpeg's HLS demuxer decrypts a SAMPLE-AES packet with the IV of the segment it is reading when
 * the packet leaves its H.264 parser, and the parser holds each segment's last access unit until
 * the next segment starts (and never decrypts the stream's very last one). So the segment under
 * test is followed by a copy of itself with an explicit IV equal to the one under test: the held
 * unit is then decrypted with the right IV, and only the frames of the first copy are compared.
 */
function oneSegmentPlaylist(segment: string, sequence: number, iv: Buffer | null, duration: string): string {
  const ivOf = iv ?? (() => { const b = Buffer.alloc(16); b.writeUInt32BE(sequence, 12); return b; })();
  return ['#EXTM3U', '#EXT-X-TARGETDURATION:10', '#EXT-X-VERSION:5', `#EXT-X-MEDIA-SEQUENCE:${sequence}`, '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin"${iv ? `,IV=0x${iv.toString('hex')}` : ''}`,
    `#EXTINF:${duration},`, segment,
    `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin",IV=0x${ivOf.toString('hex')}`,
    `#EXTINF:${duration},`, segment, '#EXT-X-ENDLIST', ''].join('\n');
}

t.test('HLS SAMPLE-AES MPEG-TS: ffmpeg decrypts H.264 and AAC samples of every segment, frame for frame', async (t) => {
  for (const name of ['h264-240p.mp4', 'h264-720p.mp4']) {
    const src = sample(name);
    const clear = await packageHls(src, dir(), { container: 'ts' });
    for (const iv of [undefined, IV]) {
      const what = `${name}, ${iv ? 'explicit IV' : 'sequence-number IVs'}`;
      const enc: Encryption = { scheme: 'sample-aes', key: KEY, keyUri: 'key.bin', iv };
      const pkg = await packageHls(src, dir(), { container: 'ts', encryption: enc });
      const text = readFileSync(pkg.playlist, 'utf8');
      t.match(text, /#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin"/, `${what}: EXT-X-KEY`);
      t.match(text, /#EXT-X-VERSION:5/);
      const durations = text.split('\n').filter((l) => l.startsWith('#EXTINF:')).map((l) => l.slice(8, -1));
      for (let i = 0; i < pkg.segments.length; i++) {
        const clearOne = join(clear.dir, `one-${i + 1}.m3u8`);
        writeFileSync(clearOne, ['#EXTM3U', '#EXT-X-TARGETDURATION:10', `#EXT-X-MEDIA-SEQUENCE:${i + 1}`, `#EXTINF:${durations[i]},`, clear.segments[i], '#EXT-X-ENDLIST', ''].join('\n'));
        const want = decode(clearOne, HLS_LOCAL);
        const encOne = join(pkg.dir, `one-${i + 1}.m3u8`);
        writeFileSync(encOne, oneSegmentPlaylist(pkg.segments[i], i + 1, iv ?? null, durations[i]));
        const got = decode(encOne, HLS_LOCAL);
        t.equal(got.status, 0, `${what}, segment ${i + 1}: ffmpeg decodes`);
        const firstCopy = new Map([...got.streams].map(([s, list]) => [s, list.slice(0, want.streams.get(s)?.length ?? 0)]));
        t.same(firstCopy, want.streams, `${what}, segment ${i + 1}: every frame equals the clear one`);
      }
    }
    // the whole playlist with an explicit IV: every segment but the stream's last access unit
    const enc: Encryption = { scheme: 'sample-aes', key: KEY, keyUri: 'key.bin', iv: IV };
    const pkg = await packageHls(src, dir(), { container: 'ts', encryption: enc });
    const whole = decode(pkg.playlist, HLS_LOCAL);
    const want = decode(clear.playlist, HLS_LOCAL);
    t.same(whole.streams.get(1), want.streams.get(1), `${name}: the whole playlist's audio frames equal the clear ones`);
    const v = whole.streams.get(0)!;
    const differing = v.filter((h, k) => h !== want.streams.get(0)![k]).length;
    t.ok(differing <= 3, `${name}: video frames equal the clear ones but those of the last access unit ffmpeg never decrypts (${differing} differ)`);
    // without the key: the slices do not decode as the clear ones
    const wrong = await packageHls(src, dir(), { container: 'ts', encryption: enc, keyFile: Buffer.alloc(16, 0x55) });
    const bad = decode(wrong.playlist, HLS_LOCAL);
    const same = (bad.streams.get(0) ?? []).filter((h, k) => h === want.streams.get(0)![k]).length;
    t.ok(same < 10, `${name}: with a wrong key the video frames are not the clear ones (${same} equal)`);
  }
});

/**
 * ffmpeg 5.1 picks the encryption information of the fragment it last parsed, not of the one a
 * packet came from, so a file of several encrypted fragments confuses it once it reads ahead.
 * Each fragment is therefore decoded on its own, behind its init segment, as a player's decoder
 * would get it.
 */
t.test('cenc and cbcs fMP4: ffmpeg -decryption_key decodes every fragment like the clear one; without the key it does not', async (t) => {
  const layouts = [
    { what: 'DASH video', dash: true, use: { video: true, audio: false } },
    { what: 'DASH audio', dash: true, use: { video: false, audio: true } },
    { what: 'HLS fMP4 muxed', dash: false, use: { video: true, audio: true } },
  ];
  // the 720p file has emulation prevention bytes in many slices and larger frames
  for (const name of ['h264-240p.mp4', 'h264-720p.mp4']) {
    for (const scheme of ['cenc', 'cbcs'] as const) {
      for (const l of name === 'h264-240p.mp4' ? layouts : layouts.slice(0, 1)) {
        const what = `${name} ${scheme} ${l.what}`;
        const enc: Encryption = { scheme, key: KEY, keyId: KEY_ID, systems: [{ name: 'clearkey' }] };
        const clear = await packageFragments(sample(name), { dash: l.dash, use: l.use });
        const encrypted = await packageFragments(sample(name), { dash: l.dash, use: l.use, encryption: enc });
        let same = 0;
        let keyless = 0;
        for (let i = 0; i < clear.fragments.length; i++) {
          const c = join(root, `frag-c-${i}.mp4`);
          const e = join(root, `frag-e-${i}.mp4`);
          writeFileSync(c, clear.fragments[i].file);
          writeFileSync(e, encrypted.fragments[i].file);
          const want = decode(c);
          const got = decode(e, ['-decryption_key', KEY.toString('hex')]);
          if (got.status === 0 && got.stderr.trim() === '' && frames(want) > 0 && JSON.stringify([...got.streams]) === JSON.stringify([...want.streams])) same++;
          else t.comment(`${what} fragment ${i + 1}: ${got.stderr.slice(0, 300)}`);
          const none = decode(e);
          const eq = [...(none.streams.get(0) ?? [])].filter((h, k) => h === want.streams.get(0)?.[k]).length;
          if (eq < (want.streams.get(0)?.length ?? 0) / 2) keyless++;
        }
        t.equal(same, clear.fragments.length, `${what}: all ${clear.fragments.length} fragments decrypt to the clear frames`);
        t.equal(keyless, clear.fragments.length, `${what}: without the key no fragment decodes to the clear frames`);
      }
    }
  }
});

t.test('Smooth Streaming fragments (PIFF sample encryption, 8-byte IVs) decrypt with ffmpeg', async (t) => {
  const { readMediaIndex } = await import('../../src/media/mp4/reader.js');
  const { buildTimeline, flatPolicy } = await import('../../src/media/segment.js');
  const { describeMediaSegment, initSegment, mediaSegment } = await import('../../src/media/fmp4/writer.js');
  const { readBody } = await import('../../src/media/body.js');
  const { openFileSource } = await import('../../src/media/source.js');
  const enc: Encryption = { scheme: 'cenc', key: KEY, keyId: KEY_ID };
  for (const use of [{ video: true, audio: false }, { video: false, audio: true }]) {
    const tl = buildTimeline(await readMediaIndex(SRC, { maxMoovBytes: 64 << 20 }), flatPolicy(4000), undefined, use);
    const tracks = [tl.video?.track, tl.audio?.track].filter((x) => x !== undefined);
    // a Smooth client builds its own init, with 8-byte IVs in its tenc (as dash.js does)
    const init = initSegment(tracks, enc);
    init[init.indexOf('tenc') + 11] = 8;
    const fh = await openFileSource(SRC);
    try {
      for (let i = 0; i < tl.segments.length; i++) {
        const o = { sequence: i + 1, dash: false, timescale: 10_000_000 };
        const frag = await readBody(SRC, await describeMediaSegment(tl, tl.segments[i], { ...o, encryption: enc, piff: true }, fh.source));
        t.ok(frag.includes(Buffer.from('a2394f525a9b4f14a2446c427c648df4', 'hex')), 'PIFF sample encryption box');
        t.notOk(frag.includes(Buffer.from('senc')), 'no senc box');
        writeFileSync(join(root, 'mss-e.mp4'), Buffer.concat([init, frag]));
        writeFileSync(join(root, 'mss-c.mp4'), Buffer.concat([initSegment(tracks), await readBody(SRC, mediaSegment(tl, tl.segments[i], o))]));
        const want = decode(join(root, 'mss-c.mp4'));
        const got = decode(join(root, 'mss-e.mp4'), ['-decryption_key', KEY.toString('hex')]);
        t.equal(got.stderr.trim(), '', `${use.video ? 'video' : 'audio'} fragment ${i + 1}: no error`);
        t.same(got.streams, want.streams, `${use.video ? 'video' : 'audio'} fragment ${i + 1}: frames equal the clear ones`);
      }
    } finally {
      await fh.close();
    }
  }
});
