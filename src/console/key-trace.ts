// The "why" of an encrypted entry's key request: the HLS key URI (…/encryption.key, served by the
// packager) or the ClearKey licence (POST …/clearKeyLicense/…/license). Each runs the very function
// its route runs (answerPackager with packagerDeps, licenceDecision) with a recorder for the steps,
// so the trace answers what the route would. The key itself and the KS never enter the trace.
import type { RequestEnv } from '../env.js';
import { asDeliveryError, type DeliveryError } from '../errors.js';
import { contentKeys } from '../drm/keys.js';
import { licenceDecision } from '../drm/licence.js';
import type { KeyNote } from '../drm/session.js';
import type { Entry } from '../catalog/types.js';
import { answerPackager, packagerDeps } from '../packaging/packager.js';
import { parsePackagerPath } from '../request/packager-url.js';
import { pathAfter, routeParams, splitUrl } from '../request/path-params.js';
import type { TraceStep } from '../types/playback.js';
import { tracedHttp, type TraceInput } from './trace.js';

const KEY_URI = /^\/hls\/(?:container\/\w{1,8}\/)?p\/(\d{1,10})\/.*\/encryption\.key$/;
const LICENCE = /^\/p\/(\d{1,10})\/(?:sp\/\d{1,12}\/)?clearKeyLicense\/.*\/license$/;

export interface KeyTraceInput extends TraceInput {
  /** The licence request's key ids (base64url, as a CDM sends them); none: the entry's own. */
  kids?: unknown;
}

export type KeyTraceResult =
  | { status: 400 | 403; message: string }
  | {
    status: 200;
    kind: 'hlsKey' | 'licence';
    partnerId: number;
    /** Whether the route would give the key (named like the playManifest trace's). */
    plays: boolean;
    error: { code: number; name: string; message: string; httpStatus: number; headers: string[] } | null;
    /** What would be given: the entry and the key ids (hex), never the key. */
    key: { entryId: string; keyIds: string[] } | null;
    trace: TraceStep[];
    firedRules: [];
  };

/** Whether `url` is a key URI or licence URL this trace explains (else it is a playManifest's). */
export function isKeyRequestUrl(url: string): boolean {
  const { path } = splitUrl(url);
  return KEY_URI.test(path) || LICENCE.test(path);
}

/** `ctx.partnerId`: the console user's partner; a URL of another partner is refused (403). */
export async function traceKeyRequest(ctx: RequestEnv & { partnerId: number }, input: KeyTraceInput): Promise<KeyTraceResult> {
  if (input.url.length > 8192) return { status: 400, message: 'url: too long' };
  const { path } = splitUrl(input.url);
  const keyUri = KEY_URI.exec(path);
  const lic = keyUri ? null : LICENCE.exec(path);
  if (!keyUri && !lic) return { status: 400, message: 'url: expected an HLS key URI (…/encryption.key) or a ClearKey licence URL (…/clearKeyLicense/entryId/…/license)' };
  const partnerId = Number((keyUri ?? lic)![1]);
  if (partnerId !== ctx.partnerId) return { status: 403, message: `the URL names partner ${partnerId}; this KS is of partner ${ctx.partnerId}` };
  let kidsBody: unknown;
  if (input.kids !== undefined && input.kids !== null) kidsBody = { kids: input.kids, type: 'temporary' };

  const trace: TraceStep[] = [];
  const note: KeyNote = (stage, message, data) => void trace.push(data === undefined ? { stage, message } : { stage, message, data });
  const env: RequestEnv = { ...ctx, http: tracedHttp(input, keyUri ? 'GET' : 'POST') };
  let error: DeliveryError | null = null;
  let key: { entryId: string; keyIds: string[] } | null = null;
  try {
    if (keyUri) {
      note('request', 'HLS key URI (the packager\'s encryption.key)');
      const deps = packagerDeps(env, note);
      let entry: Entry | undefined;
      const check = deps.checkKeySession;
      deps.checkKeySession = async (e, ks) => { entry = e; await check(e, ks); };
      const answer = await answerPackager(parsePackagerPath('hls', pathAfter(input.url, 'hls')), deps);
      if (answer.kind !== 'key' || !entry) throw new Error('the packager answered a key URI with something else');
      note('key', `key source: ${env.config.drmKeyServiceUrl ? 'the key service' : 'the catalog'}`);
      const keys = await contentKeys(env, entry);
      key = { entryId: entry.id, keyIds: [keys.keyId.toString('hex')] };
      note('key', `the AES key of key id ${key.keyIds[0]} would be given`);
    } else {
      note('request', `ClearKey licence${kidsBody === undefined ? ' (no kids given: the entry\'s own)' : ''}`);
      const params = routeParams(env.http, 'clearKeyLicense');
      const { entry, licence } = await licenceDecision(env, { partnerId, entryId: params.get('entryId'), ks: params.get('ks'), body: kidsBody }, note);
      key = { entryId: entry.id, keyIds: licence.keys.map((k) => Buffer.from(k.kid, 'base64url').toString('hex')) };
    }
  } catch (e) {
    error = asDeliveryError(e);
    if (!error) throw e;
  }
  return {
    status: 200,
    kind: keyUri ? 'hlsKey' : 'licence',
    partnerId,
    plays: error === null,
    error: error && { code: error.code, name: error.errorName, message: error.message, httpStatus: error.httpStatus, headers: error.headers },
    key,
    trace,
    firedRules: [],
  };
}
