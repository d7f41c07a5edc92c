/** What a renderer produces; the route copies it to the reply and does nothing else. */
export interface Rendered {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  /** The body quotes the request URL as received (hdnetwork's footer), so it answers that URL only. */
  quotesRequestUrl?: boolean;
}

/** A flavor as renderers see it (the reference's getFlavorAssetInfo). */
export interface FlavorInfo {
  url: string;
  ext: string;
  bitrate: number;
  width: number;
  height: number;
  frameRate: number;
  codecs: string;
  /** Set for audio_only flavors only. */
  audioLanguage: string | null;
  audioLanguageName: string | null;
  audioLabel: string | null;
  audioCodec: string | null;
  defaultAudio: boolean;
}
