// Which entries are delivered encrypted: those whose access-control profile carries the DRM
// plugin's DRM_POLICY action (drm.DRM_POLICY on the API, `drmPolicy` in the catalog), as Kaltura's
// DrmPlugin decides. The test is on the profile's rules whatever their conditions: a rule that does
// not match one request must not let that request fetch clear segments of an entry other
// requests get encrypted (Kaltura's playback context tests matched rules; its packager is told by
// the profile, as here).
import type { Catalog } from '../catalog/store.js';
import type { Entry, RuleAction } from '../catalog/types.js';
import { rulesOf } from '../access/entry-check.js';

export type DrmPolicyAction = Extract<RuleAction, { type: 'drmPolicy' }>;

/** The entry's DRM policy action, or null when it is delivered in the clear. */
export async function drmPolicyOf(catalog: Pick<Catalog, 'getAccessControlProfile'>, entry: Entry): Promise<DrmPolicyAction | null> {
  for (const rule of await rulesOf(catalog, entry)) {
    for (const a of Array.isArray(rule.actions) ? rule.actions : []) if (a.type === 'drmPolicy') return a;
  }
  return null;
}

export const isEncryptedEntry = async (catalog: Pick<Catalog, 'getAccessControlProfile'>, entry: Entry): Promise<boolean> => (await drmPolicyOf(catalog, entry)) !== null;
