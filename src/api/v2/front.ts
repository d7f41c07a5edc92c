// API v2's front controller: /index.php/partnerservices2/{action} in, one envelope out, always HTTP
// 200. It reads the parameters (query, then a form or multipart body over it, as PHP's $_REQUEST),
// checks the session the way v2 does (services.ct tickets: the KS type, Kaltura-Network actions
// without a KS, the partner), runs the action, which calls api_v3 for the work, and renders.
// There is no answer cache: the reference's v2 cache leaves the KS out of its key, so an admin's
// answer could reach a caller without a session. Nothing here is kept between requests.
import { countKsAction, InvalidActionsLimitError, KsError, parseKs, refuseRevoked, verifyKs, type Ks, type KsErrorReason } from '../../access/ks.js';
import { runCall, unexpectedReason, type Registry } from '../dispatch.js';
import { BodyError, parseBody, type Params } from '../params.js';
import type { ApiEnv, UploadedFile } from '../types.js';
import { V2Failure, V2_ACTIONS, type V2Action, type V2Context } from './actions.js';
import { renderEnvelope, V2Object, v2Format, type V2Envelope, type V2Error } from './render.js';

export interface V2HttpRequest {
  /** The action as it appears in the URL (`addEntry`, `add_entry`, `addentry`). */
  action: string;
  /** Raw query string without "?". */
  query: string;
  contentType?: string;
  body?: Buffer;
}

export interface V2HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The reference's KS error numbers and names (ks::getErrorStr). */
const KS_CODES: Record<KsErrorReason, [number, string]> = {
  MALFORMED: [-1, 'INVALID_STR'], BAD_SIGNATURE: [-1, 'INVALID_STR'], WRONG_PARTNER: [-2, 'INVALID_PARTNER'],
  EXPIRED: [-5, 'EXPIRED'], REVOKED: [-6, 'LOGOUT'], IP: [-9, 'EXCEEDED_RESTRICTED_IP'], URI: [-11, 'EXCEEDED_RESTRICTED_URI'],
  ACTIONS_LIMIT: [-8, 'EXCEEDED_ACTIONS_LIMIT'],
};
// the KS is not repeated back in the text (the reference quotes it): it is a credential
const invalidKs = (code: number, name: string) => new V2Failure('INVALID_KS', `Invalid KS []. Error [${code},${name}]`);
const notFound = () => new V2Failure('INTERNAL_SERVER_ERROR', 'Internal server error INVALID_STR');

/** Action names as the reference matches them: `_` removed, lower-cased. */
export const v2ActionName = (name: string): string => name.replace(/_/g, '').toLowerCase();

/** Whether kdeliver implements this v2 action (multirequest included), under any of its spellings. */
export const isV2Action = (name: string): boolean => {
  const n = v2ActionName(name);
  return n === 'multirequest' || Object.hasOwn(V2_ACTIONS, n);
};

/** Query, then body over it; every value a string (v2 has no nested parameters). */
function readParams(req: V2HttpRequest): { params: Record<string, string>; files: UploadedFile[] } {
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(req.query)) if (!Object.hasOwn(params, k)) params[k] = v;
  let body: { params: Params; files: UploadedFile[] } = { params: {}, files: [] };
  try {
    body = parseBody(req.contentType, req.body);
  } catch (e) {
    if (!(e instanceof BodyError)) throw e;
    throw new V2Failure('INTERNAL_SERVER_ERROR', `Internal server error ${e.message}`);
  }
  const flat = (o: Params, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const name = prefix ? `${prefix}:${k}` : k;
      if (v && typeof v === 'object') flat(v as Params, name);
      else if (v !== undefined && v !== null) params[name] = String(v);
    }
  };
  flat(body.params, '');
  return { params, files: body.files };
}

/** The session of the call, as v2 checks it: malformed or unsigned is INVALID_STR; an invalid one counts only where a ticket is needed. */
async function readSession(env: ApiEnv, raw: string | undefined, ticketed: boolean): Promise<Ks | null> {
  if (raw === undefined || raw === '' || raw === '{ks}') return null;
  let parsed: ReturnType<typeof parseKs>;
  try {
    parsed = parseKs(raw);
  } catch {
    throw notFound();
  }
  const partner = await env.catalog.getPartner(parsed.partnerId);
  if (!partner) throw notFound();
  try {
    const ks = verifyKs(parsed, partner, { now: env.now, clientIp: env.http.clientIp, uri: env.http.rawUrl });
    await refuseRevoked(ks, (key) => env.catalog.isRevoked(key, env.now));
    // an action under a verified KS is one of its `actionslimit`, counted here once: the api_v3
    // calls it makes run under the KS and are not counted again (runAction). One that needs no
    // ticket counts too, as it runs those calls under the KS (an action past the limit runs
    // without it, as under any KS that does not verify)
    await countKsAction(ks, env.catalog.takeKsAction);
    return ks;
  } catch (e) {
    if (e instanceof InvalidActionsLimitError) throw new V2Failure('INVALID_ACTIONS_LIMIT', 'Invalid actions limit');
    if (!(e instanceof KsError)) throw e;
    if (e.reason === 'MALFORMED' || e.reason === 'BAD_SIGNATURE') throw notFound();
    if (!ticketed) return null;
    const [code, name] = KS_CODES[e.reason];
    throw invalidKs(code, name);
  }
}

/** A KS passes a ticket when its type plus one has the ticket's bit (user 0 → 1, admin 2 → 3, type 1 → 2). */
const passes = (ks: Ks, ticket: number): boolean => ((ks.type + 1) & ticket) !== 0;

/** Runs one action with its parameters: its result and errors (a refusal is an error, never thrown). */
async function runAction(registry: Registry, env: ApiEnv, action: V2Action, params: Record<string, string>, files: UploadedFile[], onUnexpected?: (e: unknown) => void): Promise<Pick<V2Envelope, 'result' | 'error'>> {
  try {
    const ks = await readSession(env, params.ks, action.ticket !== 0);
    const given = params.partner_id ?? params.partnerId;
    if (ks && given !== undefined && given !== '' && given !== String(ks.partnerId)) {
      throw new V2Failure('PARTNER_ACCESS_FORBIDDEN', `Partner [${ks.partnerId}] cannot access partner [${given.slice(0, 16)}]`);
    }
    const partnerId = ks ? ks.partnerId : /^\d{1,10}$/.test(given ?? '') ? Number(given) : null;
    if (action.ticket !== 0) {
      if (!ks && !action.kalturaNetwork) throw new V2Failure('MISSING_KS', 'Missing KS. Session not established');
      if (ks && !passes(ks, action.ticket)) throw invalidKs(-4, 'INVALID_TYPE');
    }
    // a partner must be named for these; startsession answers an unknown one itself (START_SESSION_ERROR)
    const needsPartner = action.ticket !== 0 || action.kalturaNetwork;
    if ((needsPartner || action.partnerRequired) && partnerId === null) throw new V2Failure('UNKNOWN_PARTNER_ID', `Unknown partner_id [${(given ?? '').slice(0, 16)}]`);
    if (needsPartner && !(await env.catalog.getPartner(partnerId!))) throw new V2Failure('UNKNOWN_PARTNER_ID', `Unknown partner_id [${(given ?? '').slice(0, 16)}]`);
    // api_v3 reads an uploaded file from its fileData part
    const v3files = files.map((f) => (f.field === 'Filedata' ? { ...f, field: 'fileData' } : f));
    const ctx: V2Context = {
      env, params, files, ks, partnerId: partnerId ?? 0,
      v3: (service, act, args, grants) => runCall(registry, env, {
        ...args, service, action: act, format: 1, ...(ks ? { ks: ks.raw } : partnerId !== null ? { partnerId } : {}),
      }, v3files, onUnexpected, { ...grants, actionCounted: true }),
    };
    return { result: await action.run(ctx), error: [] };
  } catch (e) {
    if (e instanceof V2Failure) return { result: { ...e.result }, error: [{ code: e.code, desc: e.desc } satisfies V2Error] };
    onUnexpected?.(e);
    return { result: {}, error: [{ code: 'INTERNAL_SERVER_ERROR', desc: `Internal server error ${unexpectedReason(e) ?? ''}` }] };
  }
}

/** The value at a dotted path of the earlier responses (`response1.result.ks`), '' when there is none. */
function lookupPath(root: Record<string, unknown>, path: string): string {
  let v: unknown = root;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v instanceof V2Object ? v.fields : (v as Record<string, unknown>))[k] : undefined;
  return v === undefined || v === null || typeof v === 'object' ? '' : String(v);
}

/**
 * multirequest: request{N}_{name} parameters per request from 1 on, global_{name} for all of them,
 * `{responseN.result.field}` placeholders filled from earlier answers; stops at the first error.
 */
async function runMulti(registry: Registry, env: ApiEnv, params: Record<string, string>, files: UploadedFile[], onUnexpected?: (e: unknown) => void): Promise<Pick<V2Envelope, 'result' | 'error'>> {
  const globals: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (k.startsWith('global_')) globals[k.slice(7)] = v;
  const out: Record<string, unknown> = {};
  const errors: unknown[] = [];
  for (let n = 1; n <= 20; n++) {
    const prefix = `request${n}_`;
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (k.startsWith(prefix)) own[k.slice(prefix.length)] = v;
    const sub: Record<string, string> = { ...globals, ...own };
    const service = v2ActionName(sub.service ?? '');
    if (!service || service === 'end') break;
    for (const [k, v] of Object.entries(sub)) sub[k] = v.replace(/\{([A-Za-z0-9_.]{1,128})\}/g, (whole, path: string) => (path === 'ks' ? whole : lookupPath(out, path)));
    const action = service !== 'multirequest' && Object.hasOwn(V2_ACTIONS, service) ? V2_ACTIONS[service] : undefined;
    const r = action ? await runAction(registry, env, action, sub, files, onUnexpected) : { result: {}, error: [{ code: 'INVALID_SERVICE', desc: `Invalid service [${/^[a-z0-9]{1,64}$/.test(service) ? service : ''}]` }] };
    out[`response${n}`] = { result: r.result, error: r.error };
    if (r.error.length) {
      errors.push(...r.error, { errornos_request: n });
      break;
    }
  }
  return { result: out, error: errors as V2Error[] };
}

export async function handleV2Request(registry: Registry, env: ApiEnv, req: V2HttpRequest, onUnexpected?: (e: unknown) => void): Promise<V2HttpResponse> {
  const started = process.hrtime.bigint();
  const headers: Record<string, string> = { 'access-control-allow-origin': '*', 'cache-control': 'no-cache, no-store, must-revalidate' };
  const name = v2ActionName(req.action);
  const action = Object.hasOwn(V2_ACTIONS, name) ? V2_ACTIONS[name] : undefined;
  if (!action && name !== 'multirequest') {
    // the reference's plain text, without an envelope; only a plain name is repeated back
    const shown = /^[A-Za-z0-9_]{1,64}$/.test(req.action) ? name : '';
    return { status: 200, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, body: `Error: Invalid service [${shown}]` };
  }
  let format = v2Format(new URLSearchParams(req.query).get('format') ?? undefined);
  let answer: Pick<V2Envelope, 'result' | 'error'>;
  try {
    const { params, files } = readParams(req);
    format = v2Format(params.format);
    answer = action ? await runAction(registry, env, action, params, files, onUnexpected) : await runMulti(registry, env, params, files, onUnexpected);
  } catch (e) {
    if (!(e instanceof V2Failure)) throw e;
    answer = { result: {}, error: [{ code: e.code, desc: e.desc }] };
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const envelope: V2Envelope = {
    result: { ...answer.result, serverTime: env.now },
    error: answer.error,
    debug: { sigtype: 1, validateSignature: '', signature: '', execute_impl_time: seconds, execute_time: seconds, total_time: seconds },
  };
  const out = renderEnvelope(envelope, format);
  return { status: 200, headers: { ...headers, 'content-type': out.contentType }, body: out.body };
}
