// The XML renderers: F4M v1 and v2 (kF4MManifestRenderer), SMIL (kSmilManifestRenderer) and the
// Silverlight wrapper (kSilverLightManifestRenderer), as Kaltura renders them. All through xmlbuilder2.
import { create } from 'xmlbuilder2';
import type { FlavorInfo } from './types.js';

export interface F4mInput {
  entryId: string;
  /** video/x-flv unless every flavor is mp3. */
  mimeType: string;
  durationSec: number | null;
  flavors: FlavorInfo[];
  /** Packager HDS: a single media element with only a url. */
  urlOnly: boolean;
  /** hdnetwork: a trailing <media url> (the SMIL form of the same request). */
  footerUrl?: string;
  baseUrl?: string;
}

const dur = (d: number | null) => (d === null ? null : String(Math.round(d * 1000) / 1000));

export function renderF4m(input: F4mInput): string {
  const m = create({ version: '1.0', encoding: 'UTF-8' }).ele('manifest', { xmlns: 'http://ns.adobe.com/f4m/1.0' });
  m.ele('id').txt(input.entryId);
  m.ele('mimeType').txt(input.mimeType);
  m.ele('streamType').txt('recorded');
  if (dur(input.durationSec) !== null) m.ele('duration').txt(dur(input.durationSec)!);
  if (input.baseUrl) m.ele('baseURL').txt(input.baseUrl);
  for (const f of input.flavors) {
    m.ele('media', input.urlOnly ? { url: f.url } : { url: f.url, bitrate: String(f.bitrate), width: String(f.width), height: String(f.height) });
  }
  if (input.footerUrl) m.ele('media', { url: input.footerUrl });
  return m.end({ prettyPrint: true }) + '\n';
}

export function renderF4mV2(input: F4mInput): string {
  const m = create({ version: '1.0', encoding: 'UTF-8' }).ele('manifest', { xmlns: 'http://ns.adobe.com/f4m/2.0' });
  m.ele('id').txt(input.entryId);
  if (dur(input.durationSec) !== null) m.ele('duration').txt(dur(input.durationSec)!);
  for (const f of input.flavors) m.ele('media', { href: f.url, bitrate: String(f.bitrate), width: String(f.width), height: String(f.height) });
  return m.end({ prettyPrint: true }) + '\n';
}

export function renderSmil(flavors: FlavorInfo[]): string {
  const last = flavors.length ? new URL(flavors[flavors.length - 1].url) : null;
  const doc = create({ version: '1.0', encoding: 'UTF-8' }).dtd({
    pubID: '-//W3C//DTD SMIL 2.0//EN', sysID: 'http://www.w3.org/2001/SMIL20/SMIL20.dtd', name: 'smil',
  });
  const smil = doc.ele('smil', { xmlns: 'http://www.w3.org/2001/SMIL20/Language' });
  const head = smil.ele('head');
  head.ele('meta', { name: 'title', content: '' });
  head.ele('meta', { name: 'httpBase', content: last ? `${last.protocol}//${last.host}/` : '' });
  head.ele('meta', { name: 'vod', content: 'true' });
  const sw = smil.ele('body').ele('switch', { id: 'video' });
  for (const f of flavors) {
    const u = new URL(f.url);
    sw.ele('video', { src: u.pathname + u.search, 'system-bitrate': String(f.bitrate * 1000) });
  }
  return doc.end({ prettyPrint: true }) + '\n';
}

export function renderSilverlight(url: string, entryId: string, durationSec: number | null): string {
  const m = create({ version: '1.0', encoding: 'UTF-8' }).ele('manifest', { url });
  m.ele('id').txt(entryId);
  m.ele('streamType').txt('recorded');
  if (dur(durationSec) !== null) m.ele('duration').txt(dur(durationSec)!);
  return m.end({ prettyPrint: true }) + '\n';
}
