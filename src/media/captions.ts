// Captions for the packager: SRT and TTML/DFXP converted to WebVTT, cues shifted and cut for
// clips, and the X-TIMESTAMP-MAP header HLS needs to place cues against the media's timestamps.
import { parseTtml } from './ttml.js';

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
  /** MPEG-TS timestamp of output time 0, for HLS's X-TIMESTAMP-MAP (omit for DASH). */
  mpegTs90k?: number;
  /** CSS for a STYLE block before the cues (the classes TTML colours became). */
  styles?: string;
}

/** Writes cues as WebVTT, shifted and cut to a clip. */
export function toWebVtt(cues: Cue[], opts: VttOptions = {}): string {
  const origin = opts.originMs ?? 0;
  const limit = opts.durationMs ?? Infinity;
  const out: string[] = ['WEBVTT'];
  if (opts.mpegTs90k !== undefined) out.push(`X-TIMESTAMP-MAP=MPEGTS:${opts.mpegTs90k},LOCAL:00:00:00.000`);
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

/** SRT → WebVTT with no shift (for serving a caption asset as .vtt). */
export const srtToWebVtt = (srt: string): string => toWebVtt(parseCues(srt));

export type CaptionFormat = 'srt' | 'vtt' | 'dfxp';

/** A caption file of any stored format as WebVTT, shifted and cut as `opts` says. */
export function captionToWebVtt(format: CaptionFormat, text: string, opts: VttOptions = {}): string {
  if (format === 'dfxp') {
    const doc = parseTtml(text);
    return toWebVtt(doc.cues, { ...opts, styles: doc.styles });
  }
  return toWebVtt(parseCues(text), opts);
}
