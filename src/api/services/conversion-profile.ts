// conversionProfile: the ladders a partner's uploads are transcoded into (src/ingest).
import { listArgs, objInt, objList, objString, pageOf } from '../args.js';
import { ApiError } from '../errors.js';
import { callPartnerId } from '../lookup.js';
import { listResponse } from '../objects.js';
import type { ApiContext, ApiObject, ServiceModule } from '../types.js';
import type { ConversionProfile } from '../../catalog/types.js';

function defaultProfileId(ctx: ApiContext, profiles: ConversionProfile[]): number | null {
  return ctx.partner?.defaultConversionProfileId ?? profiles.find((p) => p.isDefault)?.id ?? null;
}

/** Every profile is an enabled (status "2") media (type 1) profile. */
function profileObject(p: ConversionProfile, isDefault: boolean): ApiObject {
  return {
    objectType: 'KalturaConversionProfile',
    id: p.id, partnerId: p.partnerId, status: '2', type: 1, name: p.name, systemName: p.systemName, tags: '',
    description: '', isDefault: isDefault ? 1 : 0, flavorParamsIds: p.flavorParamsIds.join(','), createdAt: p.createdAt,
  };
}

export const conversionProfileService: ServiceModule = {
  name: 'conversionProfile',
  description: 'Transcoding ladders (the flavor params an upload is converted into)',
  actions: {
    list: {
      description: 'Lists the partner\'s conversion profiles (filters: idEqual, idIn, systemNameEqual, systemNameIn, typeEqual, statusEqual, statusIn)',
      params: listArgs('KalturaConversionProfileFilter'),
      returns: 'KalturaConversionProfileListResponse',
      async handler(ctx, a) {
        const profiles = await ctx.catalog.listConversionProfiles(callPartnerId(ctx));
        const dflt = defaultProfileId(ctx, profiles);
        const f = a.filter;
        const idEqual = objInt(f, 'idEqual');
        const idIn = objList(f, 'idIn')?.map(Number);
        const nameEqual = objString(f, 'systemNameEqual');
        const nameIn = objList(f, 'systemNameIn');
        const type = objString(f, 'typeEqual');
        const status = objString(f, 'statusEqual');
        const statusIn = objList(f, 'statusIn');
        const all = profiles.map((p) => profileObject(p, p.id === dflt)).filter((o) => (idEqual === undefined || o.id === idEqual)
          && (idIn === undefined || idIn.includes(o.id as number))
          && (nameEqual === undefined || o.systemName === nameEqual)
          && (nameIn === undefined || nameIn.includes(o.systemName as string))
          && (type === undefined || String(o.type) === type)
          && (status === undefined || o.status === status)
          && (statusIn === undefined || statusIn.includes(o.status as string)));
        return listResponse('KalturaConversionProfileListResponse', pageOf(all, a.pager), all.length);
      },
    },
    get: {
      params: { id: { type: 'int', required: true } },
      returns: 'KalturaConversionProfile',
      throws: ['CONVERSION_PROFILE_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const profiles = await ctx.catalog.listConversionProfiles(callPartnerId(ctx));
        const p = profiles.find((x) => x.id === a.id);
        if (!p) throw new ApiError('CONVERSION_PROFILE_ID_NOT_FOUND', { ID: a.id });
        return profileObject(p, p.id === defaultProfileId(ctx, profiles));
      },
    },
    getDefault: {
      params: { type: { type: 'int', default: 1 } },
      returns: 'KalturaConversionProfile',
      throws: ['CONVERSION_PROFILE_ID_NOT_FOUND'],
      async handler(ctx) {
        const profiles = await ctx.catalog.listConversionProfiles(callPartnerId(ctx));
        const id = defaultProfileId(ctx, profiles);
        const p = profiles.find((x) => x.id === id);
        if (!p) throw new ApiError('CONVERSION_PROFILE_ID_NOT_FOUND', { ID: String(id ?? '') });
        return profileObject(p, true);
      },
    },
  },
};
