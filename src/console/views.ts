// What the console shows of a partner's catalog: entries with their flavors, captions and access
// rules, and the delivery profiles a URL may name. Secrets are never part of a view.
import type { Catalog } from '../catalog/catalog.js';
import type { AccessRule, Condition, Partner } from '../catalog/types.js';

export function partnerView(catalog: Catalog, partner: Partner) {
  const params = new Map(catalog.listFlavorParams().map((p) => [p.id, p]));
  const { objects } = catalog.listEntries({ partnerId: partner.id, includeDeleted: true }, 500, 1);
  const entries = objects
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((e) => {
      const acp = e.accessControlProfileId !== null ? catalog.getAccessControlProfile(e.accessControlProfileId) : undefined;
      return {
        id: e.id, name: e.name, type: e.type, mediaType: e.mediaType, status: e.status, duration: e.duration,
        moderationStatus: e.moderationStatus, startDate: e.startDate, endDate: e.endDate,
        accessControl: acp ? { id: acp.id, name: acp.name, rules: acp.rules.map(publicRule) } : null,
        flavors: catalog.listFlavors(e.id).map((f) => ({
          id: f.id, flavorParamsId: f.flavorParamsId, paramsName: params.get(f.flavorParamsId)?.name ?? '',
          fileExt: f.fileExt, containerFormat: f.containerFormat, codecs: f.codecs, width: f.width, height: f.height,
          bitrate: f.bitrate, durationMs: f.durationMs, language: f.language, label: f.label, tags: f.tags,
          status: f.status, isOriginal: f.isOriginal, size: f.size,
        })),
        captions: catalog.listCaptions(e.id).map((c) => ({ id: c.id, language: c.language, label: c.label, format: c.format, isDefault: c.isDefault })),
      };
    });
  const deliveryProfiles = catalog.listDeliveryProfiles()
    .filter((d) => d.partnerId === 0 || d.partnerId === partner.id)
    .map((d) => ({ id: d.id, name: d.name, type: d.type, streamerType: d.streamerType, url: d.url, isDefault: d.isDefault, tokenizer: d.tokenizer?.type ?? null }));
  return {
    partner: { id: partner.id, name: partner.name, enforceEncryption: partner.enforceEncryption, status: partner.status },
    entries,
    deliveryProfiles,
  };
}

/** An access rule as the console may show it: hash-condition secrets replaced. */
export function publicRule(rule: AccessRule): AccessRule {
  const clean = (c: Condition): Condition =>
    c.type === 'hash' ? { ...c, hashSecret: '[redacted]' } : c.type === 'or' ? { ...c, conditions: c.conditions.map(clean) } : c;
  return { ...rule, conditions: rule.conditions?.map(clean) };
}
