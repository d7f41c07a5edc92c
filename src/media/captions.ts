// Captions for the packager: SRT and TTML/DFXP converted to WebVTT, cues shifted and cut for
// clips, and the X-TIMESTAMP-MAP header HLS needs to place cues against the media's timestamps.
// For DASH players that read TTML in fMP4 (stpp), any stored format is also written as one TTML
// document (fmp4/ttml-track.ts wraps it).
import { parseTtml, TtmlError } from './ttml.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Windows-1252's characters at 0x80-0x9F, where Latin-1 has C1 controls (0x81, 0x8D, 0x8F, 0x90
// and 0x9D are unassigned and kept as those controls). Node 20's TextDecoder('windows-1252')
// decodes these bytes as Latin-1, so they are mapped here.
const WINDOWS_1252_HIGH = '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F'
  + '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';
const windows1252 = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1')
  .replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]);

/**
 * The text of a caption file's bytes. UTF-16 is known by its byte-order mark; UTF-8 (a mark or not)
 * by decoding without error; anything else is read as Windows-1252, the encoding of captions saved
 * by Windows tools (and a superset of Latin-1's printable characters), whose accented letters are
 * almost never valid UTF-8 by chance. A UTF-8 or UTF-16 byte-order mark is not part of the text.
 */
export function captionText(data: Uint8Array): string {
  if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data);
  if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data);
  try {
    return utf8.decode(data);
  } catch {
    return windows1252(data);
  }
}

export interface Cue {
  startMs: number;
  endMs: number;
  /** Cue settings after the times (WebVTT only), e.g. "align:start". */
  settings: string;
  text: string;
}

const TIME = /(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})/;

function parseTime(s: string): number | null {
  const m = TIME.exec(s);
  if (!m) return null;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4].padEnd(3, '0'));
}

/** Reads SRT or WebVTT text into cues (blocks without a valid time line are skipped). */
export function parseCues(text: string): Cue[] {
  const cues: Cue[] = [];
  const blocks = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split('\n');
    const ti = lines.findIndex((l) => l.includes('-->'));
    if (ti < 0) continue;
    const [a, rest = ''] = lines[ti].split('-->');
    const restTrim = rest.trim();
    const endTok = restTrim.split(/\s+/)[0] ?? '';
    const start = parseTime(a.trim());
    const end = parseTime(endTok);
    if (start === null || end === null || end <= start) continue;
    const settings = restTrim.slice(endTok.length).trim();
    const body = lines.slice(ti + 1).join('\n').trim();
    if (body) cues.push({ startMs: start, endMs: end, settings, text: body });
  }
  return cues;
}

/** A WebVTT timestamp (hh:mm:ss.mmm) of a time in milliseconds. */
export const vttTimestamp = (ms: number): string => {
  const v = Math.max(0, Math.round(ms));
  const h = Math.floor(v / 3600000);
  const m = Math.floor((v % 3600000) / 60000);
  const s = Math.floor((v % 60000) / 1000);
  const f = v % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(f).padStart(3, '0')}`;
};

export interface VttOptions {
  /** Source time that becomes 0 in the output (a clip's start). */
  originMs?: number;
  /** Output duration: cues after it are dropped, cues across it are cut. */
  durationMs?: number;
  /** MPEG-TS timestamp of output time `mpegTsLocalMs` (default 0), for HLS's X-TIMESTAMP-MAP (omit for DASH). */
  mpegTs90k?: number;
  mpegTsLocalMs?: number;
  /** CSS for a STYLE block before the cues (the classes TTML colours became). */
  styles?: string;
}

/** Writes cues as WebVTT, shifted and cut to a clip. */
export function toWebVtt(cues: Cue[], opts: VttOptions = {}): string {
  const origin = opts.originMs ?? 0;
  const limit = opts.durationMs ?? Infinity;
  const out: string[] = ['WEBVTT'];
  if (opts.mpegTs90k !== undefined) out.push(`X-TIMESTAMP-MAP=MPEGTS:${opts.mpegTs90k},LOCAL:${vttTimestamp(opts.mpegTsLocalMs ?? 0)}`);
  out.push('');
  // a STYLE block must come before the first cue, and its CSS may hold no blank line or "-->"
  if (opts.styles) out.push('STYLE', opts.styles.replace(/-->/g, '').replace(/\n\s*\n/g, '\n'), '');
  for (const c of cues) {
    const s = c.startMs - origin;
    const e = Math.min(c.endMs - origin, limit);
    if (e <= 0 || s >= limit || e <= s) continue;
    out.push(`${vttTimestamp(Math.max(0, s))} --> ${vttTimestamp(e)}${c.settings ? ' ' + c.settings : ''}`, c.text, '');
  }
  return out.join('\n');
}

// the tags SRT files carry that WebVTT has too; <font ...> (colour, face) has no WebVTT form and
// goes, keeping its text
const SRT_KEPT_TAG = /^<\/?[biu]>$/i;
const SRT_DROPPED_TAG = /^<\/?font(\s[^<>]*)?>$/i;

/**
 * An SRT cue's text as WebVTT cue text. SRT text is plain but for a few tags, where WebVTT reads
 * "&" and "<" as markup and a line holding "-->" as the next cue's times: a player showed
 * "if a < b" as "if a " and "ligne --> flèche" as nothing. So: <b>, <i>, <u> stay (lowercase),
 * <font> goes, every other "<", ">" and "&" is escaped (an entity WebVTT knows is kept as written).
 */
function srtCueText(text: string): string {
  return text.split(/(<[^<>]*>)/).map((part) => {
    if (SRT_KEPT_TAG.test(part)) return part.toLowerCase();
    if (SRT_DROPPED_TAG.test(part)) return '';
    return part.replace(/&(?!(?:amp|lt|gt|nbsp|lrm|rlm);)/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }).join('');
}

export type CaptionFormat = 'srt' | 'vtt' | 'dfxp';

/** What a caption file's text is, by its first characters: WebVTT by its header, TTML by its XML, SRT otherwise. */
export function captionFormatOf(text: string): CaptionFormat {
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (/^WEBVTT(?:[ \t\r\n]|$)/.test(head)) return 'vtt';
  if (head.startsWith('<')) return 'dfxp';
  return 'srt';
}

/** Caption bytes that are not SRT, WebVTT or TTML/DFXP the packager can serve; the message says why ("not text ..."). */
export class CaptionContentError extends Error {}

/**
 * Checks that caption bytes are SRT, WebVTT or TTML/DFXP that the packager can serve; returns the
 * text and the format it is, whatever it was declared as (captionAsset.setContent and the library
 * import both read captions here). TTML is read by src/media/ttml.ts, which names the line of a
 * malformed file.
 */
export function readCaptions(data: Uint8Array): { text: string; format: CaptionFormat } {
  const text = captionText(data);
  if (text.includes('\u0000')) throw new CaptionContentError('not text (SRT, WebVTT or TTML/DFXP is expected)');
  const format = captionFormatOf(text);
  if (format === 'dfxp') {
    try {
      parseTtml(text);
    } catch (e) {
      if (e instanceof TtmlError) throw new CaptionContentError(`not usable TTML: ${e.message}`);
      throw e;
    }
  } else if (parseCues(text).length === 0) {
    throw new CaptionContentError(format === 'vtt' ? 'a WebVTT file without a single cue' : 'neither SRT (numbered cues with "00:00:01,000 --> 00:00:02,000" times), WebVTT (a WEBVTT header) nor TTML/DFXP (XML)');
  }
  return { text, format };
}

/** A caption file of any format as WebVTT, shifted and cut as `opts` says. */
export function captionToWebVtt(text: string, opts: VttOptions = {}): string {
  const { cues, styles } = cuesOf(text);
  return toWebVtt(cues, styles ? { ...opts, styles } : opts);
}

/**
 * api_v3's segmented WebVTT (captionAsset.serveWebVTT with a segmentIndex, as the playlist of
 * webVttPlaylist names them): the cues shown during segment `index` (from 1) of `segmentSec`
 * seconds, at their own times, not shifted (Kaltura's leaves out a cue that spans the whole
 * segment, which a player would then not show); with Kaltura's timestamp map (MPEG-TS 10 s at
 * `localTimestampMs`) when a local timestamp other than its default 10000 is asked.
 */
export function captionSegmentToWebVtt(text: string, seg: { index: number; segmentSec: number; localTimestampMs: number }): string {
  const { cues, styles } = cuesOf(text);
  const from = (seg.index - 1) * seg.segmentSec * 1000;
  const to = seg.index * seg.segmentSec * 1000;
  const map = seg.localTimestampMs !== 10000 ? { mpegTs90k: 900000, mpegTsLocalMs: seg.localTimestampMs } : {};
  return toWebVtt(cues.filter((c) => c.startMs < to && c.endMs >= from), { ...map, ...(styles ? { styles } : {}) });
}

/**
 * The HLS subtitle playlist api_v3's serveWebVTT answers without a segmentIndex (Kaltura's form,
 * CRLF lines): segments of `segmentSec` over the entry's whole seconds, each named
 * `segmentIndex/{n}.vtt` relative to the playlist's own URL.
 */
export function webVttPlaylist(segmentSec: number, entrySec: number): string {
  const count = Math.ceil(entrySec / segmentSec);
  const lines = ['#EXTM3U', `#EXT-X-TARGETDURATION:${segmentSec}`, '#EXT-X-VERSION:3', '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (let i = 1; i <= count; i++) lines.push(`#EXTINF:${i === count ? entrySec - (count - 1) * segmentSec : segmentSec}.0,`, `segmentIndex/${i}.vtt`);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\r\n');
}

/**
 * A caption file as cues (and the CSS its TTML colours became), read as what its text is, never as
 * what a record says: an import before imports read their captions recorded an SRT file declared
 * "vtt" as vtt, and SRT's text needs its own escaping.
 */
function cuesOf(text: string): { cues: Cue[]; styles: string } {
  const format = captionFormatOf(text);
  if (format === 'dfxp') return parseTtml(text);
  const cues = parseCues(text);
  return { cues: format === 'srt' ? cues.map((c) => ({ ...c, text: srtCueText(c.text) })) : cues, styles: '' };
}

export interface TtmlOptions {
  originMs?: number;
  durationMs?: number;
  /** xml:lang of the document (the caption's language code), or "" when unknown. */
  language?: string;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const VTT_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f' };
// the WebVTT tags a cue's text may hold, as TTML styling; other tags (classes, voices) keep their text only
const TTML_STYLE: Record<string, string> = { i: 'tts:fontStyle="italic"', b: 'tts:fontWeight="bold"', u: 'tts:textDecoration="underline"' };

/** A cue's WebVTT text (tags, entities, line breaks) as TTML paragraph content. */
function cueTextToTtml(text: string): string {
  let out = '';
  const open: string[] = [];
  for (const part of text.split(/(<[^>]*>)/)) {
    if (part.startsWith('<') && part.endsWith('>')) {
      // a tag (WebVTT escapes a literal "<"), timestamps included: styles become spans, the rest goes
      const tag = /^<(\/?)([a-z]+)/i.exec(part);
      const name = tag ? tag[2].toLowerCase() : '';
      if (tag && TTML_STYLE[name] && !tag[1]) { out += `<span ${TTML_STYLE[name]}>`; open.push(name); }
      else if (tag && TTML_STYLE[name] && open.includes(name)) { while (open.length) { const n = open.pop(); out += '</span>'; if (n === name) break; } }
      continue;
    }
    const plain = part.replace(/&(amp|lt|gt|nbsp|lrm|rlm);/g, (_m, e: string) => VTT_ENTITIES[e]);
    out += xmlEscape(plain).replace(/\n/g, '<br/>');
  }
  return out + '</span>'.repeat(open.length);
}

/**
 * Cues as one TTML document (W3C TTML1, media time base), shifted and cut to a clip, lines at the
 * bottom centre of the picture: what DASH players render from an stpp track.
 */
export function toTtml(cues: Cue[], opts: TtmlOptions = {}): string {
  const origin = opts.originMs ?? 0;
  const limit = opts.durationMs ?? Infinity;
  const lang = opts.language && /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(opts.language) ? opts.language : '';
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<tt xmlns="http://www.w3.org/ns/ttml" xmlns:tts="http://www.w3.org/ns/ttml#styling" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:timeBase="media" xml:lang="${lang}">`,
    '<head><layout><region xml:id="bottom" tts:origin="10% 10%" tts:extent="80% 80%" tts:displayAlign="after" tts:textAlign="center"/></layout></head>',
    '<body region="bottom"><div>',
  ];
  for (const c of cues) {
    const s = c.startMs - origin;
    const e = Math.min(c.endMs - origin, limit);
    if (e <= 0 || s >= limit || e <= s) continue;
    out.push(`<p begin="${vttTimestamp(Math.max(0, s))}" end="${vttTimestamp(e)}">${cueTextToTtml(c.text)}</p>`);
  }
  out.push('</div></body>', '</tt>', '');
  return out.join('\n');
}

/** A caption file of any stored format as one TTML document, shifted and cut as `opts` says. */
export const captionToTtml = (text: string, opts: TtmlOptions = {}): string => toTtml(cuesOf(text).cues, opts);
