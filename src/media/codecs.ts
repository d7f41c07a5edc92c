// Codec facts the media core and the stages around it share, with no code of their own behind
// them: the names Kaltura's flavor records give codecs, and which codecs the MPEG-TS writer
// carries. The TS writer refuses a track whose sample entry is not in its sets (ts/writer.ts);
// the delivery stage reads the same sets to choose fMP4 (/container/fmp4/) for a flavor MPEG-TS
// cannot carry (src/delivery/urls.ts), so the two cannot disagree. This file imports nothing.

/** Codec names as Kaltura's flavor records spell them, by MP4 sample entry. */
export const CODEC_NAMES: Readonly<Record<string, string>> = {
  avc1: 'h264', avc3: 'h264', hvc1: 'h265', hev1: 'h265', av01: 'av1', vp09: 'vp9', mp4a: 'aac', 'ac-3': 'ac3', 'ec-3': 'eac3', Opus: 'opus',
};

/** Video sample entries MPEG-TS carries here: H.264 (stream type 0x1b) and HEVC (0x24). */
export const TS_VIDEO_ENTRIES: ReadonlySet<string> = new Set(['avc1', 'avc3', 'hvc1', 'hev1']);

/**
 * Audio sample entries MPEG-TS carries here: `mp4a` (AAC as ADTS, or MP3 by its esds object
 * type), AC-3 and E-AC-3 (private stream 1), MP3 in its own `.mp3` entry. Not Opus, FLAC, ALAC.
 */
export const TS_AUDIO_ENTRIES: ReadonlySet<string> = new Set(['mp4a', 'ac-3', 'ec-3', '.mp3']);

/**
 * The esds object types of an `mp4a` entry that MPEG-TS carries, as the MP4 reader writes them
 * after `mp4a.` (src/media/mp4/reader.ts): AAC (40: the reader writes 0x66 and 0x67 so too), MPEG-1
 * and MPEG-2 audio (6b, 69). Another (AC-3 as a5, DTS as a9, ...) would be sent as AAC's ADTS.
 */
export const TS_MP4A_OBJECT_TYPES: ReadonlySet<string> = new Set(['40', '6b', '69']);

/** The sample entry of a codec named as flavor records name it (`h264` → avc1, `opus` → Opus). */
const ENTRY_OF_NAME: Readonly<Record<string, string>> = Object.fromEntries([
  ...Object.entries(CODEC_NAMES).map(([entry, name]) => [name, entry]).reverse(),
  ['hevc', 'hvc1'], ['avc', 'avc1'], ['vp8', 'vp08'], ['flac', 'fLaC'], ['mp3', '.mp3'],
]);

/**
 * The sample entry an RFC 6381 codec names, as the MP4 reader writes codec strings: the part
 * before the first dot (`avc1.64001f` → avc1, `vp09.00.10.08` → vp09), `opus` for Opus's `Opus`
 * entry, and QuickTime's `.mp3` whole.
 */
export function sampleEntryOfCodec(codec: string): string {
  const c = codec.trim();
  if (c.startsWith('.')) return c;
  const entry = c.split('.')[0];
  return entry === 'opus' ? 'Opus' : entry;
}

const tsCarriesEntry = (entry: string): boolean => TS_VIDEO_ENTRIES.has(entry) || TS_AUDIO_ENTRIES.has(entry);

/** For an `mp4a` codec: whether its object type is one MPEG-TS carries (a bare `mp4a` is taken as AAC). */
const tsCarriesMp4a = (codec: string): boolean => {
  const oti = codec.trim().split('.')[1];
  return oti === undefined || TS_MP4A_OBJECT_TYPES.has(oti.toLowerCase());
};

/**
 * Whether MPEG-TS carries one RFC 6381 codec (video or audio). A codecs value a library file gave
 * as a flavor record's name (`mp3`, `h264`) is read as that name.
 */
export function tsCarriesCodec(codec: string): boolean {
  const entry = sampleEntryOfCodec(codec);
  if (entry.toLowerCase() === 'mp4a') return tsCarriesMp4a(codec);
  // a codecs value written by hand may be upper case (AVC1.64001F)
  if (tsCarriesEntry(entry) || tsCarriesEntry(entry.toLowerCase())) return true;
  const named = ENTRY_OF_NAME[codec.trim().toLowerCase()];
  return named !== undefined && tsCarriesEntry(named);
}

/**
 * Whether MPEG-TS carries every codec of an RFC 6381 list (a flavor's `codecs`,
 * "avc1.64001f,mp4a.40.2"). An empty list says nothing against it: true.
 */
export function tsCarriesCodecs(codecs: string): boolean {
  return codecs.split(',').filter((c) => c.trim()).every(tsCarriesCodec);
}

/**
 * Whether MPEG-TS carries a codec named as a flavor record names it (`h264`, `vp9`, `opus`),
 * for a flavor whose RFC 6381 codecs are unknown. An empty or unknown name says nothing against
 * it: true.
 */
export function tsCarriesCodecName(name: string): boolean {
  const entry = ENTRY_OF_NAME[name.trim().toLowerCase()];
  return entry === undefined || tsCarriesEntry(entry);
}
