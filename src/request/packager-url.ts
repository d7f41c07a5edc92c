// The reference packager's URL grammar, as Kaltura deploys it behind /hls, /dash and /mss:
//   /{proto}[/container/fmp4]/p/{pid}[/sp/{sp}]/serveFlavor/{key/value...}/{file}
// (kdeliver also reads /container/{fmp4|mpegts}/ among the key/value pairs, after a signature)
// with the multi-URL form "prefix,a,b,suffix.urlset" cut at characters (not path segments), and
// file names carrying "-f{n}" (position in the set), "-v1"/"-a1" (tracks) and numbers.
import { DeliveryError } from '../errors.js';
import { readPairs, splitPath } from './path-params.js';

export type PackagerProtocol = 'hls' | 'dash' | 'mss';

export interface FlavorUrl {
  readonly pairs: ReadonlyMap<string, string | undefined>;
}

export type PackagerFile =
  | { type: 'master' }
  | { type: 'index'; f: number | null; video: boolean | null; audio: boolean | null }
  | { type: 'segment'; n: number; f: number | null; video: boolean | null; audio: boolean | null; ext: 'ts' | 'm4s' }
  | { type: 'init'; clip: number; f: number | null; video: boolean | null; audio: boolean | null }
  | { type: 'iframes'; f: number | null; video: boolean | null; audio: boolean | null }
  | { type: 'iframesSegment'; n: number; f: number | null; video: boolean | null; audio: boolean | null }
  | { type: 'subtitlesPlaylist'; n: number }
  | { type: 'subtitles'; n: number; clip: number }
  | { type: 'subtitlesInit'; n: number }
  | { type: 'subtitlesFragment'; n: number; seq: number }
  | { type: 'mpd' }
  | { type: 'fragment'; n: number; f: number | null; video: boolean | null; audio: boolean | null }
  | { type: 'mssManifest' }
  | { type: 'mssFragment'; bitrate: number; kind: 'video' | 'audio'; time: number }
  | { type: 'key' };

/** Shared by every request for the same path (parsePackagerPath keeps it): read only. */
export interface PackagerRequest {
  readonly proto: PackagerProtocol;
  readonly container: 'ts' | 'fmp4';
  readonly partnerId: number;
  /** One per flavor URL in the set (one without .urlset). */
  readonly urls: readonly FlavorUrl[];
  readonly file: Readonly<PackagerFile>;
  readonly fileName: string;
  /**
   * The raw path of the directory the file is asked in, from "/{proto}" to its last "/" (signature
   * and KS segments included, still percent-encoded): with the public base URL, the base of the
   * absolute URLs the MPD names its segments by.
   */
  readonly directory: string;
}

const bad = (why: string): DeliveryError => new DeliveryError('BAD_QUERY', `, ${why}`);
const notFound = (why: string): DeliveryError => new DeliveryError('FILE_NOT_FOUND', `, ${why}`);

const TRACKS = '(?:-f(\\d+))?(-v\\d+)?(-a\\d+)?';
const FILE_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => PackagerFile, PackagerProtocol[]]> = [
  [/^master\.m3u8$/, () => ({ type: 'master' }), ['hls']],
  [new RegExp(`^index${TRACKS}\\.m3u8$`), (m) => ({ type: 'index', ...tracksOf(m, 1) }), ['hls']],
  [new RegExp(`^seg-(\\d+)${TRACKS}\\.(ts|m4s)$`), (m) => ({ type: 'segment', n: Number(m[1]), ...tracksOf(m, 2), ext: m[5] as 'ts' | 'm4s' }), ['hls']],
  [new RegExp(`^init(?:-(\\d+))?${TRACKS}\\.mp4$`), (m) => ({ type: 'init', clip: Number(m[1] ?? 1), ...tracksOf(m, 2) }), ['hls', 'dash']],
  [new RegExp(`^iframes${TRACKS}\\.m3u8$`), (m) => ({ type: 'iframes', ...tracksOf(m, 1) }), ['hls']],
  [new RegExp(`^iframes-(\\d+)${TRACKS}\\.m4s$`), (m) => ({ type: 'iframesSegment', n: Number(m[1]), ...tracksOf(m, 2) }), ['hls']],
  [/^subtitles-(\d+)\.m3u8$/, (m) => ({ type: 'subtitlesPlaylist', n: Number(m[1]) }), ['hls']],
  [/^subtitles-(\d+)(?:-(\d+))?\.vtt$/, (m) => ({ type: 'subtitles', n: Number(m[1]), clip: Number(m[2] ?? 1) }), ['hls', 'dash']],
  [/^subtitles-(\d+)-init\.mp4$/, (m) => ({ type: 'subtitlesInit', n: Number(m[1]) }), ['dash']],
  [/^subtitles-(\d+)-(\d+)\.m4s$/, (m) => ({ type: 'subtitlesFragment', n: Number(m[1]), seq: Number(m[2]) }), ['dash']],
  [/^manifest\.mpd$/, () => ({ type: 'mpd' }), ['dash']],
  [new RegExp(`^fragment-(\\d+)${TRACKS}(?:-x\\d+)?\\.m4s$`), (m) => ({ type: 'fragment', n: Number(m[1]), ...tracksOf(m, 2) }), ['dash']],
  [/^manifest$/, () => ({ type: 'mssManifest' }), ['mss']],
  // the HLS AES-128 / SAMPLE-AES key of an encrypted entry (nginx-vod-module's name, -f{n} in a set)
  [/^encryption(?:-f\d+)?\.key$/, () => ({ type: 'key' }), ['hls']],
];

/**
 * kdeliver packages a flavor's first video and first audio track, and names them -v1 and -a1 (as
 * nginx-vod-module numbers tracks from 1). Another number names a track that is never served:
 * refused, so that it is not answered with track 1's bytes under another track's name.
 */
function onlyFirstTracks(names: string[]): void {
  const other = names.find((n) => !/^[va]1$/.test(n));
  if (other !== undefined) throw notFound(`track ${other.slice(0, 12)} is not packaged: kdeliver serves a flavor's first video and first audio track (v1, a1)`);
}

/** The files a URL of each protocol most often names, for a refusal that names none. */
const FILE_HINT: Record<PackagerProtocol, string> = {
  hls: 'master.m3u8, index.m3u8, seg-{n}-v1-a1.ts, ...',
  dash: 'manifest.mpd, init-v1.mp4, fragment-{n}-v1.m4s, ...',
  mss: 'manifest, QualityLevels({bitrate})/Fragments(video={t})',
};

function tracksOf(m: RegExpExecArray, at: number): { f: number | null; video: boolean | null; audio: boolean | null } {
  const f = m[at] !== undefined ? Number(m[at]) : null;
  const v = m[at + 1];
  const a = m[at + 2];
  if (v === undefined && a === undefined) return { f, video: null, audio: null };
  onlyFirstTracks([v, a].filter((x) => x !== undefined).map((x) => x.slice(1)));
  return { f, video: v !== undefined, audio: a !== undefined };
}

/** Parses one file name; null when the protocol has no such file. */
export function parseFileName(proto: PackagerProtocol, name: string): PackagerFile | null {
  for (const [re, make, protos] of FILE_PATTERNS) {
    if (!protos.includes(proto)) continue;
    const m = re.exec(name);
    if (m) return make(m);
  }
  return null;
}

/** Expands "pre,a,b,suf" into pre+a+suf, pre+b+suf (Kaltura's character-level multi-URL). */
export function expandUrlset(s: string): string[] {
  const parts = s.split(',');
  if (parts.length === 1) return [s];
  if (parts.length < 3) throw bad('a .urlset needs "prefix,a[,b...],suffix"');
  const pre = parts[0];
  const suf = parts[parts.length - 1];
  const out = parts.slice(1, -1).map((m) => pre + m + suf);
  if (out.length > 32) throw bad('a .urlset may list at most 32 URLs');
  return out;
}

// A player asks for the same playlist and segment URLs again and again (every viewer of a popular
// entry): a parsed path is kept and shared, read-only, by later requests for the same path. Only
// paths that parse are kept (a refusal is thrown again each time); bounded, emptied when full.
const parsed = new Map<string, PackagerRequest>();
const PARSED_MAX = 4096;

/**
 * Parses the raw path after "/{proto}" (still percent-encoded, query removed).
 * Unknown path pairs are kept and ignored (signatures and future parameters ride along).
 * The answer is shared by every request for the same path: callers only read it.
 */
export function parsePackagerPath(proto: PackagerProtocol, rawPath: string): PackagerRequest {
  const key = `${proto}${rawPath}`;
  let req = parsed.get(key);
  if (req === undefined) {
    req = parseUncached(proto, rawPath);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(key, req);
  }
  return req;
}

function parseUncached(proto: PackagerProtocol, rawPath: string): PackagerRequest {
  let path = rawPath.replace(/%2c/gi, ',');
  const cm = /^\/container\/(fmp4|mpegts|ts)(?=\/)/.exec(path);
  if (cm) path = path.slice(cm[0].length);
  // MSS fragments are two segments: QualityLevels(b)/Fragments(video=t)
  const mss = /\/QualityLevels\((\d+)\)\/Fragments\((video|audio)=(\d+)\)$/.exec(path);
  let fileName: string;
  let file: PackagerFile | null;
  if (proto === 'mss' && mss) {
    fileName = mss[0].slice(1);
    file = { type: 'mssFragment', bitrate: Number(mss[1]), kind: mss[2] as 'video' | 'audio', time: Number(mss[3]) };
    path = path.slice(0, mss.index);
  } else {
    const slash = path.lastIndexOf('/');
    fileName = decodeSafe(path.slice(slash + 1));
    file = parseFileName(proto, fileName);
    path = path.slice(0, Math.max(0, slash));
  }
  if (!file && fileName === '') throw notFound(`the URL ends with "/": it names no file (${FILE_HINT[proto]})`);
  if (!file) throw notFound(`unknown ${proto} file name ${JSON.stringify(fileName.slice(0, 100))}`);

  // ".urlset" ends the multi-URL; whatever follows it (signatures) applies to every URL
  let urlPaths: string[];
  let after = '';
  const us = /\.urlset(?=\/|$)/.exec(path);
  if (us) {
    after = path.slice(us.index + us[0].length);
    urlPaths = expandUrlset(path.slice(0, us.index));
  } else urlPaths = [path];

  let partnerId = NaN;
  const urls: FlavorUrl[] = urlPaths.map((u) => {
    const segs = splitPath(u + after);
    if (segs[0] !== 'p' || !/^\d+$/.test(segs[1] ?? '')) throw notFound('packager URLs start with /p/{partnerId}');
    const pid = Number(segs[1]);
    if (!Number.isNaN(partnerId) && pid !== partnerId) throw bad('every URL of a set must name the same partner');
    partnerId = pid;
    const action = segs.indexOf('serveFlavor');
    if (action < 0 || action > 4) throw notFound('packager URLs name /serveFlavor/ after the partner');
    return { pairs: readPairs(segs.slice(action + 1)) };
  });
  // the container is named before /p/ (Kaltura's form) or among the pairs, as /encryption/ is: a
  // media signature covers the path before it, the /container/ prefix included, so an fMP4 HLS of
  // an entry playManifest gave MPEG-TS URLs is asked as /sig/{sig}/container/fmp4/index.m3u8
  const container = containerOf(proto, cm?.[1] ?? urls[0].pairs.get('container'));
  const directory = `/${proto}${rawPath.slice(0, rawPath.lastIndexOf('/') + 1)}`;
  return { proto, container, partnerId, urls, file, fileName, directory };
}

/** The segments' container: the protocol's own unless asked (MPEG-TS or fMP4 for HLS, fMP4 only otherwise). */
function containerOf(proto: PackagerProtocol, asked: string | undefined): 'ts' | 'fmp4' {
  if (asked === undefined) return proto === 'hls' ? 'ts' : 'fmp4';
  if (!/^(fmp4|mpegts|ts)$/.test(asked)) throw bad(`container ${JSON.stringify(asked.slice(0, 40))} is not fmp4, mpegts or ts`);
  if (proto !== 'hls' && asked !== 'fmp4') throw bad(`${proto} supports only fMP4`);
  return asked === 'fmp4' ? 'fmp4' : 'ts';
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad('malformed percent-encoding in the file name');
  }
}

/** "v1-a1" → which tracks; null for no restriction. */
export function parseTracks(v: string | undefined): { video: boolean; audio: boolean } | null {
  if (v === undefined) return null;
  if (!/^([va]\d+)(-[va]\d+)*$/.test(v)) throw bad(`tracks ${JSON.stringify(v.slice(0, 40))}: expected a form like v1-a1`);
  const parts = v.split('-');
  onlyFirstTracks(parts);
  return { video: parts.some((p) => p.startsWith('v')), audio: parts.some((p) => p.startsWith('a')) };
}

/** A millisecond path parameter (clipFrom, clipTo). */
export function parseMs(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,12}$/.test(v)) throw bad(`${name} ${JSON.stringify(v.slice(0, 40))}: expected whole milliseconds`);
  return Number(v);
}

/**
 * The progressive actions' clip times as Kaltura's serveFlavor and flvclipper read them: an end
 * (clipTo, clip_to) of 0 is no end, and a seek (seekFrom, seek_from) of 0 or less (its own "no
 * seek", -1) none; undefined for none. Anything else is parseMs's.
 */
export function parseClipEnd(name: string, v: string | undefined): number | undefined {
  return parseMs(name, v) || undefined;
}
export function parseSeek(name: string, v: string | undefined): number | undefined {
  return v !== undefined && /^-\d{1,12}$/.test(v) ? undefined : parseMs(name, v) || undefined;
}
