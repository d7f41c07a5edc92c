// One api_v3 call: find the service and action (case-insensitively), establish the session,
// check the arguments, run the handler. Errors come back as ApiError values, never thrown to
// the HTTP layer, so that a multirequest can keep going and every answer is HTTP 200.
import { readArgs } from './args.js';
import { ApiError, isApiError } from './errors.js';
import type { Params } from './params.js';
import { readApiSession } from './session.js';
import { noteSessionKs } from './answer-cache.js';
import type { ActionSpec, ApiContext, ApiEnv, ServiceModule, UploadedFile } from './types.js';
import type { Ks } from '../access/ks.js';
import { CatalogUnavailableError, dataDirWriteProblem } from '../catalog/errors.js';
import { isSourceError } from '../media/errors.js';
import { MediaWriteError } from '../storage/media-writer.js';

export interface Registry {
  services: Map<string, { module: ServiceModule; actions: Map<string, ActionSpec> }>;
}

/** Builds the lookup tables; a second module with the same service name is a programming error. */
export function createRegistry(modules: readonly ServiceModule[]): Registry {
  const services: Registry['services'] = new Map();
  for (const m of modules) {
    const key = m.name.toLowerCase();
    if (services.has(key)) throw new Error(`api_v3: service ${m.name} is registered twice`);
    const actions = new Map<string, ActionSpec>();
    for (const [name, spec] of Object.entries(m.actions)) actions.set(name.toLowerCase(), spec);
    services.set(key, { module: m, actions });
  }
  return { services };
}

function lookupAction(registry: Registry, service: unknown, action: unknown): { spec: ActionSpec; service: string; action: string } {
  if (typeof service !== 'string' || service === '') throw new ApiError('SERVICE_NOT_SPECIFIED');
  const svc = registry.services.get(service.toLowerCase());
  if (!svc) throw new ApiError('SERVICE_DOES_NOT_EXISTS', { SRV_NAME: service });
  if (typeof action !== 'string' || action === '') throw new ApiError('ACTION_NOT_SPECIFIED');
  const spec = svc.actions.get(action.toLowerCase());
  if (!spec) throw new ApiError('ACTION_DOES_NOT_EXISTS', { ACTION_NAME: action, SERVICE_NAME: service });
  return { spec, service: service.toLowerCase(), action: action.toLowerCase() };
}

function readPartnerId(v: unknown): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ApiError('INVALID_PARTNER_ID', { PID: String(v).slice(0, 64) });
  return n;
}

/** What a caller other than api_v3's front controller (API v2) may grant a call. */
export interface CallGrants extends Pick<ApiContext, 'userMayIngest'> {
  /**
   * The call is part of an action the caller has already counted against its KS's `actionslimit`
   * (an API v2 action counts once, however many calls it makes here).
   */
  actionCounted?: boolean;
}

/** Runs one call; returns its result or an ApiError (unexpected failures become INTERNAL_SERVERL_ERROR). */
export async function runCall(registry: Registry, env: ApiEnv, params: Params, files: UploadedFile[], onUnexpected?: (e: unknown) => void, grants: CallGrants = {}): Promise<unknown> {
  try {
    const { spec, service, action } = lookupAction(registry, params.service, params.action);
    // The actions that write media files are marked so in their definitions (ActionSpec.writesMedia),
    // which every name of their service reaches. With a read-only media store (an HTTP origin:
    // src/storage/write-refusal.ts) they are refused before anything is read or stored, the reason
    // naming the variable. Local disk and S3 take them, through the store's writer.
    if (env.media?.readOnly && spec.writesMedia) throw new ApiError('UPLOAD_ERROR', { REASON: env.media.readOnly });
    const auth = spec.auth ?? 'ks';
    const ksString = typeof params.ks === 'string' ? params.ks : '';
    let ks: Ks | null = null;
    // an empty ks is "no KS" (the player sends ks:"" at the top of its multirequest)
    if (ksString !== '' && auth !== 'none') {
      ks = await readApiSession(env.catalog, ksString, { now: env.now, clientIp: env.http.clientIp, rawUrl: env.http.rawUrl }, !grants.actionCounted);
      noteSessionKs(env.reads, ks);
    }
    if (auth === 'ks' && !ks) throw new ApiError('MISSING_KS');
    const partnerId = ks ? ks.partnerId : readPartnerId(params.partnerId ?? params.p);
    const partner = partnerId !== null ? (await env.catalog.getPartner(partnerId)) ?? null : null;
    if (partnerId !== null && !partner && !ks && auth !== 'none') throw new ApiError('INVALID_PARTNER_ID', { PID: partnerId });
    const args = readArgs(spec, params, files);
    const ctx: ApiContext = { ...env, ks, partnerId, partner, service, action, files, userMayIngest: grants.userMayIngest };
    return await spec.handler(ctx, args);
  } catch (e) {
    if (isApiError(e)) return e;
    onUnexpected?.(e);
    return unexpectedApiError(e);
  }
}

/** The unexpectedReason an INTERNAL_SERVERL_ERROR's message gives after its own words, for API v2's answer of a call's error. */
export const INTERNAL_REASON = /^Internal server error occurred(?:: (.*))?$/s;

/**
 * An unexpected failure as api_v3 answers it: the code clients know (Kaltura answers a lost
 * database with it too), and, where the failure is a dependency's, its unexpectedReason.
 */
export function unexpectedApiError(e: unknown): ApiError {
  const err = new ApiError('INTERNAL_SERVERL_ERROR');
  const reason = unexpectedReason(e);
  if (reason) err.message = `${err.message}: ${reason}`;
  return err;
}

/**
 * Which dependency an unexpected failure is, and whether trying again will do; null for any other
 * failure (API v2 says it in its own words too: src/api/v2/front.ts).
 */
export function unexpectedReason(e: unknown): string | null {
  if (e instanceof CatalogUnavailableError) return 'the catalog database does not answer; try again shortly';
  // the media store failed under the call (refused, stalled, answered an error): said with the
  // store's own words (its URL, never a credential), as the media routes' 502/504 say it
  if (isSourceError(e)) return `the media store failed (${e.message}); try again shortly`;
  if (e instanceof MediaWriteError) return `the media store failed (${e.shown}); try again shortly`;
  // the code only: the system's message names the server's paths, which are not the caller's to see
  const problem = dataDirWriteProblem(e);
  if (problem) return `the server's data directory cannot be written (${problem}: ${String((e as { code?: unknown }).code)})`;
  return null;
}
