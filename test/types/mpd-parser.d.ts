// mpd-parser ships no types: parse() and the manifest it makes (the shape m3u8-parser's has, as
// video.js's VHS reads both), as far as the tests read it. A field the MPD does not give is absent.
declare module 'mpd-parser' {
  export interface ByteRange { length: number; offset: number }

  export interface Segment {
    uri: string;
    /** uri against the manifest's URL and its BaseURLs. */
    resolvedUri: string;
    /** Seconds. */
    duration: number;
    timeline: number;
    number: number;
    presentationTime?: number;
    byterange?: ByteRange;
    /** The initialization segment. */
    map?: { uri: string; resolvedUri: string; byterange?: ByteRange };
  }

  /** ContentProtection elements by key system (urn:mpeg:dash:mp4protection:2011 as mp4protection). */
  export type ContentProtection = Record<string, { attributes: Record<string, string>; pssh?: Uint8Array }>;

  export interface Playlist {
    attributes: {
      NAME?: string;
      BANDWIDTH?: number;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
      AUDIO?: string;
      SUBTITLES?: string;
      [name: string]: unknown;
    };
    uri: string;
    resolvedUri: string;
    endList: boolean;
    timeline: number;
    targetDuration: number;
    mediaSequence: number;
    segments: Segment[];
    contentProtection?: ContentProtection;
  }

  export interface MediaGroupItem {
    language: string;
    autoselect: boolean;
    default: boolean;
    uri: string;
    playlists: Playlist[];
  }

  /** By group (audio, subs), then label. */
  export type MediaGroup = Record<string, Record<string, MediaGroupItem>>;

  export interface Manifest {
    allowCache: boolean;
    contentSteering?: unknown;
    discontinuityStarts: number[];
    /** Seconds (mediaPresentationDuration). */
    duration: number;
    endList: boolean;
    mediaGroups: { AUDIO: MediaGroup; VIDEO: MediaGroup; 'CLOSED-CAPTIONS': MediaGroup; SUBTITLES: MediaGroup };
    playlists: Playlist[];
    segments: Segment[];
    timelineStarts?: { start: number; timeline: number }[];
    uri: string;
    minimumUpdatePeriod?: number;
  }

  export function parse(manifestString: string, options?: { manifestUri?: string; NOW?: number; clientOffset?: number }): Manifest;
}
