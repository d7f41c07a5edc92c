// SRT cue text served as WebVTT (serveWebVTT, the packager's HLS and DASH subtitles): SRT text is
// plain but for <b>, <i>, <u> and <font>, where WebVTT reads "&" and "<" as markup and a line
// holding "-->" as another cue's times. A tester's cues "ligne --> flèche" and "if a < b then c"
// came out empty and as "if a " in hls.js; here webvtt-parser (the W3C validator's parser, nobody
// here wrote it) reads the WebVTT and must show every SRT cue's text, with its styling tags.
import t from 'tap';
import { readFileSync } from 'node:fs';
import webvtt from 'webvtt-parser';
import { captionToTtml, captionToWebVtt } from '../../src/media/captions.js';
import { repoPath } from '../helpers/repo.js';

const ENTITIES = JSON.parse(readFileSync(repoPath('node_modules/webvtt-parser/html-entities.json'), 'utf8'));
const parseVtt = (vtt: string): { errors: unknown[]; cues: Array<{ startTime: number; text: string; tree: any }> } => new webvtt.WebVTTParser(ENTITIES).parse(vtt, 'subtitles') as any;
const plain = (node: any): string => (node.type === 'text' ? node.value : (node.children ?? []).map(plain).join(''));
const tags = (node: any): string[] => (node.type === 'text' ? [] : [...(node.name ? [node.name] : []), ...(node.children ?? []).flatMap(tags)]);

const SRT = [
  '1', '00:00:01,000 --> 00:00:02,000', 'ligne --> flèche', '',
  '2', '00:00:02,500 --> 00:00:03,500', 'if a < b then c', '',
  '3', '00:00:04,000 --> 00:00:05,000', 'Tom & Jerry &amp; friends', '',
  '4', '00:00:05,500 --> 00:00:06,500', '<i>italic</i> and <B>bold</B>', '<font color="#ffff00">yellow</font> a > b', '',
  '5', '00:00:07,000 --> 00:00:08,000', '<3 <not a tag>', '',
].join('\r\n');

const WANT = [
  { start: 1, text: 'ligne --> flèche' },
  { start: 2.5, text: 'if a < b then c' },
  { start: 4, text: 'Tom & Jerry & friends' },
  { start: 5.5, text: 'italic and bold\nyellow a > b' },
  { start: 7, text: '<3 <not a tag>' },
];

t.test('every SRT cue\'s text survives as WebVTT, styling tags kept', async (t) => {
  for (const [what, vtt] of [['serveWebVTT', captionToWebVtt(SRT)], ['HLS subtitles, clipped', captionToWebVtt(SRT, { originMs: 500, mpegTs90k: 126000 })]] as const) {
    const parsed = parseVtt(vtt);
    const shift = what === 'serveWebVTT' ? 0 : 0.5;
    const errors = parsed.errors.filter((e: any) => !(what !== 'serveWebVTT' && e.line === 2 && /blank line after the signature/.test(e.message)));
    t.same(errors, [], `${what}: no WebVTT error`, { vtt });
    t.same(parsed.cues.map((c) => ({ start: +c.startTime.toFixed(3), text: plain(c.tree) })), WANT.map((w) => ({ start: +(w.start - shift).toFixed(3), text: w.text })), `${what}: the same text`, { vtt });
    t.same(tags(parsed.cues[3].tree), ['i', 'b'], `${what}: <i> and <b> stay; <font> goes`);
  }
});

t.test('the TTML made from the same SRT (DASH stpp) says the same text', async (t) => {
  const ttml = captionToTtml(SRT);
  t.match(ttml, /ligne --&gt; flèche/);
  t.match(ttml, /if a &lt; b then c/);
  t.match(ttml, /Tom &amp; Jerry &amp; friends/);
  t.match(ttml, /<span tts:fontStyle="italic">italic<\/span>/);
  t.notMatch(ttml, /font color/);
});
