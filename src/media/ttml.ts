// TTML / DFXP captions (Kaltura's caption type 2) read into cues for WebVTT. What WebVTT can carry
// is kept: line breaks, italic, bold and underline as tags, colours as cue classes with a STYLE
// block, text alignment, and a region's place on the picture as line, position and size. The
// rest (fonts, sizes, outlines, timed spans, animation) is dropped with a warning; a file that is
// not well-formed XML, has no <tt> root or has a time that cannot be read is refused with its
// line, so a broken file is caught when it is imported, never at playback. Pure: no catalog, no
// HTTP, no file system.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Cue } from './captions.js';

export class TtmlError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

export interface TtmlDocument {
  cues: Cue[];
  /** CSS for a WebVTT STYLE block (the colour classes the cues use), or "". */
  styles: string;
  /** What was dropped, with its line. */
  warnings: string[];
}

type Attrs = Record<string, string>;
// fast-xml-parser's ordered form: one key (the tag, or "#text") plus ":@" for the attributes
type XmlNode = Record<string, unknown> & { ':@'?: Attrs };

const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

const tagOf = (n: XmlNode): string => Object.keys(n).find((k) => k !== ':@') ?? '';
const childrenOf = (n: XmlNode): XmlNode[] => {
  const v = n[tagOf(n)];
  return Array.isArray(v) ? (v as XmlNode[]) : [];
};
const attrsOf = (n: XmlNode): Attrs => n[':@'] ?? {};

/** Timing parameters of the document (ttp:frameRate, ttp:tickRate, ...). */
interface TimeBase {
  frameRate: number;
  subFrameRate: number;
  tickRate: number;
}

const CLOCK = /^(\d{2,}):(\d{2}):(\d{2})(?:(\.\d+)|:(\d{2,})(?:\.(\d+))?)?$/;
const OFFSET = /^(\d+(?:\.\d+)?)(h|m|s|ms|f|t)$/;

/** A TTML time expression in milliseconds, or null when it is not one. */
export function parseTtmlTime(v: string, tb: TimeBase): number | null {
  const s = v.trim();
  let m = CLOCK.exec(s);
  if (m) {
    const [, h, mi, se, frac, frames, sub] = m;
    if (Number(mi) > 59 || Number(se) > 60) return null;
    let ms = ((Number(h) * 60 + Number(mi)) * 60 + Number(se)) * 1000;
    if (frac) ms += Number(frac) * 1000;
    if (frames) ms += ((Number(frames) + (sub ? Number(sub) / tb.subFrameRate : 0)) * 1000) / tb.frameRate;
    return ms;
  }
  m = OFFSET.exec(s);
  if (m) {
    const n = Number(m[1]);
    switch (m[2]) {
      case 'h': return n * 3600000;
      case 'm': return n * 60000;
      case 's': return n * 1000;
      case 'ms': return n;
      case 'f': return (n * 1000) / tb.frameRate;
      case 't': return (n * 1000) / tb.tickRate;
    }
  }
  return null;
}

/** Styling that WebVTT can express, as it applies to a piece of text. */
interface Style {
  italic?: boolean;
  bold?: boolean;
  underline?: boolean;
  color?: string;
  backgroundColor?: string;
  textAlign?: string;
  displayAlign?: string;
  origin?: string;
  extent?: string;
}

function styleFromAttrs(a: Attrs): Style {
  const s: Style = {};
  if (a.fontStyle) s.italic = a.fontStyle === 'italic' || a.fontStyle === 'oblique';
  if (a.fontWeight) s.bold = a.fontWeight === 'bold';
  if (a.textDecoration) s.underline = /\bunderline\b/.test(a.textDecoration) && !/noUnderline/.test(a.textDecoration);
  for (const k of ['color', 'backgroundColor', 'textAlign', 'displayAlign', 'origin', 'extent'] as const) if (a[k]) s[k] = a[k].trim();
  return s;
}

/** A CSS colour WebVTT's ::cue accepts: #rgb, #rrggbb(aa), rgb()/rgba() or a plain name. */
function cssColor(v: string): string | null {
  const c = v.trim();
  if (/^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(c)) return c.toLowerCase();
  const rgb = /^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(\d{1,3})\s*)?\)$/i.exec(c);
  if (rgb) {
    const [r, g, b] = [rgb[1], rgb[2], rgb[3]].map(Number);
    // TTML's rgba() alpha is 0-255; CSS wants 0-1
    return rgb[4] !== undefined ? `rgba(${r},${g},${b},${(Number(rgb[4]) / 255).toFixed(3).replace(/\.?0+$/, '')})` : `rgb(${r},${g},${b})`;
  }
  if (/^[a-z]{3,20}$/i.test(c)) return c.toLowerCase();
  return null;
}

const percentPair = (v: string | undefined): [number, number] | null => {
  const m = v ? /^(-?\d+(?:\.\d+)?)%\s+(-?\d+(?:\.\d+)?)%$/.exec(v.trim()) : null;
  return m ? [Number(m[1]), Number(m[2])] : null;
};

const pct = (n: number): string => `${Math.max(0, Math.min(100, Math.round(n * 100) / 100))}%`;

/** WebVTT cue settings for a paragraph's alignment and region. */
function cueSettings(s: Style): string {
  const out: string[] = [];
  const origin = percentPair(s.origin);
  const extent = percentPair(s.extent);
  if (origin && extent) {
    out.push(s.displayAlign === 'after' ? `line:${pct(origin[1] + extent[1])},end` : s.displayAlign === 'center' ? `line:${pct(origin[1] + extent[1] / 2)},center` : `line:${pct(origin[1])}`);
    out.push(`position:${pct(origin[0])},line-left`, `size:${pct(extent[0])}`);
  }
  const align = { left: 'left', right: 'right', center: 'center', start: 'start', end: 'end' }[s.textAlign ?? ''];
  if (align) out.push(`align:${align}`);
  return out.join(' ');
}

const escapeVtt = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Parses a TTML document; throws TtmlError (with its line) when it cannot be used at all. */
export function parseTtml(text: string): TtmlDocument {
  const xml = text.replace(/^\uFEFF/, '');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new TtmlError(valid.err.line, `not well-formed XML: ${valid.err.msg}`);
  const lineStarts = [0];
  for (let i = xml.indexOf('\n'); i >= 0; i = xml.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (n: XmlNode): number => {
    const at = (n as unknown as Record<symbol, { startIndex?: number }>)[META]?.startIndex ?? 0;
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (lineStarts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const parser = new XMLParser({
    preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, trimValues: false,
    parseTagValue: false, parseAttributeValue: false, captureMetaData: true, processEntities: true, htmlEntities: true,
  });
  const nodes = parser.parse(xml) as XmlNode[];
  const root = nodes.find((n) => !tagOf(n).startsWith('?') && tagOf(n) !== '#text' && tagOf(n) !== '#comment');
  if (!root) throw new TtmlError(1, 'no root element');
  if (tagOf(root) !== 'tt') throw new TtmlError(lineOf(root), `the root element is <${tagOf(root)}>, not <tt>`);

  const warnings: string[] = [];
  const warn = (n: XmlNode, what: string): void => {
    if (warnings.length < 50) warnings.push(`line ${lineOf(n)}: ${what}`);
  };
  const ra = attrsOf(root);
  const num = (v: string | undefined, d: number): number => (v && Number(v) > 0 ? Number(v) : d);
  const multiplier = (ra.frameRateMultiplier ?? '1 1').trim().split(/\s+/).map(Number);
  const frameRate = num(ra.frameRate, 30) * (multiplier[0] > 0 && multiplier[1] > 0 ? multiplier[0] / multiplier[1] : 1);
  const tb: TimeBase = { frameRate, subFrameRate: num(ra.subFrameRate, 1), tickRate: num(ra.tickRate, ra.frameRate ? frameRate * num(ra.subFrameRate, 1) : 1) };

  // head: named styles (which may chain other styles) and regions
  const styles = new Map<string, { attrs: Attrs; refs: string[] }>();
  const regions = new Map<string, Style>();
  const head = childrenOf(root).find((n) => tagOf(n) === 'head');
  const styleRefs = (a: Attrs): string[] => (a.style ?? '').split(/\s+/).filter(Boolean);
  for (const section of head ? childrenOf(head) : []) {
    const tag = tagOf(section);
    if (tag === 'styling') {
      for (const st of childrenOf(section)) {
        if (tagOf(st) !== 'style') continue;
        const a = attrsOf(st);
        if (a.id) styles.set(a.id, { attrs: a, refs: styleRefs(a) });
      }
    } else if (tag === 'layout') {
      for (const rg of childrenOf(section)) {
        if (tagOf(rg) !== 'region') continue;
        const a = attrsOf(rg);
        if (!a.id) continue;
        let s = resolveStyles(styleRefs(a), styles);
        for (const inner of childrenOf(rg)) if (tagOf(inner) === 'style') s = { ...s, ...styleFromAttrs(attrsOf(inner)) };
        s = { ...s, ...styleFromAttrs(a) };
        if ((s.origin && !percentPair(s.origin)) || (s.extent && !percentPair(s.extent))) warn(rg, `region ${a.id}: only percentage origin and extent are carried over`);
        regions.set(a.id, s);
      }
    }
  }

  const colorClasses = new Map<string, string>();
  const classFor = (prop: 'color' | 'background-color', value: string): string | null => {
    const css = cssColor(value);
    if (!css) return null;
    const key = `${prop}:${css}`;
    let name = colorClasses.get(key);
    if (!name) colorClasses.set(key, (name = `${prop === 'color' ? 'c' : 'bg'}${colorClasses.size + 1}`));
    return name;
  };

  const cues: Cue[] = [];
  const timeAttr = (n: XmlNode, key: 'begin' | 'end' | 'dur'): number | undefined => {
    const v = attrsOf(n)[key];
    if (v === undefined) return undefined;
    const ms = parseTtmlTime(v, tb);
    if (ms === null) throw new TtmlError(lineOf(n), `${key}="${v.slice(0, 40)}" is not a TTML time expression`);
    return ms;
  };
  /** Absolute [begin, end) of an element in a parallel time container spanning [pb, pe). */
  const interval = (n: XmlNode, pb: number, pe: number): [number, number] => {
    const b = timeAttr(n, 'begin');
    const e = timeAttr(n, 'end');
    const d = timeAttr(n, 'dur');
    const begin = pb + (b ?? 0);
    let end = e !== undefined ? pb + e : d !== undefined ? begin + d : pe;
    if (d !== undefined && e !== undefined) end = Math.min(end, begin + d);
    return [begin, Math.min(end, pe)];
  };

  /** Cue text of a paragraph's content, with the tags WebVTT knows. */
  const inline = (nodes: XmlNode[], inherited: Style): string => {
    let out = '';
    for (const n of nodes) {
      const tag = tagOf(n);
      if (tag === '#text') {
        out += escapeVtt(String(n['#text']).replace(/\s+/g, ' '));
      } else if (tag === 'br') {
        out += '\n';
      } else if (tag === 'span') {
        const a = attrsOf(n);
        if (a.begin !== undefined || a.end !== undefined || a.dur !== undefined) {
          timeAttr(n, 'begin');
          timeAttr(n, 'end');
          timeAttr(n, 'dur');
          warn(n, 'timed <span>: shown for the whole paragraph');
        }
        const own = { ...resolveStyles(styleRefs(a), styles), ...styleFromAttrs(a) };
        out += wrap(inline(childrenOf(n), { ...inherited, ...own }), own, inherited);
      } else if (tag === 'metadata' || tag === 'set' || tag === '#comment') {
        if (tag === 'set') warn(n, '<set> animation dropped');
      } else {
        // not TTML content: its text is kept, the element dropped
        warn(n, `<${tag}> is not a TTML content element; its text is kept`);
        out += inline(childrenOf(n), inherited);
      }
    }
    return out;
  };
  /** Wraps text in the WebVTT tags for what `own` changes relative to `outer`. */
  const wrap = (text: string, own: Style, outer: Style): string => {
    let t = text;
    if (!t) return t;
    if (own.color && own.color !== outer.color) {
      const c = classFor('color', own.color);
      if (c) t = `<c.${c}>${t}</c>`;
    }
    if (own.backgroundColor && own.backgroundColor !== outer.backgroundColor) {
      const c = classFor('background-color', own.backgroundColor);
      if (c) t = `<c.${c}>${t}</c>`;
    }
    if (own.underline && !outer.underline) t = `<u>${t}</u>`;
    if (own.bold && !outer.bold) t = `<b>${t}</b>`;
    if (own.italic && !outer.italic) t = `<i>${t}</i>`;
    return t;
  };
  const tidy = (t: string): string => t.split('\n').map((l) => l.trim()).join('\n').replace(/^\n+|\n+$/g, '');

  const walk = (n: XmlNode, pb: number, pe: number, inheritedRegion: string | undefined, inherited: Style): void => {
    for (const c of childrenOf(n)) {
      const tag = tagOf(c);
      if (tag === '#text' || tag === '#comment' || tag === 'metadata') continue;
      const a = attrsOf(c);
      if (tag === 'div' || tag === 'p') {
        const [b, e] = interval(c, pb, pe);
        const region = a.region ?? inheritedRegion;
        if (a.region && !regions.has(a.region)) warn(c, `region "${a.region}" is not defined`);
        const own = { ...resolveStyles(styleRefs(a), styles), ...styleFromAttrs(a) };
        const style = { ...inherited, ...own };
        if (tag === 'div') {
          walk(c, b, e, region, style);
          continue;
        }
        if (!Number.isFinite(e)) {
          warn(c, '<p> without an end time: dropped');
          continue;
        }
        if (e <= b) {
          warn(c, '<p> ends before it begins: dropped');
          continue;
        }
        const rs = region ? regions.get(region) ?? {} : {};
        const placed = { ...rs, ...style };
        const body = tidy(wrap(inline(childrenOf(c), placed), { ...rs, ...style }, {}));
        if (!body) continue;
        cues.push({ startMs: b, endMs: e, settings: cueSettings(placed), text: body });
      } else {
        warn(c, `<${tag}> is not allowed here: dropped`);
      }
    }
  };

  const body = childrenOf(root).find((n) => tagOf(n) === 'body');
  if (body) {
    const a = attrsOf(body);
    const [b, e] = interval(body, 0, Infinity);
    walk(body, b, e, a.region, { ...resolveStyles(styleRefs(a), styles), ...styleFromAttrs(a) });
  }
  for (const n of childrenOf(root)) {
    const tag = tagOf(n);
    if (tag !== 'head' && tag !== 'body' && tag !== '#text' && tag !== '#comment') warn(n, `<${tag}> is not allowed in <tt>: dropped`);
  }
  cues.sort((x, y) => x.startMs - y.startMs || x.endMs - y.endMs);
  const css = [...colorClasses].map(([key, name]) => {
    const [prop, value] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    return `::cue(.${name}) { ${prop}: ${value}; }`;
  }).join('\n');
  return { cues, styles: css, warnings };
}

/** The styles named by `refs`, each with the styles it names itself applied first. */
function resolveStyles(refs: string[], styles: Map<string, { attrs: Attrs; refs: string[] }>, seen = new Set<string>()): Style {
  let out: Style = {};
  for (const id of refs) {
    const st = styles.get(id);
    if (!st || seen.has(id)) continue;
    seen.add(id);
    out = { ...out, ...resolveStyles(st.refs, styles, seen), ...styleFromAttrs(st.attrs) };
  }
  return out;
}
