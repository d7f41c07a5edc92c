// Delivery-profile resolution: which profile (and, for
// flavors kept on an external storage, which storage) serves a playManifest request.
//   1. a remote storage, chosen by the partner's storageServePriority and where the flavors'
//      files are: that storage's profiles for the format, in its order;
//   2. otherwise the requested ids, else the partner's per-format list, ordered by the
//      partner's list; else the default profiles of the format (with a LIMIT_DELIVERY_PROFILES
//      allow list: the listed profiles of partner 0 or the entry's partner, default or not, as
//      Kaltura's DeliveryProfilePeer::getDefaultDelivery drops its is_default filter for one),
//      ordered host first, tokenizer null first (not-null first for a "secured" entry), the
//      partner's own first, priority;
//   3. filters: inactive, media protocols, enforce_delivery admin tags, maxSize, and the
//      LIMIT_DELIVERY_PROFILES allow or block list;
//   4. the first that is left. None: the caller answers error 25.
import type { Catalog } from '../catalog/store.js';
import type { DeliveryProfile, Entry, FlavorAsset, Partner, StorageProfile } from '../catalog/types.js';
import type { AccessDecision } from '../access/types.js';

export interface ResolveInput {
  catalog: Pick<Catalog, 'getDeliveryProfile' | 'listDeliveryProfiles' | 'getStorageProfile' | 'listStorageProfiles' | 'listRemoteFiles'>;
  partner: Partner;
  entry: Pick<Entry, 'id' | 'partnerId' | 'adminTags'>;
  /** Normalised streamer type: applehttp, mpegdash, http, hdnetworkmanifest, sl, ... */
  format: string;
  /** The request protocol (http, https, rtmp, ...). */
  protocol: string;
  /** deliveryProfileIds (wins) or deliveryProfileId. */
  requestedIds: number[] | null;
  flavors: FlavorAsset[];
  limit: AccessDecision['limitDeliveryProfiles'];
  /** Entry secured (rules, moderation, schedule, entitlement): tokenized defaults first. */
  secured: boolean;
  storageId: number | null;
}

export interface ResolvedDelivery {
  profile: DeliveryProfile | null;
  /** The external storage the URLs are built on, or null for this server's own files. */
  storage: StorageProfile | null;
  trace: string[];
}

export const StorageServePriority = { KALTURA_ONLY: 1, KALTURA_FIRST: 2, EXTERNAL_FIRST: 3, EXTERNAL_ONLY: 4 } as const;

/** An absolute profile URL has a host; "/..." means this server (the reference's null host). */
export const hasHost = (p: DeliveryProfile): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(p.url);

function enforcedDeliveries(adminTags: string): string[] {
  return adminTags.split(',').map((t) => t.trim()).filter((t) => t.startsWith('enforce_delivery:')).map((t) => t.slice('enforce_delivery:'.length));
}

/** Storages (active, the partner's) holding a copy of every flavor, in the partner's order. */
async function storagesWithAllFlavors(input: ResolveInput): Promise<StorageProfile[]> {
  const { catalog, partner, flavors } = input;
  if (flavors.length === 0) return [];
  // the partner's storages first (kept per partner): most partners have none, and then no
  // flavor's copies need reading (one catalog read per flavor of an entry not read before)
  const active = (await catalog.listStorageProfiles(partner.id)).filter((s) => s.active);
  if (active.length === 0) return [];
  const remote = await Promise.all(flavors.map((f) => catalog.listRemoteFiles(f.id)));
  const sets = remote.map((files) => new Set(files.map((r) => r.storageProfileId)));
  return active.filter((s) => sets.every((set) => set.has(s.id)));
}

async function pickStorage(input: ResolveInput, trace: string[]): Promise<{ storage: StorageProfile | null; refused: boolean }> {
  const { catalog, partner, storageId } = input;
  if (storageId !== null) {
    const s = await catalog.getStorageProfile(storageId);
    if (!s || s.partnerId !== partner.id || !s.active) {
      trace.push(`storageId ${storageId}: no active storage of partner ${partner.id}`);
      return { storage: null, refused: true };
    }
    if (!(await storagesWithAllFlavors(input)).some((x) => x.id === s.id)) {
      trace.push(`storageId ${storageId}: not every flavor has a copy there`);
      return { storage: null, refused: true };
    }
    trace.push(`storage ${s.id} (${s.name}) asked for with storageId`);
    return { storage: s, refused: false };
  }
  const prio = partner.storageServePriority;
  if (prio !== StorageServePriority.EXTERNAL_FIRST && prio !== StorageServePriority.EXTERNAL_ONLY) {
    return { storage: null, refused: false };
  }
  const found = (await storagesWithAllFlavors(input))[0] ?? null;
  if (found) {
    trace.push(`storage ${found.id} (${found.name}) chosen: storageServePriority ${prio} prefers external copies`);
    return { storage: found, refused: false };
  }
  if (prio === StorageServePriority.EXTERNAL_ONLY) {
    trace.push('storageServePriority 4 (external only) and no storage holds every flavor');
    return { storage: null, refused: true };
  }
  trace.push('no storage holds every flavor: served from this server');
  return { storage: null, refused: false };
}

export async function resolveDeliveryProfile(input: ResolveInput): Promise<ResolvedDelivery> {
  const trace: string[] = [];
  const { catalog, partner, entry, format, protocol, requestedIds, limit, secured } = input;
  const { storage, refused } = await pickStorage(input, trace);
  if (refused) return { profile: null, storage: null, trace };

  // the profiles of the ids, in their order, those that exist; one await for all of them
  const load = async (ids: number[]): Promise<DeliveryProfile[]> =>
    (await Promise.all(ids.map((id) => catalog.getDeliveryProfile(id)))).filter((p): p is DeliveryProfile => !!p);

  let candidates: DeliveryProfile[];
  if (storage) {
    let ids = storage.deliveryProfileIds[format] ?? [];
    if (requestedIds && requestedIds.length) ids = ids.filter((id) => requestedIds.includes(id));
    candidates = await load(ids);
    trace.push(`storage ${storage.id} profiles for ${format}: ${ids.join(',') || 'none'}`);
  } else {
    const ids = requestedIds && requestedIds.length ? requestedIds : partner.deliveryProfileIds[format] ?? null;
    if (ids && ids.length) {
      const own = (await load(ids)).filter((p) => p.partnerId === 0 || p.partnerId === entry.partnerId);
      // the partner's order for the format (or all formats flattened); ids not in it last
      const order = partner.deliveryProfileIds[format] ?? Object.values(partner.deliveryProfileIds).flat();
      const rank = (p: DeliveryProfile) => {
        const i = order.indexOf(p.id);
        return i < 0 ? Number.MAX_SAFE_INTEGER : i;
      };
      candidates = own.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map((x) => x.p);
      trace.push(`${requestedIds && requestedIds.length ? 'requested' : `partner ${partner.id}'s`} profile ids ${ids.join(',')}: candidates ${candidates.map((p) => p.id).join(',') || 'none'}`);
    } else {
      const whitelist = limit && !limit.isBlockedList;
      candidates = (await catalog.listDeliveryProfiles())
        .filter((p) => p.streamerType === format && (whitelist ? p.partnerId === 0 || p.partnerId === entry.partnerId : p.isDefault && p.partnerId === 0))
        .sort((a, b) =>
          Number(hasHost(b)) - Number(hasHost(a))
          || (secured ? Number(!!b.tokenizer) - Number(!!a.tokenizer) : Number(!!a.tokenizer) - Number(!!b.tokenizer))
          || Number(b.partnerId === entry.partnerId) - Number(a.partnerId === entry.partnerId)
          || a.priority - b.priority
          || a.id - b.id);
      trace.push(`${whitelist ? `profiles of partner 0 and ${entry.partnerId} (an access-control allow list)` : 'default profiles'} for ${format}${secured ? ' (secured entry: tokenized first)' : ''}: ${candidates.map((p) => p.id).join(',') || 'none'}`);
    }
  }

  const enforced = enforcedDeliveries(entry.adminTags ?? '');
  const maxFlavorSize = input.flavors.reduce((m, f) => Math.max(m, f.size || 0), 0);
  const kept = candidates.filter((p) => {
    const why = dropReason(p, { protocol, enforced, maxFlavorSize, limit });
    if (why) trace.push(`profile ${p.id} dropped: ${why}`);
    return !why;
  });
  const profile = kept[0] ?? null;
  trace.push(profile ? `profile ${profile.id} (${profile.name}) chosen` : `no delivery profile for ${format}`);
  return { profile, storage, trace };
}

function dropReason(
  p: DeliveryProfile,
  o: { protocol: string; enforced: string[]; maxFlavorSize: number; limit: AccessDecision['limitDeliveryProfiles'] },
): string | null {
  if (!p.active) return 'inactive';
  if (o.limit) {
    const listed = o.limit.deliveryProfileIds.includes(p.id);
    if (o.limit.isBlockedList && listed) return 'blocked by the access-control profile';
    if (!o.limit.isBlockedList && !listed) return 'not allowed by the access-control profile';
  }
  if (p.mediaProtocols.length && !p.mediaProtocols.map((x) => x.toLowerCase()).includes(o.protocol.toLowerCase())) {
    return `protocol ${o.protocol} not in ${p.mediaProtocols.join(',')}`;
  }
  const missing = o.enforced.filter((x) => !p.enforceDeliveriesSupport.includes(x));
  if (missing.length) return `the entry enforces delivery ${missing.join(',')}`;
  // maxSize is in bytes, the unit of the catalog's flavor sizes
  if (p.maxSize !== null && p.maxSize > 0 && o.maxFlavorSize > p.maxSize) return `a flavor is larger than maxSize ${p.maxSize}`;
  return null;
}
