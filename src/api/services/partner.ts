// What players, uploaders and management tools read about the partner's setup: partner.get,
// deliveryProfile.get/list (admin KS), uiConf.get and widget.get for the default widget
// `_{partnerId}` (the only widget: every partner has it, as in Kaltura, and kdeliver keeps no other).
// Secrets never leave: no partner secret in partner.get, no tokenizer key in a delivery profile.
import type { DeliveryProfile, Partner, UiConf } from '../../catalog/types.js';
import { listArgs, objInt, objList, objString, pageOf } from '../args.js';
import { ApiError, defineApiErrors } from '../errors.js';
import { callPartnerId } from '../lookup.js';
import { listResponse } from '../objects.js';
import { requireAdminKs } from '../permissions.js';
import { equalAndIn } from './base-entry.js';
import type { ApiContext, ApiObject, ServiceModule } from '../types.js';

defineApiErrors({
  DELIVERY_ID_NOT_FOUND: 'delivery id [%DELIVERY_ID%] not found',
  UICONF_ID_NOT_FOUND: 'UI conf id "%ID%" not found',
});

export function partnerObject(p: Partner): ApiObject {
  return {
    objectType: 'KalturaPartner',
    id: p.id, name: p.name, status: p.status, partnerPackage: 1,
    // not Kaltura's fields, but what this server holds for the partner that a tool may want to know
    enforceEncryption: p.enforceEncryption,
  };
}

/** Tokenizer settings a client may see: the kind and window, never a key. */
function tokenizerObject(t: DeliveryProfile['tokenizer']): ApiObject | undefined {
  if (!t) return undefined;
  const window = typeof t.window === 'number' ? t.window : undefined;
  return { objectType: 'KalturaUrlTokenizer', ...(window !== undefined ? { window } : {}), kdeliverType: t.type };
}

export function deliveryProfileObject(d: DeliveryProfile, baseUrl: string): ApiObject {
  const url = d.url.startsWith('/') ? `${baseUrl}${d.url}` : d.url;
  let hostName: string | undefined;
  try { hostName = new URL(url).host; } catch { hostName = undefined; }
  return {
    objectType: 'KalturaDeliveryProfile',
    id: d.id, partnerId: d.partnerId, name: d.name, type: String(d.type), systemName: d.name, streamerType: d.streamerType,
    url, hostName, status: d.active ? 0 : 3, isDefault: d.isDefault ? 1 : 0, mediaProtocols: d.mediaProtocols.join(','),
    priority: d.priority, tokenizer: tokenizerObject(d.tokenizer),
  };
}

/** The delivery profiles a partner uses: its own and the ones of every partner (0). */
async function partnerDeliveryProfiles(ctx: ApiContext): Promise<DeliveryProfile[]> {
  const pid = callPartnerId(ctx);
  return (await ctx.catalog.listDeliveryProfiles()).filter((d) => d.partnerId === 0 || d.partnerId === pid);
}

/** Kaltura's UiConfObjType names. */
const OBJ_TYPES: Record<number, string> = { 1: 'PLAYER', 2: 'CONTRIBUTION_WIZARD', 3: 'SIMPLE_EDITOR', 4: 'ADVANCED_EDITOR', 5: 'PLAYLIST', 6: 'APP_STUDIO', 7: 'KRECORD', 8: 'PLAYER_V3', 9: 'KMC_ACCOUNT', 10: 'KMC_ANALYTICS', 11: 'KMC_CONTENT', 12: 'KMC_DASHBOARD', 13: 'KMC_LOGIN', 14: 'PLAYER_SL', 15: 'CLIENTSIDE_ENCODER', 16: 'KMC_GENERAL', 17: 'KMC_ROLES_AND_PERMISSIONS', 18: 'CLIPPER', 19: 'KSR', 20: 'KUPLOAD', 21: 'WEBCASTING', 22: 'REACH', 23: 'PLAYER_V7' };

export function uiConfObject(u: UiConf): ApiObject {
  return {
    objectType: 'KalturaUiConf',
    id: u.id, name: u.name, partnerId: u.partnerId, objType: u.objType, objTypeAsString: OBJ_TYPES[u.objType] ?? String(u.objType),
    width: u.width ?? undefined, height: u.height ?? undefined, htmlParams: '', swfUrl: '', confFile: u.confFile,
    confVars: u.confVars, useCdn: true, tags: u.tags, swfUrlVersion: '', createdAt: u.createdAt, updatedAt: u.updatedAt,
    creationMode: 1, version: '1',
  };
}

/** A uiConf the caller's partner may read: its own or every partner's (0); any other answers as unknown. */
export async function partnerUiConf(ctx: ApiContext, id: number): Promise<UiConf> {
  const pid = callPartnerId(ctx);
  const u = await ctx.catalog.getUiConf(id);
  if (!u || (u.partnerId !== 0 && u.partnerId !== pid)) throw new ApiError('UICONF_ID_NOT_FOUND', { ID: id });
  return u;
}

/** The default widget `_{partnerId}` of an existing partner, or null for any other id. */
export async function defaultWidgetPartner(ctx: Pick<ApiContext, 'catalog'>, widgetId: string): Promise<Partner | null> {
  const m = /^_(\d{1,10})$/.exec(widgetId);
  return m ? (await ctx.catalog.getPartner(Number(m[1]))) ?? null : null;
}

export function widgetObject(p: Partner, now: number): ApiObject {
  return {
    objectType: 'KalturaWidget',
    id: `_${p.id}`, sourceWidgetId: '', rootWidgetId: `_${p.id}`, partnerId: p.id, entryId: '',
    // KalturaWidgetSecurityType NONE: anyone may start a widget session with it
    securityType: 1, securityPolicy: 1, createdAt: 0, updatedAt: now, partnerData: '', widgetHTML: '', enforceEntitlement: false,
  };
}

export const partnerService: ServiceModule = {
  name: 'partner',
  description: "The session's partner",
  actions: {
    get: {
      description: "The session's partner (its secrets are never sent)",
      params: { id: { type: 'int' } },
      returns: 'KalturaPartner',
      throws: ['INVALID_PARTNER_ID'],
      handler(ctx, a) {
        const pid = callPartnerId(ctx);
        if (a.id !== null && a.id !== pid) throw new ApiError('INVALID_PARTNER_ID', { PID: a.id });
        return partnerObject(ctx.partner!);
      },
    },
  },
  schema: { classes: [{ name: 'KalturaPartner', base: 'KalturaObjectBase', props: 'id:int,name:string,status:int,partnerPackage:int,enforceEncryption:bool' }] },
};

export const deliveryProfileService: ServiceModule = {
  name: 'deliveryProfile',
  description: 'The delivery profiles playManifest chooses from (admin KS; tokenizer keys are never sent)',
  actions: {
    get: {
      params: { id: { type: 'int', required: true } },
      returns: 'KalturaDeliveryProfile',
      throws: ['DELIVERY_ID_NOT_FOUND'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const d = (await partnerDeliveryProfiles(ctx)).find((x) => x.id === a.id);
        if (!d) throw new ApiError('DELIVERY_ID_NOT_FOUND', { DELIVERY_ID: a.id });
        return deliveryProfileObject(d, ctx.baseUrl);
      },
    },
    list: {
      description: 'Lists the delivery profiles of the partner and of every partner (filters: idEqual, idIn, streamerTypeEqual, isDefaultEqual)',
      params: listArgs('KalturaDeliveryProfileFilter'),
      returns: 'KalturaDeliveryProfileListResponse',
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const ids = equalAndIn(objInt(a.filter, 'idEqual'), objList(a.filter, 'idIn')?.map(Number));
        const streamer = objString(a.filter, 'streamerTypeEqual');
        const def = objInt(a.filter, 'isDefaultEqual', 'KalturaNullableBoolean');
        const all = (await partnerDeliveryProfiles(ctx)).filter((d) => (!ids || ids.includes(d.id))
          && (streamer === undefined || d.streamerType === streamer)
          && (def === undefined || def === -1 || (def === 1 && d.isDefault) || (def === 0 && !d.isDefault)));
        return listResponse('KalturaDeliveryProfileListResponse', pageOf(all, a.pager).map((d) => deliveryProfileObject(d, ctx.baseUrl)), all.length);
      },
    },
  },
  schema: {
    classes: [
      { name: 'KalturaDeliveryProfile', base: 'KalturaObjectBase', props: 'id:int,partnerId:int,name:string,type:string,systemName:string,streamerType:string,url:string,hostName:string,status:int,isDefault:KalturaNullableBoolean,mediaProtocols:string,priority:int,tokenizer:KalturaUrlTokenizer' },
      { name: 'KalturaUrlTokenizer', base: 'KalturaObjectBase', props: 'window:int' },
      { name: 'KalturaDeliveryProfileListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaDeliveryProfile' },
    ],
  },
};

export const uiConfService: ServiceModule = {
  name: 'uiConf',
  description: 'Player and uploader configurations (uiConfs) of the partner and of every partner',
  actions: {
    get: {
      description: 'A uiConf by id; without a KS, partnerId names the partner',
      auth: 'optional',
      params: { id: { type: 'int', required: true } },
      returns: 'KalturaUiConf',
      throws: ['UICONF_ID_NOT_FOUND'],
      handler: async (ctx, a) => uiConfObject(await partnerUiConf(ctx, a.id)),
    },
  },
  schema: { classes: [{ name: 'KalturaUiConf', base: 'KalturaObjectBase', props: 'id:int,name:string,partnerId:int,objType:int,objTypeAsString:string,width:int,height:int,htmlParams:string,swfUrl:string,confFile:string,confVars:string,useCdn:bool,tags:string,swfUrlVersion:string,createdAt:time,updatedAt:time,creationMode:int,version:string' }] },
};

export const widgetService: ServiceModule = {
  name: 'widget',
  description: "Widgets: the partner's default widget _{partnerId}",
  actions: {
    get: {
      description: "The default widget _{partnerId} (of the session's partner, when there is a session)",
      auth: 'optional',
      params: { id: { type: 'string', required: true, maxLength: 64 } },
      returns: 'KalturaWidget',
      throws: ['INVALID_WIDGET_ID'],
      async handler(ctx, a) {
        const p = await defaultWidgetPartner(ctx, a.id);
        if (!p || (ctx.partnerId !== null && p.id !== ctx.partnerId)) throw new ApiError('INVALID_WIDGET_ID', { WIDGET_ID: a.id });
        return widgetObject(p, ctx.now);
      },
    },
  },
  schema: { classes: [{ name: 'KalturaWidget', base: 'KalturaObjectBase', props: 'id:string,sourceWidgetId:string,rootWidgetId:string,partnerId:int,entryId:string,uiConfId:int,securityType:int,securityPolicy:int,createdAt:time,updatedAt:time,partnerData:string,widgetHTML:string,enforceEntitlement:bool' }] },
};
