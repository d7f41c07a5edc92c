// The api_v3 service registry.
//
// CONTRACT FOR ADDING A SERVICE (no change to the core is needed):
//  1. Write src/api/services/{name}.ts exporting a ServiceModule (src/api/types.ts):
//       export const uploadTokenService: ServiceModule = {
//         name: 'uploadToken',                      // wire name; matched case-insensitively
//         actions: {
//           add: {
//             params: { uploadToken: { type: 'object', kalturaType: 'KalturaUploadToken' } },
//             returns: 'KalturaUploadToken',         // Kaltura type name, shown by api_schema.php
//             auth: 'ks',                            // 'ks' (default) | 'optional' | 'none'
//             throws: ['UPLOAD_TOKEN_NOT_FOUND'],     // optional, for the schema
//             handler(ctx, args) { ... return { objectType: 'KalturaUploadToken', ... }; },
//           },
//         },
//       };
//     Classes and enums the service introduces go in its optional `schema` field
//     ({ classes: [{ name, base, props: 'id:string,status:KalturaUploadTokenStatus' }], enums: [...] })
//     so /api_v3/api_schema.php describes them.
//  2. Add it to SERVICES below.
//  What the core guarantees to a handler: `args` holds exactly the declared params, converted
//  (string/int/float/bool; objects as plain nested objects; arrays as arrays; 'file' params as
//  UploadedFile from a multipart body); a missing required param or a bad enum value never reaches
//  the handler. `ctx` (ApiContext) carries catalog, config, now, baseUrl, http facts, the verified
//  `ks` (null without one), `partnerId`/`partner` of the call and the uploaded `files`.
//  What a handler returns: an API object (a plain object with `objectType` on it and on every
//  nested object), an array, a scalar, null, or a FileResult ({ kind: 'file', contentType, body })
//  for raw bytes. It throws ApiError (src/api/errors.ts) to refuse, with a core code or one the
//  module defines itself: `defineApiErrors({ UPLOAD_TOKEN_NOT_FOUND: 'Upload token id
//  "%UPLOAD_TOKEN_ID%" not found' })` at module level. Anything else thrown becomes
//  INTERNAL_SERVERL_ERROR (and is logged).
//  Partner isolation: use the helpers of src/api/lookup.ts (partnerEntry, partnerFlavor, ...),
//  which answer another partner's ids exactly as unknown ones.
//  List actions: `params: listArgs('KalturaThingFilter')` (src/api/args.ts), with the filter class
//  and every property the handler applies in src/api/filters.ts. Any other property is refused
//  before the handler runs, so the handler must apply each listed one exactly (or refuse it).
//  Multirequest, formats, CORS, gzip, responseProfile and the schema come for free.
import { baseEntryService, mediaService } from './base-entry.js';
import { captionAssetService } from './caption-asset.js';
import { flavorAssetService, flavorParamsService } from './flavor-asset.js';
import { sessionService } from './session.js';
import { uploadTokenService } from './upload-token.js';
import { conversionProfileService } from './conversion-profile.js';
import { metadataService, systemService, userService } from './system.js';
import type { ServiceModule } from '../types.js';

export const SERVICES: readonly ServiceModule[] = [
  sessionService,
  systemService,
  userService,
  baseEntryService,
  mediaService,
  flavorAssetService,
  flavorParamsService,
  captionAssetService,
  metadataService,
  uploadTokenService,
  conversionProfileService,
];
