// The packager's URL grammar (nginx-vod-module's, as Kaltura deploys it), spelled once for the
// packager proofs and the benchmarks. Paths only; callers prefix the server's base URL.

export const PID = 309;
export const SP = 30900;

export interface FlavorPathOpts {
  entryId: string;
  clipFromMs?: number;
  clipToMs?: number;
  version?: number;
  forceproxy?: boolean;
}

/** `/p/{pid}/sp/{sp}/serveFlavor/entryId/{eid}[/clipTo/{ms}][/clipFrom/{ms}]/v/{v}/flavorId/{fid}` */
function flavorBase(o: FlavorPathOpts, flavorIdPart: string): string {
  let p = `/p/${PID}/sp/${SP}/serveFlavor/entryId/${o.entryId}`;
  if (o.clipToMs !== undefined) p += `/clipTo/${o.clipToMs}`;
  if (o.clipFromMs !== undefined) p += `/clipFrom/${o.clipFromMs}`;
  p += `/v/${o.version ?? 1}/flavorId/${flavorIdPart}`;
  if (o.forceproxy) p += '/forceproxy/true';
  return p;
}

/**
 * Kaltura's multi-URL (VodPackagerDeliveryUtils.generateMultiUrl, as the reference paraphrases it):
 * the longest common character prefix, then each distinct middle part, then the common postfix,
 * which for flavor URLs is the path after the flavor id: `1_f,1rcit00,2rcit00,/forceproxy/...`.
 */
export function urlsetFlavorIds(ids: string[]): string {
  if (ids.length === 1) return ids[0];
  let pre = 0;
  while (ids.every((id) => id[pre] !== undefined && id[pre] === ids[0][pre])) pre++;
  return `${ids[0].slice(0, pre)},${ids.map((id) => id.slice(pre)).join(',')},`;
}

export type HlsContainer = 'ts' | 'fmp4';

/** Per-flavor HLS media playlist. */
export function hlsIndex(o: FlavorPathOpts & { flavorId: string; container?: HlsContainer }): string {
  const prefix = o.container === 'fmp4' ? '/hls/container/fmp4' : '/hls';
  return `${prefix}${flavorBase(o, o.flavorId)}/name/a.mp4/index.m3u8`;
}

/** Multi-flavor HLS master (the urlset form delivery profile 1006 redirects to). */
export function hlsMaster(o: FlavorPathOpts & { flavorIds: string[]; container?: HlsContainer }): string {
  const prefix = o.container === 'fmp4' ? '/hls/container/fmp4' : '/hls';
  const set = o.flavorIds.length > 1;
  return `${prefix}${flavorBase(o, urlsetFlavorIds(o.flavorIds))}/name/a.mp4${set ? '.urlset' : ''}/master.m3u8`;
}

/** Multi-flavor DASH MPD, as playManifest's mpegdash redirect builds it. */
export function dashManifest(o: FlavorPathOpts & { flavorIds: string[] }): string {
  const set = o.flavorIds.length > 1;
  return `/dash${flavorBase({ ...o, forceproxy: o.forceproxy ?? true }, urlsetFlavorIds(o.flavorIds))}/name/a.mp4${set ? '.urlset' : ''}/manifest.mpd`;
}

/** Multi-flavor Smooth Streaming manifest. */
export function mssManifest(o: FlavorPathOpts & { flavorIds: string[] }): string {
  const set = o.flavorIds.length > 1;
  return `/mss${flavorBase({ ...o, forceproxy: o.forceproxy ?? true }, urlsetFlavorIds(o.flavorIds))}/name/a.mp4${set ? '.urlset' : ''}/manifest`;
}

export function playManifest(entryId: string, format: string, extra = '', file = 'a.m3u8'): string {
  return `/p/${PID}/sp/0/playManifest/entryId/${entryId}/format/${format}/protocol/http${extra}/${file}`;
}

/** The sample video of the library and its H.264 MP4 flavors (fixtures/sample-library.json). */
export const SAMPLE = {
  entryId: '1_rcit0qgs',
  source: '1_f0rcit00',
  p240: '1_f1rcit00',
  p360: '1_f2rcit00',
  p720: '1_f3rcit00',
};

/** The alternate-audio + captions entry. */
export const ALT = {
  entryId: '1_alt0audi',
  p240: '1_f1alt000',
  p360: '1_f2alt000',
  audioEng: '1_a1alt000',
  audioSpa: '1_a2alt000',
};

/** Resolves a manifest's reference against the URL the manifest came from. */
export const resolveUrl = (ref: string, base: string): string => new URL(ref, base).toString();
