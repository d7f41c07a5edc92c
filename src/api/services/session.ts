// session: start (secret → KS), startWidgetSession (anonymous player sessions), get, end.
// Every KS is signed with the partner's primary admin secret, but an ADMIN session started with
// an additional admin secret, which that one signs (sessionSigningSecret in src/access/ks.ts); the
// user secret only opens USER sessions.
import { KsError, generateKs, ksRevocationKeys, sessionSigningSecret } from '../../access/ks.js';
import { PartnerStatus } from '../../catalog/types.js';
import { ApiError } from '../errors.js';
import { readApiSession } from '../session.js';
import { noteIssuedKs } from '../answer-cache.js';
import type { ServiceModule } from '../types.js';

const SESSION_TYPES = [0, 2] as const;
const DEFAULT_EXPIRY = 86400;
/** Upper bound of a session's lifetime (ten years), so expiry arithmetic stays sane. */
const MAX_EXPIRY = 10 * 365 * 86400;

const clampExpiry = (v: number | null): number => (v === null || v <= 0 ? DEFAULT_EXPIRY : Math.min(v, MAX_EXPIRY));

/**
 * Widget sessions handed out again: every anonymous player of a partner asks for one (the first
 * sub-request of its first call), and they are all the same session (user 0, `view:*,widget:1`)
 * but for their creation second. So one is made per partner and asked lifetime and handed out
 * for at most a tenth of that lifetime and ten minutes (Kaltura's own cache hands out its
 * startWidgetSession answers for ten minutes), and never past a catalog change (a revocation, a
 * new secret: its generation). Per catalog, so servers sharing a process never share sessions.
 */
const WIDGET_KS_REUSE_SECONDS = 600;
const MAX_KEPT_WIDGET_KS = 1000;
interface KeptWidgetKs { ks: string; secret: string; createdAt: number }
// kept: the sessions made at catalog generation `generation` (all dropped when it moves)
interface WidgetSessions { kept: Map<string, KeptWidgetKs>; generation: number; hits: number; misses: number }
const widgetSessions = new WeakMap<object, WidgetSessions>();

/** A catalog's widget sessions handed out again: how many kept, and how often one was (not) reused since start (/metrics). */
export function widgetSessionStats(catalog: object): { entries: number; hits: number; misses: number } {
  const w = widgetSessions.get(catalog);
  return { entries: w?.kept.size ?? 0, hits: w?.hits ?? 0, misses: w?.misses ?? 0 };
}

function widgetKs(catalog: object & { generation(): number }, partner: { id: number; adminSecret: string }, expiry: number, now: number): { ks: string; validUntil: number } {
  const generation = catalog.generation();
  let w = widgetSessions.get(catalog);
  if (!w) widgetSessions.set(catalog, (w = { kept: new Map(), generation, hits: 0, misses: 0 }));
  // a catalog change leaves the kept sessions unusable: they all go at once
  if (w.generation !== generation) {
    w.kept.clear();
    w.generation = generation;
  }
  const key = `${partner.id} ${expiry}`;
  const k = w.kept.get(key);
  const reuseFor = Math.min(WIDGET_KS_REUSE_SECONDS, Math.floor(expiry / 10));
  if (k && k.secret === partner.adminSecret && now >= k.createdAt && now - k.createdAt < reuseFor) {
    w.hits++;
    return { ks: k.ks, validUntil: k.createdAt + expiry };
  }
  w.misses++;
  const ks = generateKs({ partnerId: partner.id, secret: partner.adminSecret, type: 0, userId: '0', expiry, privileges: 'view:*,widget:1', version: 2, now });
  if (w.kept.size >= MAX_KEPT_WIDGET_KS) w.kept.clear();
  w.kept.set(key, { ks, secret: partner.adminSecret, createdAt: now });
  return { ks, validUntil: now + expiry };
}

export const sessionService: ServiceModule = {
  name: 'session',
  description: 'Kaltura Sessions (KS): start, widget sessions, inspection and revocation',
  actions: {
    start: {
      description: 'Starts a session with the partner admin secret (USER or ADMIN) or user secret (USER only)',
      auth: 'none',
      params: {
        secret: { type: 'string', required: true, maxLength: 1024 },
        userId: { type: 'string', default: '', maxLength: 100 },
        type: { type: 'int', kalturaType: 'KalturaSessionType', enumValues: SESSION_TYPES, default: 0 },
        partnerId: { type: 'int' },
        expiry: { type: 'int', default: DEFAULT_EXPIRY },
        privileges: { type: 'string', maxLength: 4096 },
      },
      returns: 'string',
      throws: ['START_SESSION_ERROR', 'INVALID_PARTNER_ID'],
      async handler(ctx, a) {
        const pid: number | null = a.partnerId ?? ctx.partnerId;
        if (pid === null) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: 'partnerId' });
        const partner = await ctx.catalog.getPartner(pid);
        if (!partner || partner.status !== PartnerStatus.ACTIVE) throw new ApiError('START_SESSION_ERROR', { PID: pid });
        const secret = sessionSigningSecret(partner, a.secret, a.type);
        if (secret === null) throw new ApiError('START_SESSION_ERROR', { PID: pid });
        try {
          return generateKs({
            partnerId: pid, secret, type: a.type, userId: a.userId ?? '', expiry: clampExpiry(a.expiry),
            privileges: a.privileges ?? '', version: 2, now: ctx.now,
          });
        } catch (e) {
          if (e instanceof KsError) throw new ApiError('START_SESSION_ERROR', { PID: pid });
          throw e;
        }
      },
    },
    startWidgetSession: {
      description: 'Starts an anonymous USER session for a widget ("_{partnerId}")',
      auth: 'none',
      params: {
        widgetId: { type: 'string', required: true, maxLength: 64 },
        expiry: { type: 'int', default: DEFAULT_EXPIRY },
      },
      returns: 'KalturaStartWidgetSessionResponse',
      throws: ['INVALID_WIDGET_ID'],
      async handler(ctx, a) {
        const m = /^_(\d{1,10})$/.exec(a.widgetId);
        const partner = m ? await ctx.catalog.getPartner(Number(m[1])) : undefined;
        if (!partner || partner.status !== PartnerStatus.ACTIVE) throw new ApiError('INVALID_WIDGET_ID', { WIDGET_ID: a.widgetId });
        const { ks, validUntil } = widgetKs(ctx.catalog, partner, clampExpiry(a.expiry), ctx.now);
        noteIssuedKs(ctx.reads, validUntil);
        return { objectType: 'KalturaStartWidgetSessionResponse', partnerId: partner.id, ks, userId: '0' };
      },
    },
    get: {
      description: 'Describes a session (the given one, or the calling one)',
      auth: 'ks',
      params: { session: { type: 'string', maxLength: 16384 } },
      returns: 'KalturaSessionInfo',
      throws: ['INVALID_KS'],
      async handler(ctx, a) {
        const ks = a.session ? await readApiSession(ctx.catalog, a.session, { now: ctx.now, clientIp: ctx.http.clientIp, rawUrl: ctx.http.rawUrl }, false) : ctx.ks!;
        // a session of another partner is not this caller's to inspect, admin or not
        if (ks.partnerId !== ctx.partnerId) throw new ApiError('INVALID_KS', { KSID: 'INVALID_PARTNER', ERR_CODE: -2, ERR_DESC: 'INVALID_PARTNER' });
        return {
          objectType: 'KalturaSessionInfo', ks: ks.raw, sessionType: ks.type, partnerId: ks.partnerId, userId: ks.userId,
          expiry: ks.expiry, privileges: ks.privilegesString,
        };
      },
    },
    end: {
      description: 'Ends (revokes) the calling session',
      auth: 'ks',
      params: {},
      returns: 'null',
      async handler(ctx) {
        const ks = ctx.ks!;
        // the session-id key too, when there is one, so every KS of that session ends
        for (const key of ksRevocationKeys(ks)) await ctx.catalog.revokeSession(key, ks.expiry);
        return null;
      },
    },
  },
};
