// accessControlProfile: the partner's access-control profiles with their rules (src/api/rules.ts
// maps Kaltura's rule objects onto the rules the catalog evaluates). Admin KS only: a profile's
// rules may hold secrets (hash conditions), and they decide who may play what. An entry is put
// behind a profile with baseEntry.update (accessControlId); the next playManifest enforces it.
import type { AccessControlProfile } from '../../catalog/types.js';
import { listArgs, objInt, objList, objString, pageOf } from '../args.js';
import { ApiError, defineApiErrors } from '../errors.js';
import { callPartnerId } from '../lookup.js';
import { listResponse } from '../objects.js';
import type { Params } from '../params.js';
import { requireAdminKs } from '../permissions.js';
import { RULE_SCHEMA, rulesFromApi, rulesToApi } from '../rules.js';
import { equalAndIn } from './base-entry.js';
import type { ApiContext, ApiObject, ServiceModule } from '../types.js';

defineApiErrors({
  ACCESS_CONTROL_ID_NOT_FOUND: 'Access control id "%ID%" not found',
  CANNOT_DELETE_DEFAULT_ACCESS_CONTROL: 'Default access control cannot be deleted',
  CANNOT_TRANSFER_ENTRIES_TO_ANOTHER_ACCESS_CONTROL_OBJECT: 'no default access control for current partner',
  SYSTEM_NAME_ALREADY_EXISTS: 'System name [%SYS_NAME%] already exists',
});

export function accessControlProfileObject(p: AccessControlProfile): ApiObject {
  return {
    objectType: 'KalturaAccessControlProfile',
    id: p.id, partnerId: p.partnerId, name: p.name, systemName: p.systemName, description: p.description,
    createdAt: p.createdAt, updatedAt: p.updatedAt, isDefault: p.isDefault ? 1 : 0, rules: rulesToApi(p.rules),
  };
}

async function partnerProfile(ctx: ApiContext, id: number): Promise<AccessControlProfile> {
  const p = await ctx.catalog.getAccessControlProfile(id);
  if (!p || p.partnerId !== callPartnerId(ctx)) throw new ApiError('ACCESS_CONTROL_ID_NOT_FOUND', { ID: id });
  return p;
}

const WRITABLE = new Set(['name', 'systemName', 'description', 'isDefault', 'rules']);
const READONLY = new Set(['id', 'partnerId', 'createdAt', 'updatedAt', 'containsUnsuportedRestrictions']);

/** The fields a KalturaAccessControlProfile input sets, checked as Kaltura checks them. */
async function profileInput(ctx: ApiContext, input: Params, existing: AccessControlProfile | null): Promise<Omit<AccessControlProfile, 'id' | 'createdAt' | 'updatedAt'>> {
  for (const [k, v] of Object.entries(input)) {
    if (k === 'objectType' || WRITABLE.has(k) || v === null) continue;
    if (READONLY.has(k)) throw new ApiError('PROPERTY_VALIDATION_NOT_UPDATABLE', { PROP_NAME: k });
    throw new ApiError('PROPERTY_IS_NOT_DEFINED', { PROP: k.slice(0, 64), TYPE: 'KalturaAccessControlProfile' });
  }
  const partnerId = callPartnerId(ctx);
  const name = objString(input, 'name') ?? existing?.name;
  if (name === undefined || name === '') throw new ApiError(existing ? 'PROPERTY_VALIDATION_MIN_LENGTH' : 'PROPERTY_VALIDATION_CANNOT_BE_NULL', existing ? { PROP_NAME: 'name', MIN_LEN: 1 } : { PROP_NAME: 'name' });
  if (name.length > 128) throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: 'name', MAX_LEN: 128 });
  const systemName = objString(input, 'systemName') ?? existing?.systemName ?? '';
  if (systemName.length > 128) throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: 'systemName', MAX_LEN: 128 });
  const clash = systemName ? await ctx.catalog.accessControlProfileBySystemName(partnerId, systemName) : undefined;
  if (clash !== undefined && clash !== existing?.id) throw new ApiError('SYSTEM_NAME_ALREADY_EXISTS', { SYS_NAME: systemName });
  const description = objString(input, 'description') ?? existing?.description ?? '';
  if (description.length > 1024) throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: 'description', MAX_LEN: 1024 });
  // KalturaNullableBoolean: -1 is "not set"
  const def = objInt(input, 'isDefault', 'KalturaNullableBoolean');
  if (def !== undefined && def !== -1 && def !== 0 && def !== 1) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: def, PARAM_NAME: 'isDefault', ENUM_TYPE: 'KalturaNullableBoolean' });
  const isDefault = def === undefined || def === -1 ? existing?.isDefault ?? false : def === 1;
  const rules = 'rules' in input && input.rules !== null ? rulesFromApi(input.rules) : existing?.rules ?? [];
  return { partnerId, name, systemName, description, isDefault, rules };
}

const PROFILE = { type: 'object', kalturaType: 'KalturaAccessControlProfile', required: true } as const;
const ID = { type: 'int', required: true } as const;

export const accessControlProfileService: ServiceModule = {
  name: 'accessControlProfile',
  description: 'Access-control profiles: the rules that decide who may play, download and see an entry (admin KS)',
  actions: {
    add: {
      description: 'Adds a profile (name 1-128 characters, unique systemName, rules)',
      params: { accessControlProfile: PROFILE },
      returns: 'KalturaAccessControlProfile',
      throws: ['SYSTEM_NAME_ALREADY_EXISTS', 'INVALID_OBJECT_TYPE', 'INVALID_ENUM_VALUE'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const id = await ctx.catalog.addAccessControlProfile(await profileInput(ctx, a.accessControlProfile, null), ctx.now);
        return accessControlProfileObject((await ctx.catalog.getAccessControlProfile(id))!);
      },
    },
    get: {
      params: { id: ID },
      returns: 'KalturaAccessControlProfile',
      throws: ['ACCESS_CONTROL_ID_NOT_FOUND'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        return accessControlProfileObject(await partnerProfile(ctx, a.id));
      },
    },
    update: {
      description: 'Changes a profile; the rules given replace all of its rules, and every entry behind it follows at once',
      params: { id: ID, accessControlProfile: PROFILE },
      returns: 'KalturaAccessControlProfile',
      throws: ['ACCESS_CONTROL_ID_NOT_FOUND', 'SYSTEM_NAME_ALREADY_EXISTS'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const p = await partnerProfile(ctx, a.id);
        await ctx.catalog.updateAccessControlProfile({ ...p, ...await profileInput(ctx, a.accessControlProfile, p) }, ctx.now);
        return accessControlProfileObject((await ctx.catalog.getAccessControlProfile(p.id))!);
      },
    },
    delete: {
      description: "Deletes a profile; the partner's default cannot be, and the entries behind it move to the default (refused when the partner has none)",
      params: { id: ID },
      returns: 'void',
      throws: ['ACCESS_CONTROL_ID_NOT_FOUND', 'CANNOT_DELETE_DEFAULT_ACCESS_CONTROL', 'CANNOT_TRANSFER_ENTRIES_TO_ANOTHER_ACCESS_CONTROL_OBJECT'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const p = await partnerProfile(ctx, a.id);
        if (p.isDefault) throw new ApiError('CANNOT_DELETE_DEFAULT_ACCESS_CONTROL');
        const fallback = (await ctx.catalog.listAccessControlProfiles(p.partnerId)).find((x) => x.isDefault && x.id !== p.id) ?? null;
        if (await ctx.catalog.countEntriesWithAccessControlProfile(p.id) > 0 && !fallback) {
          throw new ApiError('CANNOT_TRANSFER_ENTRIES_TO_ANOTHER_ACCESS_CONTROL_OBJECT');
        }
        await ctx.catalog.deleteAccessControlProfile(p.id, fallback?.id ?? null, ctx.now);
        return null;
      },
    },
    list: {
      description: 'Lists the partner\'s profiles (filters: idEqual, idIn, systemNameEqual, systemNameIn)',
      params: listArgs('KalturaAccessControlProfileFilter'),
      returns: 'KalturaAccessControlProfileListResponse',
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const ids = equalAndIn(objInt(a.filter, 'idEqual'), objList(a.filter, 'idIn')?.map(Number));
        const names = equalAndIn(objString(a.filter, 'systemNameEqual'), objList(a.filter, 'systemNameIn'));
        const all = (await ctx.catalog.listAccessControlProfiles(callPartnerId(ctx)))
          .filter((p) => (!ids || ids.includes(p.id)) && (!names || names.includes(p.systemName)));
        return listResponse('KalturaAccessControlProfileListResponse', pageOf(all, a.pager).map(accessControlProfileObject), all.length);
      },
    },
  },
  schema: {
    classes: [
      { name: 'KalturaAccessControlProfile', base: 'KalturaObjectBase', props: 'id:int,partnerId:int,name:string,systemName:string,description:string,createdAt:time,updatedAt:time,isDefault:KalturaNullableBoolean,rules:array:KalturaRule' },
      { name: 'KalturaAccessControlProfileListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaAccessControlProfile' },
      ...RULE_SCHEMA.classes,
    ],
    enums: RULE_SCHEMA.enums,
  },
};
