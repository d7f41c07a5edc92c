// m3u8-parser ships no types: the parser and the manifest it makes (its README, "Parsed Output"),
// as far as the tests read it. A field the playlist does not carry is absent.
declare module 'm3u8-parser' {
  export interface ByteRange { length: number; offset: number }

  /** A variant's (EXT-X-STREAM-INF, EXT-X-I-FRAME-STREAM-INF) attributes, parsed. */
  export interface VariantAttributes {
    BANDWIDTH?: number;
    'AVERAGE-BANDWIDTH'?: number;
    RESOLUTION?: { width: number; height: number };
    'FRAME-RATE'?: number;
    CODECS?: string;
    AUDIO?: string;
    VIDEO?: string;
    SUBTITLES?: string;
    'CLOSED-CAPTIONS'?: string;
    'PROGRAM-ID'?: number;
    URI?: string;
    [name: string]: unknown;
  }

  export interface Segment {
    uri: string;
    duration: number;
    title?: string;
    timeline: number;
    byterange?: ByteRange;
    discontinuity?: boolean;
    programDateTime?: number;
    attributes?: Record<string, unknown>;
    key?: { method: string; uri: string; iv?: Uint32Array };
    map?: { uri: string; byterange?: ByteRange };
    'cue-out'?: string;
    'cue-out-cont'?: string;
    'cue-in'?: string;
    custom?: Record<string, unknown>;
  }

  /** An EXT-X-MEDIA rendition. */
  export interface MediaGroupItem {
    default: boolean;
    autoselect: boolean;
    language?: string;
    uri?: string;
    instreamId?: string;
    characteristics?: string;
    forced?: boolean;
  }

  /** By GROUP-ID, then NAME. */
  export type MediaGroup = Record<string, Record<string, MediaGroupItem>>;

  export interface Playlist {
    uri: string;
    timeline: number;
    attributes: VariantAttributes;
  }

  export interface Manifest {
    allowCache: boolean;
    endList?: boolean;
    mediaSequence?: number;
    discontinuitySequence?: number;
    playlistType?: string;
    independentSegments?: boolean;
    targetDuration?: number;
    totalDuration?: number;
    version?: number;
    discontinuityStarts: number[];
    dateRanges: unknown[];
    custom?: Record<string, unknown>;
    playlists?: Playlist[];
    iFramePlaylists?: Playlist[];
    mediaGroups: { AUDIO: MediaGroup; VIDEO: MediaGroup; 'CLOSED-CAPTIONS': MediaGroup; SUBTITLES: MediaGroup };
    segments: Segment[];
    /** EXT-X-KEY lines of a multivariant playlist, by key system. */
    contentProtection?: Record<string, { attributes: Record<string, unknown>; pssh?: Uint8Array }>;
    start?: { timeOffset: number; precise: boolean };
    skip?: Record<string, unknown>;
    partInf?: Record<string, unknown>;
    serverControl?: Record<string, unknown>;
  }

  export class Parser {
    constructor(options?: { uri?: string; mainDefinitions?: Record<string, string> });
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
  }
}
