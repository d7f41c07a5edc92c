// The api_v3 front controller: one HTTP request in, one serialised answer out. It reads the
// parameters (path pairs over query over body), runs a single call or a multirequest, trims the
// result by responseProfile, and serialises it in the requested format. Every answer is HTTP 200,
// errors included, because that is what the clients expect.
import { ApiError, isApiError } from './errors.js';
import { BodyError, leadingMultipartParams, mergeRequestParams, parseBody, pathPairs, queryParams, type Params } from './params.js';
import { runCall, type Registry } from './dispatch.js';
import { runMultiRequest, subRequestFiles } from './multirequest.js';
import { readFormat, serialize, type Serialized } from './serializers/index.js';
import { isFileResult, type ApiEnv, type UploadedFile } from './types.js';

export interface ApiHttpRequest {
  /** Path after `/api_v3`, e.g. `/service/baseentry/action/get` or `/index.php/service/...` or `/index.php`. */
  path: string;
  /** Raw query string without "?". */
  query: string;
  contentType?: string;
  body?: Buffer;
  /** The parameters and files of path, query and body when the caller read them already (src/api/answer-cache.ts). */
  parsed?: ParsedApiRequest | null;
}

/** What the request's path, query and body say: the merged parameters and the uploaded files. */
export interface ParsedApiRequest {
  params: Params;
  files: UploadedFile[];
}

export interface ApiHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** responseProfile {type 1 include / 2 exclude, fields "a,b"} applied to an object or to a list's objects. */
export function applyResponseProfile(result: unknown, profile: unknown): unknown {
  if (!profile || typeof profile !== 'object') return result;
  const p = profile as Params;
  const fields = typeof p.fields === 'string' ? p.fields.split(',').map((f) => f.trim()).filter(Boolean) : [];
  const type = Number(p.type ?? 1);
  if (fields.length === 0 || (type !== 1 && type !== 2)) return result;
  const trim = (o: unknown): unknown => {
    if (!o || typeof o !== 'object' || Array.isArray(o) || isApiError(o)) return o;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'objectType' || (type === 1 ? fields.includes(k) : !fields.includes(k))) out[k] = v;
    }
    return out;
  };
  if (result && typeof result === 'object' && !Array.isArray(result) && Array.isArray((result as Params).objects)) {
    const r = result as Params;
    return { ...r, objects: (r.objects as unknown[]).map(trim) };
  }
  return Array.isArray(result) ? result : trim(result);
}

/** KalturaDetachedResponseProfile's properties that applyResponseProfile applies (name is only a label). */
const RESPONSE_PROFILE_PROPERTIES = ['objectType', 'name', 'type', 'fields'];

/**
 * The refusal of a responseProfile applyResponseProfile cannot apply (another type, a stored
 * profile by id or systemName, related profiles), or null: answering every field instead would
 * give more than was asked for. Checked before the action runs, so a refused call changes nothing.
 */
export function checkResponseProfile(profile: unknown): ApiError | null {
  if (profile === undefined || profile === null || profile === '') return null;
  if (typeof profile !== 'object' || Array.isArray(profile)) return new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: 'responseProfile' });
  const p = profile as Params;
  for (const k of Object.keys(p)) {
    if (!RESPONSE_PROFILE_PROPERTIES.includes(k)) return new ApiError('PROPERTY_IS_NOT_DEFINED', { PROP: k.slice(0, 64), TYPE: 'KalturaDetachedResponseProfile' });
  }
  if (p.type !== undefined && p.type !== null && String(p.type) !== '1' && String(p.type) !== '2') {
    return new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(p.type).slice(0, 64), PARAM_NAME: 'responseProfile:type', ENUM_TYPE: 'KalturaResponseProfileType' });
  }
  if (p.fields !== undefined && p.fields !== null && typeof p.fields !== 'string') return new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: 'responseProfile:fields' });
  return null;
}

export interface FrontControllerOptions {
  /** Called with unexpected exceptions (they are answered as INTERNAL_SERVERL_ERROR). */
  onUnexpected?: (e: unknown) => void;
}

/**
 * A request refused before its body was read (over the body limit): the error in the format the
 * path and query name, with the query's callback, as handleApiRequest reads them without a body;
 * `bodyHead`, the body's first bytes where the caller kept them, adds the fields of a multipart
 * body that arrived whole before the file (the Node client sends `format` in its leading `json`
 * field, and takes an answer in another format for a result).
 */
export function refusedBeforeBody(req: Pick<ApiHttpRequest, 'path' | 'query' | 'contentType'> & { bodyHead?: Buffer }, error: ApiError): Serialized {
  const query = queryParams(req.query);
  const params = mergeRequestParams(pathPairs(req.path), query, leadingMultipartParams(req.contentType, req.bodyHead));
  const callback = typeof query.callback === 'string' ? query.callback : null;
  return serialize(error, { format: readFormat(params.format), multi: false, callback, executionTime: 0 });
}

export async function handleApiRequest(registry: Registry, env: ApiEnv, req: ApiHttpRequest, opts: FrontControllerOptions = {}): Promise<ApiHttpResponse> {
  const started = process.hrtime.bigint();
  const query = queryParams(req.query);
  const path = pathPairs(req.path);
  const callback = typeof query.callback === 'string' ? query.callback : null;
  const headers: Record<string, string> = { 'access-control-allow-origin': '*', 'cache-control': 'no-cache, no-store, must-revalidate' };

  let params: Params;
  let files: Awaited<ReturnType<typeof parseBody>>['files'] = [];
  let result: unknown;
  let multi = false;
  if (req.parsed) {
    ({ params, files } = req.parsed);
  } else {
    try {
      const body = parseBody(req.contentType, req.body);
      files = body.files;
      params = mergeRequestParams(path, query, body.params);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      // the format can still come from the path, the query, or the fields before what broke
      params = mergeRequestParams(path, query, leadingMultipartParams(req.contentType, req.body));
      result = new ApiError('INVALID_REQUEST_BODY', { REASON: e.message });
    }
  }
  const format = readFormat(params.format);

  if (result === undefined) {
    const service = typeof params.service === 'string' ? params.service.toLowerCase() : '';
    // a sub-request of a multirequest is given its own files (`{key}:fileData`), the call itself all of them
    const run = async (call: Params, key?: number) =>
      checkResponseProfile(call.responseProfile)
        ?? applyResponseProfile(await runCall(registry, env, call, key === undefined ? files : subRequestFiles(files, key), opts.onUnexpected), call.responseProfile);
    if (service === 'multirequest') {
      result = await runMultiRequest(params, run);
      multi = Array.isArray(result);
    } else {
      result = await run(params);
    }
  }

  // an answer holding an error (a catalog that did not answer, say) is never kept
  if (env.reads && (isApiError(result) || isFileResult(result) || (Array.isArray(result) && result.some((r) => isApiError(r) || isFileResult(r))))) env.reads.refused ??= 'an error or a file';
  if (isFileResult(result)) {
    return { status: 200, headers: { ...headers, 'content-type': result.contentType, ...(result.headers ?? {}) }, body: result.body };
  }
  if (multi && Array.isArray(result)) {
    // a file inside a multirequest is sent as its text
    result = result.map((r) => (isFileResult(r) ? (Buffer.isBuffer(r.body) ? r.body.toString('utf8') : r.body) : r));
  }
  const executionTime = Number(process.hrtime.bigint() - started) / 1e9;
  const out = serialize(result, {
    format, multi, callback, executionTime,
    ignoreNull: params.ignoreNull === '1' || params.ignoreNull === 1 || params.ignoreNull === true,
  });
  if (!multi && isApiError(result) && result.httpStatus !== 200) headers['retry-after'] = '5';
  return { status: !multi && isApiError(result) ? result.httpStatus : 200, headers: { ...headers, 'content-type': out.contentType }, body: out.body };
}
