// The KS tokenizer: mints a short v2 USER KS for the request's KS user,
// limited to this entry and to this URL (urirestrict), optionally to the client IP, signed with
// `key` (which must be the partner's admin secret for kdeliver or Kaltura to accept it).
import type { TokenizerConfig } from '../../catalog/types.js';
import { DeliveryError } from '../../errors.js';
import { generateKs, parseKs, verifyKs } from '../../access/ks.js';
import { appendQuery, bool, requireKey, splitQuery, str, windowOf, type TokenizeContext } from './common.js';

/** Without the caller's verified user, the request KS is read with `key`, the partner's admin secret. */
function userOf(ctx: TokenizeContext, key: string): string | null {
  if (!ctx.ks) return null;
  try {
    return verifyKs(parseKs(ctx.ks), { id: ctx.partnerId, adminSecret: key }, { now: ctx.now }).userId || null;
  } catch {
    return null;
  }
}

export function ksTokenizer(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const user = ctx.ksUserId ?? userOf(ctx, key);
  if (!ctx.ks || !user) throw new DeliveryError('MISSING_PARAMETER', ', ks user');
  const extra = str(cfg, 'additionalUris');
  return paths.map((p) => {
    // the URI the player will request (the path is from the host root), up to the first comma
    const uri = splitQuery(p)[0].split(',')[0];
    const privileges = [
      `disableentitlementforentry:${ctx.entryId}`, `sview:${ctx.entryId}`,
      `urirestrict:${uri}*${extra ? `|${extra}` : ''}`,
      ...(bool(cfg, 'limitIpAddress') ? [`iprestrict:${ctx.clientIp}`] : []),
    ].join(',');
    const ks = generateKs({ partnerId: ctx.partnerId, secret: key, type: 0, userId: user, expiry: windowOf(cfg), privileges, version: 2, now: ctx.now });
    if (bool(cfg, 'usePath') && p.includes('/name/')) return p.replace('/name/', `/ks/${ks}/name/`);
    return appendQuery(p, `ks=${ks}`);
  });
}
