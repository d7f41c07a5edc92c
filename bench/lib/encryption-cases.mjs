// The cases bench/encryption.mjs compares, shared with its HTTP server (lib/writer-server.mjs):
// each describes segment i of a timeline clear and encrypted.
const key = Buffer.from('2e12bc8bbc726374d07ee3626f50108f', 'hex');
const keyId = Buffer.from('b0eb8a17323924b6d8d36875aacb0b48', 'hex');
const iv = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const systems = [{ name: 'clearkey' }];
export const ENCRYPTIONS = {
  'aes-128': { scheme: 'aes-128', key, keyUri: 'https://example.com/key' },
  'sample-aes': { scheme: 'sample-aes', key, iv, keyUri: 'https://example.com/key' },
  cenc: { scheme: 'cenc', key, keyId, systems },
  cbcs: { scheme: 'cbcs', key, keyId, systems },
};

/** Map of case name → { name, tl, clear(i), encrypted(i), aim }. */
export function benchCases({ index, buildTimeline, flatPolicy, hlsPolicy, tsSegment, describeMediaSegment, fh }) {
  const hls = buildTimeline(index, hlsPolicy(10000));
  const dashVideo = buildTimeline(index, flatPolicy(4000), undefined, { video: true, audio: false });
  const ts = (tl, e) => (i) => tsSegment(tl, i, e ? { encryption: e, sequence: i + 1 } : undefined);
  const fmp4 = (tl, e, dash) => (i) => describeMediaSegment(tl, tl.segments[i], { sequence: i + 1, dash, encryption: e }, fh);
  const list = [
    { name: 'hls-ts-aes128', label: 'HLS TS 10 s, AES-128', tl: hls, clear: ts(hls), encrypted: ts(hls, ENCRYPTIONS['aes-128']), aim: 0.7 },
    { name: 'hls-ts-sampleaes', label: 'HLS TS 10 s, SAMPLE-AES', tl: hls, clear: ts(hls), encrypted: ts(hls, ENCRYPTIONS['sample-aes']) },
    { name: 'hls-fmp4-aes128', label: 'HLS fMP4 10 s, AES-128', tl: hls, clear: fmp4(hls, undefined, false), encrypted: fmp4(hls, ENCRYPTIONS['aes-128'], false), aim: 0.7 },
    { name: 'hls-fmp4-cenc', label: 'HLS fMP4 10 s, cenc', tl: hls, clear: fmp4(hls, undefined, false), encrypted: fmp4(hls, ENCRYPTIONS.cenc, false), aim: 0.7 },
    { name: 'dash-cenc', label: 'DASH video 4 s, cenc', tl: dashVideo, clear: fmp4(dashVideo, undefined, true), encrypted: fmp4(dashVideo, ENCRYPTIONS.cenc, true), aim: 0.7 },
    { name: 'dash-cbcs', label: 'DASH video 4 s, cbcs', tl: dashVideo, clear: fmp4(dashVideo, undefined, true), encrypted: fmp4(dashVideo, ENCRYPTIONS.cbcs, true), aim: 0.7 },
  ];
  return new Map(list.map((c) => [c.name, c]));
}
