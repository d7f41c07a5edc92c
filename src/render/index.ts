// Playback → HTTP answer: picks the renderer (responseFormat, else the profile's default), then
// the common output of every Kaltura playManifest answer: CORS, timing, caching
// (render/caching.ts).
import type { Playback } from '../types/playback.js';
import { DeliveryError } from '../errors.js';
import { PACKAGER_TYPES, ProfileType } from '../delivery/urls.js';
import { languageCode, languageName, namesAudioTrack } from '../catalog/languages.js';
import { renderM3u8 } from './m3u8.js';
import { renderF4m, renderF4mV2, renderSilverlight, renderSmil } from './xml.js';
import type { FlavorInfo, Rendered } from './types.js';
import { cachingHeaders } from './caching.js';
import { headerText } from './error.js';

export type { Rendered } from './types.js';

const RESPONSE_FORMATS = new Set(['f4m', 'f4mv2', 'smil', 'm3u8', 'json', 'jsonp', 'redirect']);

function defaultRenderer(pb: Playback): string {
  if (pb.format === 'hdnetwork') return 'hdnetwork';
  switch (pb.profile.type) {
    case ProfileType.VOD_PACKAGER_HLS:
    case ProfileType.APPLE_HTTP:
      return 'm3u8';
    case ProfileType.VOD_PACKAGER_DASH:
    case ProfileType.VOD_PACKAGER_MSS:
    case ProfileType.VOD_PACKAGER_HLS_MANIFEST:
      return 'redirect';
    case ProfileType.AKAMAI_HD:
      return 'smil';
    case ProfileType.RTSP:
      return 'rtsp';
    case ProfileType.SILVER_LIGHT:
      return 'sl';
    default:
      return 'f4m';
  }
}

/** The reference's getFlavorAssetInfo: audio fields only for audio_only flavors. */
export function flavorInfos(pb: Playback): FlavorInfo[] {
  const redirectProfile = PACKAGER_TYPES.has(pb.profile.type) && pb.profile.type !== ProfileType.VOD_PACKAGER_HLS;
  if (redirectProfile) {
    return pb.urls.map((url) => ({ url, ext: '', bitrate: 0, width: 0, height: 0, frameRate: 0, codecs: '', audioLanguage: null, audioLanguageName: null, audioLabel: null, audioCodec: null, defaultAudio: false }));
  }
  const wanted = pb.request.defaultAudioLang;
  return pb.flavors.map((f, i) => {
    const audioOnly = f.tags.includes('audio_only');
    const code = audioOnly ? languageCode(f.language) : null;
    const name = code ? (code === 'und' ? 'Undefined' : languageName(code)) : null;
    const defaultAudio = audioOnly ? (wanted !== null ? namesAudioTrack(wanted, f) : f.isDefault) : false;
    return {
      url: pb.urls[i] ?? pb.urls[0], ext: f.fileExt, bitrate: f.bitrate, width: f.width, height: f.height,
      frameRate: f.frameRate, codecs: f.codecs,
      audioLanguage: code, audioLanguageName: name, audioLabel: audioOnly ? f.label || null : null,
      audioCodec: audioOnly ? f.audioCodec || 'und' : null, defaultAudio,
    };
  });
}

/** The Akamai HD SMIL profile bumps duplicate bitrates by 1 kbit/s so each is unique. */
function uniqueBitrates(infos: FlavorInfo[]): FlavorInfo[] {
  const seen = new Set<number>();
  return infos.map((f) => {
    let bitrate = f.bitrate;
    while (seen.has(bitrate)) bitrate++;
    seen.add(bitrate);
    return { ...f, bitrate };
  });
}

/** PHP's json_encode escapes slashes and writes non-ASCII as \uXXXX; JSON readers do not care, byte-comparing clients might. */
const phpJson = (v: unknown) =>
  JSON.stringify(v).replace(/\//g, '\\/').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function renderPlayback(pb: Playback, now: number): Rendered {
  const asked = pb.request.responseFormat;
  const renderer = asked && RESPONSE_FORMATS.has(asked) ? asked : defaultRenderer(pb);
  const infos = flavorInfos(pb);
  let status = 200;
  let contentType = 'text/xml; charset=UTF-8';
  const extra: Record<string, string> = {};
  let body: string;
  let quotesRequestUrl = false;

  switch (renderer) {
    case 'm3u8': {
      contentType = 'application/x-mpegurl';
      const isHlsPackager = pb.profile.type === ProfileType.VOD_PACKAGER_HLS || pb.profile.type === ProfileType.APPLE_HTTP;
      const subtitles = pb.format === 'applehttp' && isHlsPackager && !pb.request.disableCaptions
        ? pb.captions.map((c, i) => ({ caption: c, url: pb.subtitleUrls[i] }))
        : [];
      body = renderM3u8({ flavors: infos, subtitles, preferredBitrate: pb.request.preferredBitrate });
      break;
    }
    case 'redirect':
      status = 302;
      extra.Location = infos[0].url.replace(/ /g, '%20');
      contentType = 'text/plain; charset=UTF-8';
      body = '\n';
      break;
    case 'json':
    case 'jsonp': {
      contentType = 'application/json';
      const json = phpJson({
        entryId: pb.entry.id, duration: pb.durationSec, baseUrl: '',
        flavors: PACKAGER_TYPES.has(pb.profile.type) && pb.profile.type !== ProfileType.VOD_PACKAGER_HLS ? infos.map((f) => ({ url: f.url })) : infos,
      });
      if (renderer === 'jsonp') {
        if (!pb.request.callback) throw new DeliveryError('BAD_QUERY', ', Expecting "callback" parameter for jsonp format (letters, digits, _ and . only, in the query string)');
        body = `${pb.request.callback}(${json})\n`;
      } else body = json + '\n';
      break;
    }
    case 'smil':
      extra['Content-Disposition'] = 'inline; filename=manifest.xml';
      body = renderSmil(pb.profile.type === ProfileType.AKAMAI_HD ? uniqueBitrates(infos) : infos);
      break;
    case 'f4mv2':
      extra['Content-Disposition'] = 'inline; filename=manifest.xml';
      body = renderF4mV2({ entryId: pb.entry.id, mimeType: 'video/x-flv', durationSec: pb.durationSec, flavors: infos, urlOnly: false });
      break;
    case 'sl':
      body = renderSilverlight(infos[0].url, pb.entry.id, pb.durationSec);
      break;
    case 'rtsp':
      contentType = 'text/html; charset=UTF-8';
      body = `<html><head><meta http-equiv="refresh" content="0;url=${infos[0].url.replace(/"/g, '%22')}"></head></html>`;
      break;
    case 'hdnetwork': {
      extra['Content-Disposition'] = 'inline; filename=manifest.xml';
      // the same request on this server's public URL, asking for the SMIL form
      const footer = smilFormUrl(pb.baseUrl + pb.request.rawUri);
      quotesRequestUrl = true;
      body = renderF4m({ entryId: pb.entry.id, mimeType: 'video/x-flv', durationSec: pb.durationSec, flavors: [], urlOnly: true, footerUrl: footer });
      break;
    }
    default: { // f4m
      extra['Content-Disposition'] = 'inline; filename=manifest.xml';
      const mp3 = pb.flavors.length > 0 && pb.flavors.every((f) => f.fileExt === 'mp3');
      body = renderF4m({
        entryId: pb.entry.id, mimeType: mp3 ? 'audio/mpeg' : 'video/x-flv', durationSec: pb.durationSec, flavors: infos,
        urlOnly: pb.profile.type === ProfileType.VOD_PACKAGER_HDS,
      });
    }
  }

  const deliveryCode = pb.request.deliveryCode;
  // placeholders are rare: look before rewriting; a function keeps "$&" in a value literal
  if (body.includes('{deliveryCode}')) body = body.replace(/\{deliveryCode\}/g, () => deliveryCode);
  if (body.includes('{playbackContext}')) {
    const context = pb.request.playbackContext ? `/playbackContext/${encodeURIComponent(pb.request.playbackContext)}` : '';
    body = body.replace(/\{playbackContext\}/g, () => context);
  }
  const headers: Record<string, string | string[]> = {
    'Content-Type': contentType,
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Server,range,Content-Length,Content-Range,X-Kaltura,X-Kaltura-App',
    'Timing-Allow-Origin': '*',
    ...cachingHeaders(pb.cacheAge, now),
    ...extra,
  };
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string' && v.includes('{deliveryCode}')) headers[k] = v.replace(/\{deliveryCode\}/g, () => deliveryCode);
  if (pb.kalturaHeaders.length) headers['X-Kaltura'] = pb.kalturaHeaders.map(headerText);
  if (pb.acp) headers['X-Kaltura-ACP'] = pb.acp;
  return quotesRequestUrl ? { status, headers, body, quotesRequestUrl } : { status, headers, body };
}

/**
 * The request's own URL asking for the SMIL form (hdnetwork's footer): the format named
 * hdnetworksmil and a file name's .f4m made .smil. Kaltura replaces every "hdnetwork" and "f4m" in
 * the URL, which also alters a KS, a playSessionId or a clientTag that happens to hold them; only
 * the format and the extension change here.
 */
function smilFormUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  return path.replace(/\/format\/hdnetwork(?=\/|$)/, '/format/hdnetworksmil').replace(/\.f4m$/, '.smil')
    + query.replace(/([?&]format=)hdnetwork(?=&|$)/, '$1hdnetworksmil');
}
