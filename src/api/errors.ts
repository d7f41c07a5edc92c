// The api_v3 error catalogue: Kaltura's symbolic codes and their message templates, with
// `%NAME%` placeholders that are filled from the error's args. Every refusal of the API is one of
// these, raised as an ApiError and serialised as a KalturaAPIException (always with HTTP 200,
// because the web player never settles a request answered with another status).

/**
 * code → message template. Placeholder names are the arg names, and for Kaltura's own codes they
 * are Kaltura's (INVALID_KS's KSID, ERR_CODE, ERR_DESC; PARAM_NAME; PROP_NAME; PID...), as are the
 * texts: a client that reads `args` by name (the exception's args map, in every format) finds
 * what it would find in Kaltura's answer (test/e2e/api-kaltura-client.test.ts asks for them).
 */
export const API_ERRORS = {
  INTERNAL_SERVERL_ERROR: 'Internal server error occurred',
  MISSING_KS: 'Missing KS, session not established',
  INVALID_KS: 'Invalid KS "%KSID%", Error "%ERR_CODE%,%ERR_DESC%"',
  INVALID_ACTIONS_LIMIT: 'Invalid actions limit',
  SERVICE_NOT_SPECIFIED: 'Service name was not specified, please specify one',
  SERVICE_DOES_NOT_EXISTS: 'Service "%SRV_NAME%" does not exists',
  ACTION_NOT_SPECIFIED: 'Action name was not specified, please specify one',
  ACTION_DOES_NOT_EXISTS: 'Action "%ACTION_NAME%" does not exists for service "%SERVICE_NAME%"',
  MISSING_MANDATORY_PARAMETER: 'Missing parameter "%PARAM_NAME%"',
  INVALID_OBJECT_TYPE: 'Invalid object type "%INVALID_OBJ_TYPE%"',
  INVALID_ENUM_VALUE: 'Invalid enumeration value "%ENUM_VAL%" for parameter "%PARAM_NAME%", expecting enumeration type "%ENUM_TYPE%"',
  INVALID_PARTNER_ID: 'Invalid partner id "%PID%"',
  INVALID_SERVICE_CONFIGURATION: 'Invalid service configuration. Unknown service [%SRV_NAME%:%ACTION_NAME%].',
  PROPERTY_VALIDATION_CANNOT_BE_NULL: 'The property "%PROP_NAME%" cannot be null',
  PROPERTY_VALIDATION_MIN_LENGTH: 'The property "%PROP_NAME%" must have a min length of %MIN_LEN% characters',
  PROPERTY_VALIDATION_MAX_LENGTH: 'The property "%PROP_NAME%" cannot have more than %MAX_LEN% characters',
  PROPERTY_VALIDATION_NOT_UPDATABLE: 'The property "%PROP_NAME%" cannot be updated',
  // Kaltura's own code and arguments: a filter or pager property this server does not apply
  PROPERTY_IS_NOT_DEFINED: 'The property "%PROP%" is not defined on type "%TYPE%"',
  INVALID_USER_ID: 'Invalid user id',
  ENTRY_ID_NOT_FOUND: 'Entry id "%ENTRY_ID%" not found',
  ENTRY_ALREADY_WITH_CONTENT: 'Entry already associated with content',
  FLAVOR_ASSET_ID_NOT_FOUND: 'Flavor asset id "%ID%" not found',
  FLAVOR_PARAMS_ID_NOT_FOUND: 'Flavor params id "%ID%" not found',
  CAPTION_ASSET_ID_NOT_FOUND: 'Caption asset id "%ID%" not found',
  NO_FLAVORS_FOUND: 'No flavors found',
  START_SESSION_ERROR: 'Error while starting session for partner [%PID%]',
  INVALID_WIDGET_ID: 'Unknown widget [%WIDGET_ID%]',
  SERVICE_FORBIDDEN: 'The access to service [%SERVICE%] is forbidden',
  // Not in the documented table: raised when an entry's access control refuses a context
  // (DOWNLOAD for flavorAsset.getUrl); the message carries the rule's own text.
  ACCESS_CONTROL_RESTRICTED: 'Access to entry "%ENTRY_ID%" is restricted: %REASON%',
  // Kaltura's answer to a JSONP callback outside [0-9_a-zA-Z.]: it names the field, not the value
  INVALID_FIELD_VALUE: 'value in field [%FIELD_NAME%] is not valid',
  // and to a JSONP request without a callback: its own code, not MISSING_MANDATORY_PARAMETER's
  MANDATORY_PARAMETER_MISSING: 'Mandatory parameter missing [%PARAM_NAME%]',
  RESOURCE_NOT_READY: 'Resource "%ID%" is not ready',
  INVALID_REQUEST_BODY: 'The request body could not be read: %REASON%',
  MULTIREQUEST_TOO_LARGE: 'A multirequest may hold at most %MAX_REQUESTS% requests',
  // Ingest (src/api/services/upload-token.ts, media-ingest.ts, conversion-profile.ts)
  UPLOAD_TOKEN_NOT_FOUND: 'Upload token not found',
  UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD: 'Upload token is in an invalid status for uploading a file: %REASON%',
  UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY: 'Upload token is in an invalid status for adding entry: %REASON%',
  UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE: 'Uploaded file size does not match the expected file size: %REASON%',
  UPLOAD_ERROR: 'Upload failed: %REASON%',
  RESOURCE_TYPE_NOT_SUPPORTED: 'Resource type "%RES_TYPE%" not supported',
  CONVERSION_PROFILE_ID_NOT_FOUND: 'Conversion profile id "%ID%" not found',
  INGEST_FAILED: 'Entry "%ENTRY_ID%" cannot be ingested: %REASON%',
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;
export type ApiErrorArgs = Record<string, string | number>;

/** Codes added by service modules (defineApiErrors), next to the core catalogue. */
const serviceErrors = new Map<string, string>();

/**
 * Lets a service module add its own codes without editing this catalogue:
 *   const E = defineApiErrors({ UPLOAD_TOKEN_NOT_FOUND: 'Upload token id "%UPLOAD_TOKEN_ID%" not found' });
 *   throw new ApiError('UPLOAD_TOKEN_NOT_FOUND', { UPLOAD_TOKEN_ID: id });
 * A code may be defined once, with one template.
 */
export function defineApiErrors<T extends Record<string, string>>(defs: T): T {
  for (const [code, template] of Object.entries(defs)) {
    const known = code in API_ERRORS ? API_ERRORS[code as ApiErrorCode] : serviceErrors.get(code);
    if (known !== undefined && known !== template) throw new Error(`api_v3: error code ${code} is already defined with another template`);
    serviceErrors.set(code, template);
  }
  return defs;
}

/** The template of a code, from the core catalogue or a service's definitions. */
export function errorTemplate(code: string): string | undefined {
  return code in API_ERRORS ? API_ERRORS[code as ApiErrorCode] : serviceErrors.get(code);
}

/** Every known code with its template (the schema lists them). */
export function allApiErrors(): [string, string][] {
  return [...Object.entries(API_ERRORS), ...serviceErrors];
}

export class ApiError extends Error {
  readonly code: string;
  readonly args: ApiErrorArgs;
  /**
   * The HTTP status of a call answered with this error alone: 200 as Kaltura answers its errors,
   * except a dependency that failed (the media store: 503, so a client or balancer retries).
   */
  readonly httpStatus: number;
  constructor(code: ApiErrorCode | (string & {}), args: ApiErrorArgs = {}, opts: { httpStatus?: number } = {}) {
    const template = errorTemplate(code);
    // an undefined code is a programming error; it still reaches the client as a well-formed exception
    super(fillTemplate(template ?? API_ERRORS.INTERNAL_SERVERL_ERROR, args));
    this.code = template === undefined ? 'INTERNAL_SERVERL_ERROR' : code;
    this.args = template === undefined ? {} : args;
    this.httpStatus = opts.httpStatus ?? 200;
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** Replaces each `%NAME%` with its arg; a placeholder without an arg stays visible rather than vanishing. */
export function fillTemplate(template: string, args: ApiErrorArgs): string {
  return template.replace(/%([A-Z_]+)%/g, (whole, name: string) => (name in args ? String(args[name]) : whole));
}

/** The placeholder names of a code, in order (the schema lists them). */
export function errorArgNames(code: string): string[] {
  return [...(errorTemplate(code) ?? '').matchAll(/%([A-Z_]+)%/g)].map((m) => m[1]);
}

/** The wire form of an error (JSON, PHP and JSONP); `args` is [] when empty, as Kaltura sends. */
export interface ApiExceptionObject {
  code: string;
  message: string;
  objectType: 'KalturaAPIException';
  args: Record<string, string> | [];
}

export function toExceptionObject(e: ApiError): ApiExceptionObject {
  const entries = Object.entries(e.args).map(([k, v]) => [k, String(v)] as const);
  return { code: e.code, message: e.message, objectType: 'KalturaAPIException', args: entries.length ? Object.fromEntries(entries) : [] };
}
