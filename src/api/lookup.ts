// Lookups every service needs, with the partner boundary built in: a call only ever sees the
// records of its own partner, and another partner's id answers exactly like an unknown one.
import type { CaptionAsset, Entry, FlavorAsset } from '../catalog/types.js';
import { EntryStatus } from '../catalog/types.js';
import { ApiError } from './errors.js';
import { entryObject } from './objects.js';
import type { ApiContext, ApiObject } from './types.js';

export const requestProtocol = (ctx: Pick<ApiContext, 'http'>): 'http' | 'https' => (ctx.http.isHttps ? 'https' : 'http');

/** The partner of the call, which every data action needs. */
export function callPartnerId(ctx: ApiContext): number {
  if (ctx.partnerId === null || !ctx.partner) throw new ApiError('MISSING_KS');
  return ctx.partnerId;
}

export function partnerEntry(ctx: ApiContext, id: string): Entry {
  const pid = callPartnerId(ctx);
  const e = ctx.catalog.getEntry(id);
  if (!e || e.partnerId !== pid || e.status === EntryStatus.DELETED) throw new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: id });
  return e;
}

export function partnerFlavor(ctx: ApiContext, id: string): FlavorAsset {
  const pid = callPartnerId(ctx);
  const f = ctx.catalog.getFlavor(id);
  if (!f || f.partnerId !== pid || f.status === 3) throw new ApiError('FLAVOR_ASSET_ID_NOT_FOUND', { ID: id });
  return f;
}

export function partnerCaption(ctx: ApiContext, id: string): CaptionAsset {
  const pid = callPartnerId(ctx);
  const c = ctx.catalog.getCaption(id);
  if (!c || c.partnerId !== pid || c.status === 3) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: id });
  return c;
}

export function entryApiObject(ctx: ApiContext, e: Entry): ApiObject {
  return entryObject(e, { baseUrl: ctx.baseUrl, protocol: requestProtocol(ctx), flavors: ctx.catalog.listFlavors(e.id) });
}
