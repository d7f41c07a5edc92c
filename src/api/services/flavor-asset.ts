// flavorAsset and flavorParams: the renditions of an entry, their encoding settings, and a
// download URL per flavor (through playManifest, so the DOWNLOAD access rules apply).
import { AssetStatus, type FlavorAsset } from '../../catalog/types.js';
import { ID_ARG, listArgs, objInt, objList, objString, pageOf } from '../args.js';
import { ApiError } from '../errors.js';
import { partnerAssets, partnerEntry, partnerFlavor } from '../lookup.js';
import { flavorAssetObject, flavorParamsObject, listResponse } from '../objects.js';
import type { Params } from '../params.js';
import { flavorDownloadUrl } from '../playback-context.js';
import type { ApiContext, ApiObject, ServiceModule } from '../types.js';
import { defineApiErrors } from '../errors.js';
import { requireAdminKs } from '../permissions.js';
import { removeEntryFile } from './thumb-asset.js';
import { IngestError, queueReconversion } from '../../ingest/pipeline.js';
import { nudgeIngestWorkers } from '../../ingest/queue.js';

defineApiErrors({
  FLAVOR_ASSET_RECONVERT_ORIGINAL: 'Cannot reconvert original flavor asset',
  ORIGINAL_FLAVOR_ASSET_IS_MISSING: 'The original flavor asset is missing',
  STORAGE_PROFILE_ID_NOT_FOUND: 'Storage profile id %ID% not found',
  FLAVOR_ASSET_IS_NOT_READY: 'The flavor asset is not ready',
});

/** LIKE '%value%' on a comma-joined tags string, as Kaltura matches tagsLike (case-insensitive). */
const tagsContain = (tags: readonly string[], value: string): boolean => tags.join(',').toLowerCase().includes(value.toLowerCase());

/** The partner's flavors a KalturaFlavorAssetFilter names (src/api/lookup.ts partnerAssets), narrowed by status, flavor params and tags. */
async function filteredFlavors(ctx: ApiContext, f: Params | null): Promise<FlavorAsset[]> {
  const flavors = await partnerAssets(ctx, f, (id) => ctx.catalog.listFlavors(id), (id) => ctx.catalog.getFlavor(id));
  const statusEqual = objInt(f, 'statusEqual', 'KalturaFlavorAssetStatus');
  const statusIn = objList(f, 'statusIn')?.map(Number);
  const paramsEqual = objInt(f, 'flavorParamsIdEqual');
  const paramsIn = objList(f, 'flavorParamsIdIn')?.map(Number);
  const tagsLike = objString(f, 'tagsLike');
  return flavors.filter((x) => (statusEqual === undefined || x.status === statusEqual)
    && (statusIn === undefined || statusIn.includes(x.status))
    && (paramsEqual === undefined || x.flavorParamsId === paramsEqual)
    && (paramsIn === undefined || paramsIn.includes(x.flavorParamsId))
    && (tagsLike === undefined || tagsContain(x.tags, tagsLike)));
}

export const flavorAssetService: ServiceModule = {
  name: 'flavorAsset',
  description: 'Flavor assets: the renditions of an entry',
  actions: {
    get: {
      params: { id: ID_ARG },
      returns: 'KalturaFlavorAsset',
      throws: ['FLAVOR_ASSET_ID_NOT_FOUND'],
      handler: async (ctx, a) => flavorAssetObject(await partnerFlavor(ctx, a.id)),
    },
    list: {
      description: 'Lists flavor assets (filters: entryIdEqual, entryIdIn, idEqual, idIn, statusEqual, statusIn, flavorParamsIdEqual, flavorParamsIdIn, tagsLike)',
      params: listArgs('KalturaFlavorAssetFilter'),
      returns: 'KalturaFlavorAssetListResponse',
      async handler(ctx, a) {
        const all = await filteredFlavors(ctx, a.filter);
        return listResponse('KalturaFlavorAssetListResponse', pageOf(all, a.pager).map(flavorAssetObject), all.length);
      },
    },
    getByEntryId: {
      description: 'Every flavor asset of an entry',
      params: { entryId: ID_ARG },
      returns: 'array:KalturaFlavorAsset',
      throws: ['ENTRY_ID_NOT_FOUND'],
      handler: async (ctx, a) => (await ctx.catalog.listFlavors((await partnerEntry(ctx, a.entryId)).id)).filter((f) => f.status !== AssetStatus.DELETED).map(flavorAssetObject),
    },
    getWebPlayableByEntryId: {
      description: 'The READY flavors of an entry tagged "web"',
      params: { entryId: ID_ARG },
      returns: 'array:KalturaFlavorAsset',
      throws: ['ENTRY_ID_NOT_FOUND', 'NO_FLAVORS_FOUND'],
      async handler(ctx, a) {
        const e = await partnerEntry(ctx, a.entryId);
        const web = (await ctx.catalog.listFlavors(e.id)).filter((f) => f.status === AssetStatus.READY && f.tags.includes('web'));
        if (web.length === 0) throw new ApiError('NO_FLAVORS_FOUND');
        return web.map(flavorAssetObject);
      },
    },
    getFlavorAssetsWithParams: {
      description: 'Each flavor asset of an entry with its flavor params',
      params: { entryId: ID_ARG },
      returns: 'array:KalturaFlavorAssetWithParams',
      throws: ['ENTRY_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const e = await partnerEntry(ctx, a.entryId);
        const out: ApiObject[] = [];
        for (const f of await ctx.catalog.listFlavors(e.id)) {
          if (f.status === AssetStatus.DELETED) continue;
          const p = await ctx.catalog.getFlavorParams(f.flavorParamsId);
          out.push({
            objectType: 'KalturaFlavorAssetWithParams', flavorAsset: flavorAssetObject(f),
            flavorParams: p ? flavorParamsObject(p) : undefined, entryId: e.id,
          });
        }
        return out;
      },
    },
    delete: {
      description: 'Deletes a flavor asset and its file; playManifest stops offering it at once',
      params: { id: ID_ARG },
      returns: 'void',
      throws: ['FLAVOR_ASSET_ID_NOT_FOUND'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const f = await partnerFlavor(ctx, a.id);
        const entry = await partnerEntry(ctx, f.entryId);
        await ctx.catalog.deleteFlavor(f.id);
        // another flavor (a library's) may share the file: it stays while the catalog names it
        const shared = (await ctx.catalog.listFlavors(entry.id)).some((x) => x.filePath === f.filePath);
        if (!shared) await removeEntryFile(ctx, entry, f.filePath);
        return null;
      },
    },
    reconvert: {
      description: "Queues the entry's conversion ladder again from its source flavor (the background ingest queue); the entry keeps playing its current flavors until the new ones replace them",
      writesMedia: true,
      params: { id: ID_ARG },
      returns: 'void',
      throws: ['FLAVOR_ASSET_ID_NOT_FOUND', 'FLAVOR_ASSET_RECONVERT_ORIGINAL', 'ORIGINAL_FLAVOR_ASSET_IS_MISSING', 'INGEST_FAILED'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const f = await partnerFlavor(ctx, a.id);
        if (f.isOriginal) throw new ApiError('FLAVOR_ASSET_RECONVERT_ORIGINAL');
        const entry = await partnerEntry(ctx, f.entryId);
        if (!(await ctx.catalog.listFlavors(entry.id)).some((x) => x.isOriginal && x.status === AssetStatus.READY)) throw new ApiError('ORIGINAL_FLAVOR_ASSET_IS_MISSING');
        try {
          await queueReconversion({ catalog: ctx.catalog, dataDir: ctx.config.dataDir, mediaRoot: ctx.config.mediaRoot, media: ctx.media?.writer, now: () => ctx.now }, entry.id);
        } catch (e) {
          if (e instanceof IngestError) throw new ApiError('INGEST_FAILED', { ENTRY_ID: entry.id, REASON: e.message });
          throw e;
        }
        nudgeIngestWorkers();
        return null;
      },
    },
    getUrl: {
      description: 'A download URL of the flavor (a playManifest format/download URL; with options[fileName], the download action named so); the DOWNLOAD access rules apply, with options[referrer] as the referrer',
      params: {
        id: ID_ARG,
        storageId: { type: 'int' },
        forceProxy: { type: 'bool', default: false },
        options: { type: 'object', kalturaType: 'KalturaFlavorAssetUrlOptions' },
      },
      returns: 'string',
      throws: ['FLAVOR_ASSET_ID_NOT_FOUND', 'ENTRY_ID_NOT_FOUND', 'ACCESS_CONTROL_RESTRICTED', 'RESOURCE_NOT_READY', 'STORAGE_PROFILE_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const f = await partnerFlavor(ctx, a.id);
        if (f.status !== AssetStatus.READY) throw new ApiError('RESOURCE_NOT_READY', { ID: f.id });
        const e = await partnerEntry(ctx, f.entryId);
        // storageId 0 (Kaltura's own data centre) asks for no storage, as playManifest reads it
        if (a.storageId) {
          const storage = await ctx.catalog.getStorageProfile(a.storageId);
          if (!storage || storage.partnerId !== e.partnerId || !storage.active) throw new ApiError('STORAGE_PROFILE_ID_NOT_FOUND', { ID: a.storageId });
          if (!(await ctx.catalog.listRemoteFiles(f.id)).some((r) => r.storageProfileId === storage.id)) throw new ApiError('FLAVOR_ASSET_ID_NOT_FOUND', { ID: f.id });
        }
        // forceProxy is accepted without effect: the download is always served by this server (README)
        return await flavorDownloadUrl(ctx, e, f, {
          fileName: objString(a.options, 'fileName') || undefined,
          referrer: objString(a.options, 'referrer') || undefined,
          storageId: a.storageId || undefined,
        });
      },
    },
    getDownloadUrl: {
      // Kaltura's older action (deprecated there for getUrl), which the PHP5 client and plugins
      // built on it still call: the URL getUrl gives without options, after the same DOWNLOAD check
      description: 'A download URL of the flavor, as getUrl gives it without options (deprecated: use getUrl); useCdn is accepted and has no effect',
      params: { id: ID_ARG, useCdn: { type: 'bool', default: false } },
      returns: 'string',
      throws: ['FLAVOR_ASSET_ID_NOT_FOUND', 'FLAVOR_ASSET_IS_NOT_READY', 'ENTRY_ID_NOT_FOUND', 'ACCESS_CONTROL_RESTRICTED'],
      async handler(ctx, a) {
        const f = await partnerFlavor(ctx, a.id);
        if (f.status !== AssetStatus.READY) throw new ApiError('FLAVOR_ASSET_IS_NOT_READY');
        return await flavorDownloadUrl(ctx, await partnerEntry(ctx, f.entryId), f);
      },
    },
  },
};

export const flavorParamsService: ServiceModule = {
  name: 'flavorParams',
  description: 'Flavor params: the system-wide rendition settings',
  actions: {
    get: {
      params: { id: { type: 'int', required: true } },
      returns: 'KalturaFlavorParams',
      throws: ['FLAVOR_PARAMS_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const p = await ctx.catalog.getFlavorParams(a.id);
        if (!p) throw new ApiError('FLAVOR_PARAMS_ID_NOT_FOUND', { ID: a.id });
        return flavorParamsObject(p);
      },
    },
    list: {
      description: 'Lists flavor params (filters: idEqual, idIn, tagsMultiLikeOr)',
      params: listArgs('KalturaFlavorParamsFilter'),
      returns: 'KalturaFlavorParamsListResponse',
      async handler(ctx, a) {
        const idEqual = objInt(a.filter, 'idEqual');
        const idIn = objList(a.filter, 'idIn')?.map(Number);
        const tags = objList(a.filter, 'tagsMultiLikeOr');
        const all = (await ctx.catalog.listFlavorParams()).filter((p) => (idEqual === undefined || p.id === idEqual)
          && (idIn === undefined || idIn.includes(p.id))
          && (tags === undefined || tags.some((t) => tagsContain(p.tags, t))));
        return listResponse('KalturaFlavorParamsListResponse', pageOf(all, a.pager).map(flavorParamsObject), all.length);
      },
    },
  },
};
