// The layout of an entry's storyboard: tiles of one frame every `interval`, laid out in sheets of
// columns x rows, and the two files players read it from here: the WebVTT storyboard (`#xywh=`
// cues) and the HLS image media playlist (EXT-X-TILES, Roku's extension). The packager's master
// line and DASH adaptation set are written by src/media's writers from the same layout (handed
// over by src/packaging/packager.ts). Pure: numbers in, text out; the sheets are made in
// service.ts.
import type { StoryboardConfig } from '../catalog/types.js';
import { vttTimestamp } from '../media/captions.js';

export interface StoryboardLayout extends StoryboardConfig {
  tileHeight: number;
  durationMs: number;
  /** Tiles over the whole duration, the last one possibly shorter than the interval. */
  tiles: number;
  tilesPerSheet: number;
  sheets: number;
  sheetWidth: number;
  sheetHeight: number;
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

export function storyboardLayout(cfg: StoryboardConfig, video: { width: number; height: number }, durationMs: number): StoryboardLayout {
  const tileWidth = even(cfg.tileWidth);
  const tileHeight = even(video.width > 0 && video.height > 0 ? (tileWidth * video.height) / video.width : (tileWidth * 9) / 16);
  const tiles = Math.max(1, Math.ceil(durationMs / cfg.intervalMs - 1e-9));
  const tilesPerSheet = cfg.columns * cfg.rows;
  return {
    ...cfg, tileWidth, tileHeight, durationMs, tiles, tilesPerSheet,
    sheets: Math.ceil(tiles / tilesPerSheet),
    sheetWidth: tileWidth * cfg.columns,
    sheetHeight: tileHeight * cfg.rows,
  };
}

export interface Tile {
  /** 1-based sheet number, as in sheet-{n}.jpg. */
  sheet: number;
  x: number;
  y: number;
  w: number;
  h: number;
  startMs: number;
  endMs: number;
}

/** Tile i (0-based, in time order): where it sits and the time it stands for. */
export function tile(l: StoryboardLayout, i: number): Tile {
  const k = i % l.tilesPerSheet;
  return {
    sheet: Math.floor(i / l.tilesPerSheet) + 1,
    x: (k % l.columns) * l.tileWidth,
    y: Math.floor(k / l.columns) * l.tileHeight,
    w: l.tileWidth,
    h: l.tileHeight,
    startMs: i * l.intervalMs,
    endMs: Math.min((i + 1) * l.intervalMs, l.durationMs),
  };
}

/** The first tile of sheet n (1-based) and how many tiles it holds. */
export function sheetSpan(l: StoryboardLayout, n: number): { first: number; count: number; startMs: number; endMs: number } {
  const first = (n - 1) * l.tilesPerSheet;
  const count = Math.max(0, Math.min(l.tilesPerSheet, l.tiles - first));
  return { first, count, startMs: first * l.intervalMs, endMs: Math.min((first + count) * l.intervalMs, l.durationMs) };
}

/** The WebVTT storyboard: one cue per tile, back to back from 0 to the end, naming sheets relatively. */
export function storyboardVtt(l: StoryboardLayout): string {
  const out = ['WEBVTT', ''];
  for (let i = 0; i < l.tiles; i++) {
    const t = tile(l, i);
    out.push(`${vttTimestamp(t.startMs)} --> ${vttTimestamp(t.endMs)}`, `sheet-${t.sheet}.jpg#xywh=${t.x},${t.y},${t.w},${t.h}`, '');
  }
  return out.join('\n');
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

/** Estimated bit rate of the image stream: a sheet of about 0.4 bit per pixel over its duration. */
export const imageBandwidth = (l: StoryboardLayout): number =>
  Math.max(1000, Math.round((l.sheetWidth * l.sheetHeight * 0.4) / (l.tilesPerSheet * l.intervalMs / 1000)));

/** The HLS image media playlist (Roku's HLS Image Media Playlist extension): one sheet per entry. */
export function imagePlaylist(l: StoryboardLayout): string {
  const target = Math.max(1, Math.ceil(Math.min(l.tilesPerSheet * l.intervalMs, l.durationMs) / 1000 - 1e-9));
  const lines = ['#EXTM3U', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-VERSION:7', '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-IMAGES-ONLY'];
  for (let n = 1; n <= l.sheets; n++) {
    const s = sheetSpan(l, n);
    lines.push(`#EXTINF:${secs(s.endMs - s.startMs)},`, `#EXT-X-TILES:RESOLUTION=${l.tileWidth}x${l.tileHeight},LAYOUT=${l.columns}x${l.rows},DURATION=${secs(l.intervalMs)}`, `sheet-${n}.jpg`);
  }
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
