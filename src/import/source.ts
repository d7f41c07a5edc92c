// The source account of `kdeliver import-kaltura`, reached only through the public api_v3 with
// Kaltura's own Node client (npm kaltura-client), so that kaltura.com, a Kaltura CE install and
// another kdeliver are read the same way. Every answer is checked for the shape the importer
// relies on; anything else becomes a SourceError with a one-line reason. The admin secret and
// the session never leave this module except inside the URLs the source itself returns.
import kaltura from 'kaltura-client';
import { withoutCredentials } from '../log.js';

/** A refusal or an unusable answer of the source, said in one line. */
export class SourceError extends Error {
  constructor(message: string, readonly code = '') {
    super(message);
  }
}

// The parts of the API objects the importer reads (kaltura-client returns the JSON as parsed).
export interface SourceEntry {
  id: string; name?: string; description?: string; partnerId: number; userId?: string; tags?: string; adminTags?: string;
  status: number; moderationStatus?: number; type: number; mediaType?: number; createdAt: number; updatedAt: number;
  version?: number; thumbnailUrl?: string; accessControlId?: number; startDate?: number; endDate?: number;
  referenceId?: string; redirectEntryId?: string; partnerData?: string; msDuration?: number; duration?: number;
}
export interface SourceFlavor {
  id: string; entryId: string; flavorParamsId: number; version?: number | string; size?: number; sizeInBytes?: number;
  tags?: string; fileExt?: string; width?: number; height?: number; bitrate?: number; frameRate?: number;
  isOriginal?: boolean; containerFormat?: string; videoCodecId?: string; status: number; language?: string; label?: string;
  isDefault?: boolean; createdAt?: number; updatedAt?: number;
}
export interface SourceFlavorParams {
  id: number; name?: string; tags?: string; format?: string; videoCodec?: string; audioCodec?: string; width?: number;
  height?: number; videoBitrate?: number; audioBitrate?: number; frameRate?: number;
}
export interface SourceCaption {
  id: string; entryId: string; language?: string; languageCode?: string; label?: string; format?: string; fileExt?: string;
  isDefault?: boolean | number; status: number; version?: number | string; displayOnPlayer?: boolean; size?: number;
  sizeInBytes?: number; createdAt?: number; updatedAt?: number;
}
export interface SourceAccessControlProfile {
  id: number; partnerId: number; name?: string; systemName?: string; description?: string; isDefault?: boolean | number;
  rules?: unknown[]; createdAt?: number; updatedAt?: number;
}

/** Kaltura's caps: a list page holds at most 500 objects, and paging stops at the 10,000th. */
const PAGE_SIZE = 500;
const MAX_PAGED = 10_000;

const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

export interface SourceOptions {
  serviceUrl: string;
  partnerId: number;
  adminSecret: string;
  /** Request timeout of each API call, ms. */
  timeoutMs?: number;
}

/** An open admin session on the source partner. */
export interface Source {
  serviceUrl: string;
  partnerId: number;
  /** The admin KS, for the media URLs of protected entries (never printed). */
  ks: string;
  partnerName(): Promise<string | null>;
  /** Every entry of the partner that is not deleted, oldest first. */
  entries(): AsyncGenerator<SourceEntry>;
  entry(id: string): Promise<SourceEntry>;
  flavors(entryId: string): Promise<SourceFlavor[]>;
  flavorParams(id: number): Promise<SourceFlavorParams>;
  flavorUrl(id: string): Promise<string>;
  captions(entryId: string): Promise<SourceCaption[]>;
  captionUrl(id: string): Promise<string>;
  /** How many pictures (thumbnail assets) the entry has of its own. */
  thumbAssetCount(entryId: string): Promise<number>;
  accessControlProfile(id: number): Promise<SourceAccessControlProfile>;
}

/** The service URL as the client wants it: scheme://host[:port][/prefix], without /api_v3 and trailing slashes. */
export function normalizeServiceUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SourceError(`--service-url ${JSON.stringify(withoutCredentials(raw))}: expected an http(s) URL such as https://www.kaltura.com`);
  }
  if (!/^https?:$/.test(u.protocol) || u.search || u.hash || u.username || u.password) {
    throw new SourceError(`--service-url ${JSON.stringify(withoutCredentials(raw))}: expected an http(s) URL without query, fragment or credentials`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/api_v3(\/index\.php)?(\/service)?$/i, '')}`;
}

/** What a rejected client call says, in one line; never the request (it carries the secret or the KS). */
function reason(e: unknown, what: string, serviceUrl: string): SourceError {
  if (isObject(e) && typeof e.code === 'string' && typeof e.message === 'string' && !('config' in e)) {
    return new SourceError(`${what}: ${e.code}: ${oneLine(e.message)}`, e.code);
  }
  if (isObject(e) && isObject(e.response)) {
    return new SourceError(`${what}: ${serviceUrl} answered HTTP ${e.response.status}; is it a Kaltura api_v3 service URL?`, 'HTTP');
  }
  const m = isObject(e) && typeof e.message === 'string' ? e.message : String(e);
  return new SourceError(`${what}: cannot reach ${serviceUrl}: ${oneLine(m)}`, 'NETWORK');
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 300);

/** Starts an admin session on the source; throws SourceError when the source refuses it or is not api_v3. */
export async function openSource(o: SourceOptions): Promise<Source> {
  const serviceUrl = normalizeServiceUrl(o.serviceUrl);
  const config = new kaltura.Configuration();
  config.serviceUrl = serviceUrl;
  config.timeout = o.timeoutMs ?? 60_000;
  // the client logs every request with its body (the secret, the KS): keep it silent
  config.setLogger({ log() {}, error() {}, debug() {} });
  const client = new kaltura.Client(config);
  client.setClientTag('kdeliver-import-kaltura');

  // an error message may quote the session back (INVALID_KS does) or the secret: never shown
  let session = '';
  const hide = (e: SourceError): SourceError => {
    // (a secret of a few characters would match ordinary words; Kaltura's are 32)
    let m = o.adminSecret.length >= 8 ? e.message.split(o.adminSecret).join('[secret]') : e.message;
    if (session) m = m.split(session).join('[KS]');
    return m === e.message ? e : new SourceError(m, e.code);
  };
  const call = async <T>(req: { execute(c: unknown): Promise<unknown> }, what: string, check: (v: unknown) => v is T): Promise<T> => {
    let v: unknown;
    try {
      v = await req.execute(client);
    } catch (e) {
      throw hide(reason(e, what, serviceUrl));
    }
    // a KalturaAPIException inside a 200 answer that the client let through
    if (isObject(v) && v.objectType === 'KalturaAPIException') throw hide(new SourceError(`${what}: ${v.code}: ${oneLine(String(v.message))}`, String(v.code)));
    if (!check(v)) throw hide(new SourceError(`${what}: ${serviceUrl} did not answer as Kaltura's api_v3 does (${describe(v)}); is it a Kaltura service URL?`, 'NOT_API_V3'));
    return v;
  };

  const ks = await call(
    kaltura.services.session.start(o.adminSecret, 'kdeliver-import', kaltura.enums.SessionType.ADMIN, o.partnerId, 86_400, 'disableentitlement'),
    `session.start for partner ${o.partnerId}`,
    (v): v is string => typeof v === 'string' && /^[A-Za-z0-9+/=_-]{20,}$/.test(v),
  ).catch((e: SourceError) => {
    if (e.code === 'START_SESSION_ERROR') {
      throw new SourceError(`${serviceUrl} refused an admin session for partner ${o.partnerId}: wrong admin secret, or no such partner (START_SESSION_ERROR)`, e.code);
    }
    throw e;
  });
  client.setKs(ks);
  session = ks;

  const isList = (v: unknown): v is { objects: unknown[]; totalCount: number } => isObject(v) && (Array.isArray(v.objects) || v.objects === undefined) && typeof v.totalCount === 'number';
  const hasId = <T>(v: unknown): v is T => isObject(v) && (typeof v.id === 'string' || typeof v.id === 'number');
  const isUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\//.test(v);

  /** Every object of a list action, page by page. */
  async function all<T>(make: (pager: unknown) => { execute(c: unknown): Promise<unknown> }, what: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const pager = new kaltura.objects.FilterPager({ pageSize: PAGE_SIZE, pageIndex: page });
      const r = await call(make(pager), what, isList);
      const objects = (r.objects ?? []) as T[];
      out.push(...objects);
      if (objects.length < PAGE_SIZE || out.length >= r.totalCount) return out;
    }
  }

  return {
    serviceUrl,
    partnerId: o.partnerId,
    ks,
    async partnerName() {
      try {
        const p = await call(kaltura.services.partner.get(o.partnerId), 'partner.get', hasId<{ name?: string }>);
        return typeof p.name === 'string' && p.name ? p.name : null;
      } catch {
        return null; // a name is nice to have; an account may not allow partner.get
      }
    },
    async *entries() {
      // Paging by createdAt (oldest first) from the last one seen, so that an account with more
      // than 10,000 entries is read whole; ids already seen are skipped where pages overlap.
      const seen = new Set<string>();
      let since: number | undefined;
      let page = 1;
      for (;;) {
        const filter = new kaltura.objects.BaseEntryFilter({
          orderBy: '+createdAt',
          // every status but deleted, and every moderation status: without them Kaltura lists only
          // ready entries that are not pending moderation or rejected
          statusIn: '-2,-1,0,1,2,4,5,6,7',
          moderationStatusIn: '1,2,3,4,5,6',
          ...(since !== undefined ? { createdAtGreaterThanOrEqual: since } : {}),
        });
        const pager = new kaltura.objects.FilterPager({ pageSize: PAGE_SIZE, pageIndex: page });
        const r = await call(kaltura.services.baseEntry.listAction(filter, pager), 'baseEntry.list', isList);
        const objects = (r.objects ?? []) as SourceEntry[];
        let fresh = 0;
        for (const e of objects) {
          if (!hasId(e) || seen.has(e.id)) continue;
          seen.add(e.id);
          fresh++;
          yield e;
        }
        if (objects.length < PAGE_SIZE) return;
        const last = objects[objects.length - 1].createdAt;
        if (fresh === 0 && last === since) {
          // a whole page of one createdAt: go on by page within it
          page++;
          if (page * PAGE_SIZE > MAX_PAGED) throw new SourceError(`baseEntry.list: more than ${MAX_PAGED} entries share the createdAt ${last}; import them with --entry-ids`);
        } else {
          since = last;
          page = 1;
        }
      }
    },
    entry: (id) => call(kaltura.services.baseEntry.get(id), `baseEntry.get ${id}`, hasId<SourceEntry>),
    flavors: (entryId) => all<SourceFlavor>(
      (pager) => kaltura.services.flavorAsset.listAction(new kaltura.objects.FlavorAssetFilter({ entryIdEqual: entryId }), pager),
      `flavorAsset.list of ${entryId}`,
    ),
    flavorParams: (id) => call(kaltura.services.flavorParams.get(id), `flavorParams.get ${id}`, hasId<SourceFlavorParams>),
    flavorUrl: (id) => call(kaltura.services.flavorAsset.getUrl(id), `flavorAsset.getUrl ${id}`, isUrl),
    captions: (entryId) => all<SourceCaption>(
      (pager) => kaltura.services.captionAsset.listAction(new kaltura.objects.CaptionAssetFilter({ entryIdEqual: entryId }), pager),
      `captionAsset.list of ${entryId}`,
    ),
    captionUrl: (id) => call(kaltura.services.captionAsset.getUrl(id), `captionAsset.getUrl ${id}`, isUrl),
    thumbAssetCount: async (entryId) => {
      const pager = new kaltura.objects.FilterPager({ pageSize: 1, pageIndex: 1 });
      const r = await call(kaltura.services.thumbAsset.listAction(new kaltura.objects.ThumbAssetFilter({ entryIdEqual: entryId }), pager), `thumbAsset.list of ${entryId}`, isList);
      return r.totalCount;
    },
    accessControlProfile: (id) => call(kaltura.services.accessControlProfile.get(id), `accessControlProfile.get ${id}`, hasId<SourceAccessControlProfile>),
  };
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `text ${JSON.stringify(oneLine(v).slice(0, 60))}`;
  if (isObject(v)) return `an object${typeof v.objectType === 'string' ? ` of type ${v.objectType}` : ''}`;
  return String(v);
}
