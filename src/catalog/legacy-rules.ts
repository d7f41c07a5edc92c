// Kaltura's legacy restrictions (site, country, IP, user agent, session, preview, limit flavors)
// mapped onto rules when a library is imported (catalog/library.ts), as the reference does when a
// profile is saved: every restriction becomes a rule for the PLAY and DOWNLOAD contexts, an
// allow-list sets `not` on its condition, and a session restriction given together with a preview
// becomes the preview rule.
import type { AccessRule, Condition } from './types.js';

export class RestrictionError extends Error {}

type Restriction = Record<string, unknown> & { type?: unknown };

const list = (v: unknown): string[] =>
  (typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v.map(String) : []).map((s) => s.trim()).filter(Boolean);

const isAllow = (r: Restriction): boolean => {
  const t = r.listType ?? r.siteRestrictionType ?? r.countryRestrictionType ?? r.ipAddressRestrictionType ?? r.userAgentRestrictionType;
  // Kaltura: RESTRICT_LIST = 0, ALLOW_LIST = 1
  return t === 'allow' || t === 1 || t === '1';
};

const MESSAGES: Record<string, [string, string]> = {
  site: ['SITE_RESTRICTED', 'Un authorized domain'],
  country: ['COUNTRY_RESTRICTED', 'Un authorized country'],
  ip: ['IP_RESTRICTED', 'Un authorized IP address'],
  userAgent: ['USER_AGENT_RESTRICTED', 'Un authorized user agent'],
  session: ['SESSION_RESTRICTED', 'No KS where KS is required'],
};

export function restrictionsToRules(restrictions: unknown[]): AccessRule[] {
  const rs = restrictions.map((r, i) => {
    if (!r || typeof r !== 'object') throw new RestrictionError(`restrictions[${i}]: must be an object`);
    return r as Restriction;
  });
  const preview = rs.find((r) => r.type === 'preview');
  const rules: AccessRule[] = [];
  const contexts: AccessRule['contexts'] = ['PLAY', 'DOWNLOAD'];
  const coded = (kind: string, conditions: Condition[], actions: AccessRule['actions']): AccessRule => {
    const [code, message] = MESSAGES[kind] ?? ['', ''];
    return { code, message, contexts, conditions, actions };
  };
  rs.forEach((r, i) => {
    const where = `restrictions[${i}]`;
    switch (r.type) {
      case 'site':
        rules.push(coded('site', [{ type: 'site', not: isAllow(r), values: list(r.siteList) }], [{ type: 'block' }]));
        break;
      case 'country':
        rules.push(coded('country', [{ type: 'country', not: isAllow(r), values: list(r.countryList) }], [{ type: 'block' }]));
        break;
      case 'ip':
        rules.push(coded('ip', [{ type: 'ip', not: isAllow(r), values: list(r.ipAddressList) }], [{ type: 'block' }]));
        break;
      case 'userAgent':
        rules.push(coded('userAgent', [{ type: 'userAgent', not: isAllow(r), values: list(r.userAgentRegexList) }], [{ type: 'block' }]));
        break;
      case 'session': {
        const privileges = r.ksRestrictPrivilege ? [String(r.ksRestrictPrivilege)] : ['sview', 'sviewplaylist'];
        const cond: Condition[] = [{ type: 'authenticated', not: true, privileges }];
        if (preview) {
          const limit = Number(preview.previewLength);
          if (!Number.isFinite(limit) || limit < 0) throw new RestrictionError(`${where}: previewLength must be a number of seconds`);
          rules.push({ code: 'PREVIEW', message: `Preview of ${limit} seconds without a KS`, contexts, conditions: cond, actions: [{ type: 'preview', limit }] });
        } else {
          rules.push(coded('session', cond, [{ type: 'block' }]));
        }
        break;
      }
      case 'preview':
        break; // folded into the session restriction above
      case 'limitFlavors': {
        const ids = list(r.flavorParamsIds).map(Number);
        if (ids.some((n) => !Number.isInteger(n))) throw new RestrictionError(`${where}: flavorParamsIds must be integers`);
        // Kaltura: a RESTRICT_LIST (the default) blocks the listed params
        rules.push({ contexts, actions: [{ type: 'limitFlavors', flavorParamsIds: ids, isBlockedList: !isAllow(r) }] });
        break;
      }
      case 'directory':
        break; // the reference maps it to no rule
      default:
        throw new RestrictionError(`${where}: unknown restriction type ${JSON.stringify(r.type)} (expected site, country, ip, userAgent, session, preview, limitFlavors)`);
    }
  });
  return rules;
}

/** Rules as stored: the profile's own rules followed by those of its legacy restrictions. */
export function normalizeAccessRules(rules: AccessRule[], restrictions: unknown[]): AccessRule[] {
  return [...rules, ...restrictionsToRules(restrictions)];
}
