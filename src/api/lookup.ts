// Lookups every service needs, with the partner boundary built in: a call only ever sees the
// records of its own partner, and another partner's id answers exactly like an unknown one.
import type { CaptionAsset, Entry, FlavorAsset } from '../catalog/types.js';
import { AssetStatus, EntryStatus } from '../catalog/types.js';
import { objList, objString } from './args.js';
import { ApiError } from './errors.js';
import { entryObject } from './objects.js';
import type { Params } from './params.js';
import type { ApiContext, ApiObject } from './types.js';

export const requestProtocol = (ctx: Pick<ApiContext, 'http'>): 'http' | 'https' => (ctx.http.isHttps ? 'https' : 'http');

/** The partner of the call, which every data action needs. */
export function callPartnerId(ctx: ApiContext): number {
  if (ctx.partnerId === null || !ctx.partner) throw new ApiError('MISSING_KS');
  return ctx.partnerId;
}

export async function partnerEntry(ctx: ApiContext, id: string): Promise<Entry> {
  const pid = callPartnerId(ctx);
  const e = await ctx.catalog.getEntry(id);
  if (!e || e.partnerId !== pid || e.status === EntryStatus.DELETED) throw new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: id });
  return e;
}

export async function partnerFlavor(ctx: ApiContext, id: string): Promise<FlavorAsset> {
  const pid = callPartnerId(ctx);
  const f = await ctx.catalog.getFlavor(id);
  if (!f || f.partnerId !== pid || f.status === AssetStatus.DELETED) throw new ApiError('FLAVOR_ASSET_ID_NOT_FOUND', { ID: id });
  return f;
}

export async function partnerCaption(ctx: ApiContext, id: string): Promise<CaptionAsset> {
  const pid = callPartnerId(ctx);
  const c = await ctx.catalog.getCaption(id);
  if (!c || c.partnerId !== pid || c.status === AssetStatus.DELETED) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: id });
  return c;
}

/** An id list field and its single-id twin (entryIdIn, entryIdEqual) as one list, both applying when both are set; undefined when neither is. */
function idsOf(f: Params | null, inKey: string, equalKey: string): string[] | undefined {
  const list = objList(f, inKey);
  const equal = objString(f, equalKey);
  if (equal === undefined) return list;
  return list === undefined || list.includes(equal) ? [equal] : [];
}

/**
 * The assets (flavors, captions) of the call's partner that a KalturaAssetFilter names: of the
 * entries in entryIdEqual/entryIdIn and with the ids in idEqual/idIn (each pair ANDed, as Kaltura
 * does; of every entry of the partner when neither is set); deleted ones left out. `listOf` gives an entry's assets, `getOne` an asset by id.
 */
export async function partnerAssets<T extends { id: string; partnerId: number; status: number }>(
  ctx: ApiContext, f: Params | null, listOf: (entryId: string) => Promise<readonly T[]>, getOne: (id: string) => Promise<T | undefined>,
): Promise<T[]> {
  const pid = callPartnerId(ctx);
  const entryIds = idsOf(f, 'entryIdIn', 'entryIdEqual');
  const ids = idsOf(f, 'idIn', 'idEqual');
  let assets: T[];
  if (entryIds) {
    assets = [];
    for (const id of new Set(entryIds)) if ((await ctx.catalog.getEntry(id))?.partnerId === pid) assets.push(...await listOf(id));
  } else if (ids) {
    assets = [];
    for (const id of new Set(ids)) {
      const x = await getOne(id);
      if (x !== undefined) assets.push(x);
    }
  } else {
    assets = [];
    for (let page = 1; ; page++) {
      const { objects } = await ctx.catalog.listEntries({ partnerId: pid }, 500, page);
      for (const e of objects) assets.push(...await listOf(e.id));
      if (objects.length < 500) break;
    }
  }
  return assets.filter((x) => x.partnerId === pid && x.status !== AssetStatus.DELETED && (!ids || ids.includes(x.id)));
}

export async function entryApiObject(ctx: ApiContext, e: Entry): Promise<ApiObject> {
  return entryObject(e, { baseUrl: ctx.baseUrl, protocol: requestProtocol(ctx), flavors: await ctx.catalog.listFlavors(e.id) });
}

/** entryApiObject of each entry of a list page, their flavors read together (one statement, not one per entry). */
export async function entryApiObjects(ctx: ApiContext, entries: readonly Entry[]): Promise<ApiObject[]> {
  const flavors = await ctx.catalog.listFlavorsOfEntries(entries.map((e) => e.id));
  const protocol = requestProtocol(ctx);
  return entries.map((e, i) => entryObject(e, { baseUrl: ctx.baseUrl, protocol, flavors: flavors[i] }));
}
