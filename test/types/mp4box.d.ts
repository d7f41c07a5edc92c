// mp4box (mp4box.js 0.5) ships no types: the file object as the tests drive it. Boxes are read
// field by field by the tests (their fields are the box's own, by box type).
declare module 'mp4box' {
  /** Bytes as mp4box.js takes them: an ArrayBuffer that says where in the stream it starts. */
  export type MP4ArrayBuffer = ArrayBuffer & { fileStart: number };

  export interface MP4Track {
    id: number;
    codec: string;
    language: string;
    timescale: number;
    duration: number;
    nb_samples: number;
    bitrate: number;
    type?: string;
    video?: { width: number; height: number };
    audio?: { sample_rate: number; channel_count: number; sample_size: number };
    [field: string]: unknown;
  }

  export interface MP4Info {
    duration: number;
    timescale: number;
    isFragmented: boolean;
    brands: string[];
    tracks: MP4Track[];
    [field: string]: unknown;
  }

  export interface MP4Sample {
    offset: number;
    size: number;
    dts: number;
    cts: number;
    duration: number;
    is_sync: boolean;
    [field: string]: unknown;
  }

  export interface MP4BoxObject {
    type: string;
    size: number;
    hdr_size?: number;
    [field: string]: unknown;
  }

  export interface MP4File {
    onReady?: (info: MP4Info) => void;
    onError?: (e: string) => void;
    boxes: MP4BoxObject[];
    /** Returns the offset of the next bytes it wants. */
    appendBuffer(data: MP4ArrayBuffer): number;
    flush(): void;
    getTrackSamplesInfo(trackId: number): MP4Sample[];
    [field: string]: unknown;
  }

  export function createFile(): MP4File;

  export const Log: { setLogLevel(level: number): void; debug: number; info: number; warn: number; error: number };

  const MP4Box: { createFile: typeof createFile; Log: typeof Log };
  export default MP4Box;
}
