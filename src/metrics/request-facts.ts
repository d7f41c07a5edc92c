// What ops needs to know about a request from its URL alone: the route family it belongs to (a
// small fixed set, so metric label cardinality stays bounded) and, for playManifest, the partner
// and entry it names. Read before any route runs, so they work for refused and malformed requests.
import { readPairs, serveFlavorUnderPrefix, splitPath, splitUrl } from '../request/path-params.js';

export const ROUTE_FAMILIES = [
  'playManifest', 'serveFlavor', 'raw', 'download', 'flvclipper', 'thumbnail', 'hls', 'dash', 'hds', 'mss',
  'api_v3', 'console', 'health', 'metrics', 'drmKey', 'drmLicence', 'other',
] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

// Kaltura's action names sit after /p/{pid}/sp/{spid}/ (or /p/{pid}/) or at the root.
const ACTION_FAMILIES: Record<string, RouteFamily> = Object.assign(Object.create(null) as Record<string, RouteFamily>, {
  playManifest: 'playManifest', serveFlavor: 'serveFlavor', raw: 'raw', download: 'download',
  flvclipper: 'flvclipper', thumbnail: 'thumbnail', clearKeyLicense: 'drmLicence',
});

export function routeFamily(url: string): RouteFamily {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  // the first six segments, read in place: this runs for every answer the server gives
  let first: string | null = null;
  let seen = 0;
  let i = 0;
  while (i < path.length && seen < 6) {
    if (path.charCodeAt(i) === 47 /* / */) {
      i++;
      continue;
    }
    let j = path.indexOf('/', i);
    if (j < 0) j = path.length;
    const seg = path.slice(i, j);
    i = j;
    if (first === null) {
      first = seg;
      if (seg === 'healthz' || seg === 'readyz') return 'health';
      if (seg === 'metrics') return 'metrics';
      if (seg === 'console') return 'console';
      if (seg === 'api_v3') return 'api_v3';
      // an encrypted entry's HLS key (encryption.key, the packager's) is counted apart from its media
      if (seg === 'hls') return /\/encryption(?:-f\d+)?\.key$/.test(path) ? 'drmKey' : 'hls';
      if (seg === 'dash' || seg === 'hds' || seg === 'mss') return seg;
    }
    // /p/{pid}[/sp/{spid}]/{action}/..., /index.php/extwidget/{action}/..., /{action}/...
    const fam = ACTION_FAMILIES[seg];
    if (fam) return fam;
    seen++;
  }
  if (first === null) return 'other';
  if (`${path}/`.includes('/api_v3/')) return 'api_v3';
  // serveFlavor under a deeper prefix (routes/serve-flavor.ts routes any)
  if (serveFlavorUnderPrefix(path)) return 'serveFlavor';
  return 'other';
}

export interface PlayManifestFacts {
  partnerId: number | null;
  entryId: string | null;
}

/** Partner and entry named by a playManifest URL (path pairs or query), without validating them. */
export function playManifestFacts(url: string): PlayManifestFacts {
  const { path, query } = splitUrl(url);
  const segs = path.split('/');
  const p = segs.indexOf('p');
  const pid = p >= 0 ? segs[p + 1] : undefined;
  const at = path.indexOf('/playManifest');
  let entryId: string | null = null;
  try {
    const pairs = at >= 0 ? readPairs(splitPath(path.slice(at + '/playManifest'.length))) : new Map<string, string | undefined>();
    entryId = pairs.get('entryId') ?? pairs.get('e') ?? null;
  } catch {
    // a path the parser refuses still gets a log line, just without an entry
  }
  if (entryId === null) {
    const q = new URLSearchParams(query);
    entryId = q.get('entryId') ?? q.get('e');
  }
  let partnerId = pid !== undefined && /^\d{1,10}$/.test(pid) ? Number(pid) : null;
  if (partnerId === null) {
    const q = new URLSearchParams(query).get('partnerId');
    if (q && /^\d{1,10}$/.test(q)) partnerId = Number(q);
  }
  return { partnerId, entryId: loggableId(entryId) };
}

/** An id as it goes into logs: short and printable. */
export function loggableId(id: string | null): string | null {
  return id !== null && !/^[\w-]{1,64}$/.test(id) ? id.slice(0, 64).replace(/[^\w-]/g, '?') : id;
}
