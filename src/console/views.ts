// What the console shows of a partner's catalog: entries with their flavors, captions and access
// rules, and the delivery profiles a URL may name. Secrets are never part of a view.
import type { Catalog } from '../catalog/store.js';
import type { AccessRule, Condition, Partner } from '../catalog/types.js';

/** The most entries a console view lists (its page says how many there are in all). */
export const CONSOLE_ENTRIES = 500;

export async function partnerView(catalog: Catalog, partner: Partner) {
  const params = new Map((await catalog.listFlavorParams()).map((p) => [p.id, p]));
  const { objects, totalCount } = await catalog.listEntries({ partnerId: partner.id, includeDeleted: true }, CONSOLE_ENTRIES, 1);
  const entries = [];
  for (const e of objects.sort((a, b) => a.id.localeCompare(b.id))) {
    const acp = e.accessControlProfileId !== null ? await catalog.getAccessControlProfile(e.accessControlProfileId) : undefined;
    const flavors = await catalog.listFlavors(e.id);
    const captions = await catalog.listCaptions(e.id);
    entries.push({
      id: e.id, name: e.name, type: e.type, mediaType: e.mediaType, status: e.status, duration: e.duration,
      moderationStatus: e.moderationStatus, startDate: e.startDate, endDate: e.endDate,
      accessControl: acp ? { id: acp.id, name: acp.name, rules: acp.rules.map(publicRule) } : null,
      flavors: flavors.map((f) => ({
        id: f.id, flavorParamsId: f.flavorParamsId, paramsName: params.get(f.flavorParamsId)?.name ?? '',
        fileExt: f.fileExt, containerFormat: f.containerFormat, codecs: f.codecs, width: f.width, height: f.height,
        bitrate: f.bitrate, durationMs: f.durationMs, language: f.language, label: f.label, tags: f.tags,
        status: f.status, isOriginal: f.isOriginal, size: f.size, packagingRefusal: f.packagingRefusal, rotation: f.rotation,
      })),
      captions: captions.map((c) => ({ id: c.id, language: c.language, label: c.label, format: c.format, isDefault: c.isDefault })),
    });
  }
  const deliveryProfiles = (await catalog.listDeliveryProfiles())
    .filter((d) => d.partnerId === 0 || d.partnerId === partner.id)
    .map((d) => ({ id: d.id, name: d.name, type: d.type, streamerType: d.streamerType, url: d.url, isDefault: d.isDefault, tokenizer: d.tokenizer?.type ?? null }));
  return {
    partner: { id: partner.id, name: partner.name, enforceEncryption: partner.enforceEncryption, status: partner.status },
    entries,
    /** All the partner's entries, deleted included: more than `entries` when the view is cut. */
    entriesTotal: totalCount,
    deliveryProfiles,
  };
}

/** An access rule as the console may show it: hash-condition secrets replaced. */
export function publicRule(rule: AccessRule): AccessRule {
  const clean = (c: Condition): Condition =>
    c.type === 'hash' ? { ...c, hashSecret: '[redacted]' } : c.type === 'or' ? { ...c, conditions: c.conditions.map(clean) } : c;
  return { ...rule, conditions: rule.conditions?.map(clean) };
}
