// DASH manifest: a static MPD with one Period per sequence clip, video and audio adaptation sets
// (one audio set per language when alternate audio is present), a text set per caption (WebVTT
// files, or TTML in fMP4 segments when asked: Presentation.dashSubtitles),
// and SegmentTemplate + SegmentTimeline with exact durations in each track's own timescale.
// Encrypted (cenc/cbcs): ContentProtection elements open every video and audio set.
// Segment, init and caption URLs are absolute when given a base (the caller's public URL of the
// MPD's directory), as nginx-vod-module's are by default (vod_dash_absolute_manifest_urls): some
// clients (Debian 12's ffmpeg 5.1) resolve relative names against the URL they first asked for
// (playManifest, before its 302), not the MPD's own.
import { isCommonEncryption, type Encryption } from '../crypto/encryption.js';
import { mpdContentProtection, mpdNamespaces } from '../crypto/signalling.js';
import { MediaError } from '../errors.js';
import { type Presentation, type Rendition, averageBandwidth, codecsOf, totalDurationMs } from '../presentation.js';
import { dtsAt, rotationOf, shownSize } from '../mp4/index-types.js';
import type { Timeline, TrackTiming } from '../segment.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const isoDuration = (ms: number): string => `PT${(ms / 1000).toFixed(3)}S`;

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
/**
 * A frame rate as the MPD's FrameRateType writes it: a whole number or a fraction (ISO/IEC 23009-1
 * 5.3.12.2), never a decimal, which ExoPlayer and schema validators reject ("29.97"). The NTSC
 * family (the catalog keeps 29.97, 23.976, 59.94) is n*1000/1001; any other rate to 1/1000.
 */
function frameRateOf(fps: number): string {
  if (Math.abs(fps - Math.round(fps)) < 0.0005) return String(Math.round(fps));
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 0.0015) return `${ntsc * 1000}/1001`;
  return ratio([Math.round(fps * 1000), 1000]).replace(':', '/');
}

/** A ratio in lowest terms, "w:h" (the track's sample aspect ratio: 640:639 for the sample's 426x240). */
const ratio = ([w, h]: [number, number]): string => `${w / gcd(w, h)}:${h / gcd(w, h)}`;

/** SegmentTimeline entries (t, d, r) of one track over a clip's segments. */
function timelineXml(tl: Timeline, timing: TrackTiming, kind: 'video' | 'audio'): string {
  const t = timing.track;
  const runs: Array<{ t: number; d: number; r: number }> = [];
  for (const s of tl.segments) {
    const range = kind === 'video' ? s.video : s.audio;
    if (!range || range.end <= range.first) continue;
    const start = dtsAt(t, range.first) - timing.dtsBase;
    const end = dtsAt(t, range.end) - timing.dtsBase;
    const d = end - start;
    const last = runs[runs.length - 1];
    if (last && last.d === d && last.t + last.d * (last.r + 1) === start) last.r++;
    else runs.push({ t: Math.max(0, start), d, r: 0 });
  }
  return runs.map((x) => `<S t="${x.t}" d="${x.d}"${x.r ? ` r="${x.r}"` : ''}/>`).join('');
}

/** The audio adaptation sets: alternate audio renditions by language, else the muxed flavor's audio. */
export function dashAudioRenditions(p: Presentation): Rendition[] {
  const audioOnly = p.renditions.filter((r) => !r.hasVideo && r.hasAudio);
  if (audioOnly.length) return audioOnly;
  const muxed = p.renditions.find((r) => r.hasVideo && r.hasAudio);
  return muxed ? [muxed] : [];
}

/** Text put into a SegmentTemplate attribute as it is: a template's literal "$" is written "$$". */
const literalInTemplate = (text: string): string => text.replace(/\$/g, '$$$$');

/**
 * `base`: the absolute URL of the MPD's directory (ending in "/") that every segment, init and
 * caption name is prefixed with; '' leaves them relative to the MPD.
 */
export function buildMpd(p: Presentation, encryption?: Encryption, base = ''): string {
  const tpl = (name: string): string => esc(literalInTemplate(base) + name);
  const abs = (name: string): string => esc(base + name);
  if (encryption && !isCommonEncryption(encryption)) throw new MediaError('BAD_ENCRYPTION', `DASH is encrypted with cenc or cbcs, not ${encryption.scheme}`);
  const protection = encryption ? mpdContentProtection(encryption) : [];
  const video = p.renditions.filter((r) => r.hasVideo);
  const audio = dashAudioRenditions(p);
  const clipCount = (video[0] ?? audio[0])?.clips.length ?? 0;
  const total = totalDurationMs((video[0] ?? audio[0])?.clips ?? []);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"${encryption ? mpdNamespaces(encryption) : ''} profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="${isoDuration(total)}" minBufferTime="PT2S">`,
  ];
  let periodStart = 0;
  const firstNumber = (r: Rendition, c: number): number => 1 + r.clips.slice(0, c).reduce((n, tl) => n + tl.segments.length, 0);
  for (let c = 0; c < clipCount; c++) {
    const ref = (video[0] ?? audio[0]).clips[c];
    const init = (f: number, tr: string): string => `init-${c > 0 ? `${c + 1}-` : ''}f${f}-${tr}.mp4`;
    out.push(`<Period id="${c}" start="${isoDuration(periodStart)}" duration="${isoDuration(ref.durationMs)}">`);
    let setId = 1;
    if (video.length) {
      // this period's own pictures: a sequence's entries may differ in size and turn
      const sizes = video.map((r) => (r.clips[c].video ? shownSize(r.clips[c].video!.track) : { width: 0, height: 0 }));
      const maxW = Math.max(...sizes.map((z, i) => z.width || video[i].width));
      const maxH = Math.max(...sizes.map((z, i) => z.height || video[i].height));
      out.push(`<AdaptationSet id="${setId++}" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1"${maxW ? ` maxWidth="${maxW}" maxHeight="${maxH}"` : ''}>`);
      out.push(...protection);
      for (const [i, r] of video.entries()) {
        const tl = r.clips[c];
        if (!tl.video) continue;
        const tr = tl.video.track;
        // the picture as shown, on its own grid: a track its matrix turns a quarter has its sides
        // (and its samples' aspect) exchanged, as the player shows it
        const sar: [number, number] = rotationOf(tr.matrix) % 180 === 90 ? [tr.sar[1], tr.sar[0]] : tr.sar;
        out.push(`<Representation id="f${r.f}-v1" bandwidth="${averageBandwidth([tl], true, false, 'samples')}" codecs="${esc(codecsOf(tl, true, false))}" width="${sizes[i].width || r.width}" height="${sizes[i].height || r.height}"${r.frameRate ? ` frameRate="${frameRateOf(r.frameRate)}"` : ''} sar="${ratio(sar)}">`);
        out.push(`<SegmentTemplate timescale="${tr.timescale}" initialization="${tpl(init(r.f, 'v1'))}" media="${tpl(`fragment-$Number$-f${r.f}-v1.m4s`)}" startNumber="${firstNumber(r, c)}"><SegmentTimeline>${timelineXml(tl, tl.video, 'video')}</SegmentTimeline></SegmentTemplate>`);
        out.push('</Representation>');
      }
      out.push('</AdaptationSet>');
    }
    const byLang = new Map<string, Rendition[]>();
    for (const r of audio) {
      const k = r.hasVideo ? '' : r.language;
      byLang.set(k, [...(byLang.get(k) ?? []), r]);
    }
    const anyDefault = audio.some((r) => !r.hasVideo && r.isDefault);
    let first = true;
    for (const [lang, reps] of byLang) {
      const main = anyDefault ? reps.some((r) => r.isDefault) : first;
      first = false;
      out.push(`<AdaptationSet id="${setId++}" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1"${lang ? ` lang="${esc(lang)}"` : ''}>`);
      out.push(...protection);
      out.push(`<Role schemeIdUri="urn:mpeg:dash:role:2011" value="${main ? 'main' : 'alternate'}"/>`);
      if (reps[0].label && !reps[0].hasVideo) out.push(`<Label>${esc(reps[0].label)}</Label>`);
      for (const r of reps) {
        const tl = r.clips[c];
        if (!tl.audio) continue;
        const tr = tl.audio.track;
        out.push(`<Representation id="f${r.f}-a1" bandwidth="${averageBandwidth([tl], false, true, 'samples')}" codecs="${esc(codecsOf(tl, false, true))}" audioSamplingRate="${tr.sampleRate || tr.timescale}">`);
        out.push(`<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${tr.channels || 2}"/>`);
        out.push(`<SegmentTemplate timescale="${tr.timescale}" initialization="${tpl(init(r.f, 'a1'))}" media="${tpl(`fragment-$Number$-f${r.f}-a1.m4s`)}" startNumber="${firstNumber(r, c)}"><SegmentTimeline>${timelineXml(tl, tl.audio, 'audio')}</SegmentTimeline></SegmentTemplate>`);
        out.push('</Representation>');
      }
      out.push('</AdaptationSet>');
    }
    if (clipCount === 1) {
      for (const cap of p.captions) {
        const stpp = p.dashSubtitles === 'stpp';
        out.push(`<AdaptationSet id="${setId++}" contentType="text" mimeType="${stpp ? 'application/mp4" codecs="stpp' : 'text/vtt'}"${cap.languageCode ? ` lang="${esc(cap.languageCode)}"` : ''}>`);
        out.push(`<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>`);
        if (cap.label) out.push(`<Label>${esc(cap.label)}</Label>`);
        if (stpp) {
          // one TTML document for the whole clip: one segment (fmp4/ttml-track.ts)
          out.push(`<Representation id="c${cap.n}" bandwidth="256"><SegmentTemplate timescale="1000" initialization="${tpl(`subtitles-${cap.n}-init.mp4`)}" media="${tpl(`subtitles-${cap.n}-$Number$.m4s`)}" startNumber="1"><SegmentTimeline><S t="0" d="${Math.max(1, Math.round(ref.durationMs))}"/></SegmentTimeline></SegmentTemplate></Representation>`);
        } else out.push(`<Representation id="c${cap.n}" bandwidth="256"><BaseURL>${abs(`subtitles-${cap.n}.vtt`)}</BaseURL></Representation>`);
        out.push('</AdaptationSet>');
      }
    }
    const th = p.thumbnails;
    if (th && clipCount === 1) {
      // DASH-IF IOP 6.2.6 thumbnail tiles, as dash.js reads them: the Representation's size is a
      // whole sheet, the essential property its grid, one SegmentTemplate "segment" per sheet
      out.push(`<AdaptationSet id="${setId++}" contentType="image" mimeType="image/jpeg">`);
      out.push(`<SegmentTemplate media="${esc(literalInTemplate(th.base))}sheet-$Number$.jpg" timescale="1000" duration="${th.sheetDurationMs}" startNumber="1"/>`);
      out.push(`<Representation id="thumbnails" bandwidth="${th.bandwidth}" width="${th.tileWidth * th.columns}" height="${th.tileHeight * th.rows}">`);
      out.push(`<EssentialProperty schemeIdUri="http://dashif.org/thumbnail_tile" value="${th.columns}x${th.rows}"/>`);
      out.push('</Representation>');
      out.push('</AdaptationSet>');
    }
    out.push('</Period>');
    periodStart += ref.durationMs;
  }
  out.push('</MPD>');
  return out.join('\n') + '\n';
}
