// A partner's DRM profiles as a library file gives them (partners[].drmProfiles) and the catalog
// keeps them (partners.drm_profiles, migration 11): which ones can be stored. What they mean for
// delivery is src/drm/profiles.ts's.
import type { DrmProfile, DrmProvider } from './types.js';

export const DRM_PROVIDERS: readonly DrmProvider[] = ['widevine', 'playready', 'fairplay'];

const MAX_URL = 2048;
const MAX_CERTIFICATE = 16 * 1024;

const FAIRPLAY_FIELDS = ['publicCertificate', 'certificateUrl', 'keyUri'];

const isHttpUrl = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_URL && /^https?:\/\/[^\s"<>]+$/i.test(v);

// The {placeholders} each profile URL field has replaced when delivered (fillDrmUrl, used by
// src/drm/profiles.ts): one table, so a name is accepted here exactly when it is replaced there.
// Any other {name} (a wrong case, a name kdeliver does not know) would reach every player as
// written and fail every licence request, so it is refused at import, where the operator sees it.
// Braces are not URL characters, so a real URL never needs them literally.
export const DRM_URL_PLACEHOLDERS = {
  licenseServerUrl: ['partnerId', 'entryId', 'ks'],
  keyUri: ['entryId', 'keyId'],
  certificateUrl: [],
} as const satisfies Record<string, readonly string[]>;

type UrlField = keyof typeof DRM_URL_PLACEHOLDERS;
const PLACEHOLDER = /\{([^{}/?#&=]*)\}/g;

/** A profile URL with its field's placeholders replaced by `values` (one value per name of the table). */
export function fillDrmUrl<F extends UrlField>(field: F, template: string, values: Record<(typeof DRM_URL_PLACEHOLDERS)[F][number], string>): string {
  const known: readonly string[] = DRM_URL_PLACEHOLDERS[field];
  return template.replace(PLACEHOLDER, (whole, name: string) => (known.includes(name) ? (values as Record<string, string>)[name] : whole));
}

function placeholderProblem(w: string, field: UrlField, value: string): string | null {
  const known: readonly string[] = DRM_URL_PLACEHOLDERS[field];
  for (const [, name] of value.matchAll(PLACEHOLDER)) {
    if (known.includes(name)) continue;
    const names = known.map((n) => `{${n}}`);
    const which = names.length === 0 ? 'it is used as written' : `the placeholders are ${names.length > 2 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names.join(' and ')}`;
    return `${w}.${field}: {${name}} is not replaced (${which})`;
  }
  return null;
}

/** What is wrong with a library file's drmProfiles, or null when it can be stored. */
export function drmProfilesProblem(v: unknown): string | null {
  if (!Array.isArray(v)) return 'must be an array of { "provider", "licenseServerUrl" }';
  const seen = new Set<string>();
  for (const [i, p] of v.entries()) {
    const w = `[${i}]`;
    if (!p || typeof p !== 'object') return `${w} must be an object`;
    const o = p as Record<string, unknown>;
    if (!DRM_PROVIDERS.includes(o.provider as DrmProvider)) return `${w}.provider must be one of ${DRM_PROVIDERS.join(', ')}`;
    if (seen.has(o.provider as string)) return `${w}: one profile per provider (${o.provider} is listed twice)`;
    seen.add(o.provider as string);
    if (!isHttpUrl(o.licenseServerUrl)) {
      return `${w}.licenseServerUrl must be an http(s) URL without spaces, quotes or angle brackets (at most ${MAX_URL} characters)`;
    }
    if (o.provider === 'fairplay') {
      if (o.certificateUrl !== undefined && !isHttpUrl(o.certificateUrl)) {
        return `${w}.certificateUrl must be an http(s) URL without spaces, quotes or angle brackets (at most ${MAX_URL} characters)`;
      }
      // the player needs the certificate: given here, or fetched from certificateUrl
      if ((o.publicCertificate !== undefined || o.certificateUrl === undefined)
        && (typeof o.publicCertificate !== 'string' || o.publicCertificate.length === 0 || o.publicCertificate.length > MAX_CERTIFICATE || !/^[A-Za-z0-9+/]+={0,2}$/.test(o.publicCertificate))) {
        return `${w}.publicCertificate must be the FairPlay application certificate in base64 (the player needs it, unless certificateUrl names where to fetch it)`;
      }
      if (o.keyUri !== undefined && (typeof o.keyUri !== 'string' || !/^skd:\/\/[^\s"]{1,500}$/.test(o.keyUri))) return `${w}.keyUri must be an skd:// URI`;
    } else {
      for (const k of FAIRPLAY_FIELDS) if (o[k] !== undefined) return `${w}.${k} is a FairPlay setting`;
    }
    for (const k of Object.keys(o)) if (!['provider', 'licenseServerUrl', ...FAIRPLAY_FIELDS].includes(k)) return `${w}.${k} is not a DRM profile field`;
    for (const k of Object.keys(DRM_URL_PLACEHOLDERS) as UrlField[]) {
      const problem = typeof o[k] === 'string' ? placeholderProblem(w, k, o[k] as string) : null;
      if (problem) return problem;
    }
  }
  return null;
}

/** The stored form of valid profiles: only their own fields, in the providers' order. */
export const normalDrmProfiles = (v: DrmProfile[]): DrmProfile[] =>
  DRM_PROVIDERS.flatMap((name) => v.filter((p) => p.provider === name).map((p) => ({
    provider: p.provider, licenseServerUrl: p.licenseServerUrl,
    ...(p.publicCertificate ? { publicCertificate: p.publicCertificate } : {}),
    ...(p.certificateUrl ? { certificateUrl: p.certificateUrl } : {}),
    ...(p.keyUri ? { keyUri: p.keyUri } : {}),
  })));
