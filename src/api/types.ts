// The shapes shared by the api_v3 core and the service modules: what a handler receives (the
// context of one call) and what a service module declares (actions, their parameters, what
// they return). The contract for adding a service is documented in services/index.ts.
import type { Partner } from '../catalog/types.js';
import type { RequestEnv } from '../env.js';
import type { Ks } from '../access/ks.js';
import type { FactReads } from './answer-cache.js';

/**
 * Everything a call needs from the outside world: the request's environment (the clock and
 * configuration as data, the HTTP facts of the call, which the playback context hands on to the
 * playManifest pipeline).
 */
export type ApiEnv = Pick<RequestEnv, 'catalog' | 'config' | 'now' | 'baseUrl' | 'http'> & Partial<Pick<RequestEnv, 'media' | 'manifestCache'>> & {
  /** Set when the answer may be kept (src/api/answer-cache.ts): what making it reads of the request. */
  reads?: FactReads;
};

/** A file part of a multipart body (uploads). */
export interface UploadedFile {
  field: string;
  fileName: string;
  contentType: string;
  data: Buffer;
}

/** The context of one action call. */
export interface ApiContext extends ApiEnv {
  /** The validated session, or null when the call carries none. */
  ks: Ks | null;
  /** The partner of the call: the KS's, else the `partnerId` parameter (only for actions that allow no KS). */
  partnerId: number | null;
  partner: Partner | null;
  /** Lower-case service and action names as dispatched. */
  service: string;
  action: string;
  files: UploadedFile[];
  /** Set by API v2 only: its upload and addentry take a user KS (src/api/permissions.ts requireIngestSession). */
  userMayIngest?: boolean;
}

export type ParamType = 'string' | 'int' | 'float' | 'bool' | 'object' | 'array' | 'file';

export interface ParamSpec {
  type: ParamType;
  /** Kaltura type name shown in the schema, e.g. 'KalturaBaseEntryFilter' or 'KalturaSessionType'. */
  kalturaType?: string;
  required?: boolean;
  default?: unknown;
  /** Allowed values of an enum parameter (ints or strings). */
  enumValues?: readonly (number | string)[];
  minLength?: number;
  maxLength?: number;
  description?: string;
  /** An object whose every property the action reads (filters, pagers): any other is refused (src/api/filters.ts). */
  properties?: readonly string[];
}

/** Who may call an action: nobody needs a KS ('none'), a KS is used when present ('optional'), or required ('ks'). */
export type AuthMode = 'none' | 'optional' | 'ks';

/** A response that is not an API object: bytes sent as they are (caption serve, for example). */
export interface FileResult {
  kind: 'file';
  contentType: string;
  body: Buffer | string;
  headers?: Record<string, string>;
}

export const isFileResult = (v: unknown): v is FileResult =>
  typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'file' && 'body' in v;

export interface ActionSpec {
  description?: string;
  params: Record<string, ParamSpec>;
  /** Kaltura type name of the result, for the schema ('string', 'bool', 'KalturaMediaEntry', 'array:KalturaFlavorAsset', 'file'). */
  returns: string;
  auth?: AuthMode;
  /** Error codes the action may raise, for the schema. */
  throws?: string[];
  /**
   * The action writes media files (an upload, an entry's content, a picture, a caption, a
   * reconversion's renditions). With a read-only media store (an HTTP origin:
   * src/storage/write-refusal.ts) the dispatcher refuses it with UPLOAD_ERROR before anything else,
   * under whatever name its service is called by (src/api/dispatch.ts).
   */
  writesMedia?: boolean;
  handler(ctx: ApiContext, args: Record<string, any>): unknown | Promise<unknown>;
}

/** A Kaltura class for api_schema.php; props is a "name:type,..." list (type: scalar, enum or class name, or array:Class). */
export interface SchemaClass { name: string; base?: string; props: string }
export interface SchemaEnum { name: string; enumType: 'int' | 'string'; values: Record<string, number | string> }

export interface ServiceModule {
  /** Wire name as Kaltura spells it, e.g. 'baseEntry', 'caption_captionAsset'; matched case-insensitively. */
  name: string;
  description?: string;
  actions: Record<string, ActionSpec>;
  /** Classes and enums this service adds to api_schema.php (the core declares the shared ones). */
  schema?: { classes?: SchemaClass[]; enums?: SchemaEnum[] };
}

/** An API object: a plain object whose objectType names its Kaltura class. */
export type ApiObject = { objectType: string; [prop: string]: unknown };
