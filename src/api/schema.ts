// /api_v3/api_schema.php: the services, actions, objects and enums this server implements, in
// Kaltura's schema layout (<xml apiVersion generatedDate> with enums, classes, services, errors),
// generated from the registry itself so it cannot drift from what is served.
import { create } from 'xmlbuilder2';
import { allApiErrors, errorArgNames } from './errors.js';
import { INPUT_CLASSES } from './filters.js';
import type { SchemaClass, SchemaEnum, ServiceModule } from './types.js';

/** api_v3 protocol version the clients are written against (the player sends it as apiVersion). */
export const API_VERSION = '3.3.0';

const ENUMS: SchemaEnum[] = [
  { name: 'KalturaSessionType', enumType: 'int', values: { USER: 0, ADMIN: 2 } },
  { name: 'KalturaEntryType', enumType: 'string', values: { AUTOMATIC: -1, MEDIA_CLIP: 1, MIX: 2, PLAYLIST: 5, DATA: 6, LIVE_STREAM: 7, LIVE_CHANNEL: 8, DOCUMENT: 10 } },
  { name: 'KalturaEntryStatus', enumType: 'string', values: { ERROR_IMPORTING: -2, ERROR_CONVERTING: -1, IMPORT: 0, PRECONVERT: 1, READY: 2, DELETED: 3, PENDING: 4, MODERATE: 5, BLOCKED: 6, NO_CONTENT: 7 } },
  { name: 'KalturaMediaType', enumType: 'int', values: { VIDEO: 1, IMAGE: 2, AUDIO: 5 } },
  { name: 'KalturaEntryModerationStatus', enumType: 'int', values: { PENDING_MODERATION: 1, APPROVED: 2, REJECTED: 3, DELETED: 4, FLAGGED_FOR_REVIEW: 5, AUTO_APPROVED: 6 } },
  { name: 'KalturaFlavorAssetStatus', enumType: 'int', values: { ERROR: -1, QUEUED: 0, CONVERTING: 1, READY: 2, DELETED: 3, NOT_APPLICABLE: 4, TEMP: 5, WAIT_FOR_CONVERT: 6, IMPORTING: 7, VALIDATING: 8, EXPORTING: 9 } },
  { name: 'KalturaCaptionType', enumType: 'string', values: { SRT: '1', DFXP: '2', WEBVTT: '3', CAP: '4' } },
  { name: 'KalturaRuleActionType', enumType: 'string', values: { BLOCK: 1, PREVIEW: 2, LIMIT_FLAVORS: 3, LIMIT_DELIVERY_PROFILES: 5, REQUEST_HOST_REGEX: 7, DRM_POLICY: 'drm.DRM_POLICY' } },
  { name: 'KalturaResponseType', enumType: 'int', values: { RESPONSE_TYPE_JSON: 1, RESPONSE_TYPE_XML: 2, RESPONSE_TYPE_PHP: 3, RESPONSE_TYPE_JSONP: 9 } },
  { name: 'KalturaNullableBoolean', enumType: 'int', values: { NULL_VALUE: -1, FALSE_VALUE: 0, TRUE_VALUE: 1 } },
];

// "name:type" lists; a type is a scalar, an enum or class name, or array:Class
const CLASSES: SchemaClass[] = [
  { name: 'KalturaObjectBase', props: 'relatedObjects:map' },
  { name: 'KalturaBaseEntry', base: 'KalturaObjectBase', props: 'id:string,name:string,description:string,partnerId:int,userId:string,creatorId:string,tags:string,adminTags:string,status:KalturaEntryStatus,moderationStatus:KalturaEntryModerationStatus,type:KalturaEntryType,createdAt:time,updatedAt:time,version:int,thumbnailUrl:string,accessControlId:int,startDate:time,endDate:time,referenceId:string,redirectEntryId:string,rootEntryId:string,capabilities:string,downloadUrl:string,dataUrl:string,partnerData:string,conversionProfileId:int' },
  { name: 'KalturaPlayableEntry', base: 'KalturaBaseEntry', props: 'plays:int,views:int,width:int,height:int,duration:int,msDuration:int,durationType:string' },
  { name: 'KalturaMediaEntry', base: 'KalturaPlayableEntry', props: 'mediaType:KalturaMediaType,flavorParamsIds:string' },
  { name: 'KalturaDocumentEntry', base: 'KalturaBaseEntry', props: 'documentType:int' },
  { name: 'KalturaDataEntry', base: 'KalturaBaseEntry', props: '' },
  { name: 'KalturaListResponse', base: 'KalturaObjectBase', props: 'totalCount:int' },
  { name: 'KalturaBaseEntryListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaBaseEntry' },
  { name: 'KalturaMediaListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaMediaEntry' },
  { name: 'KalturaAsset', base: 'KalturaObjectBase', props: 'id:string,entryId:string,partnerId:int,version:int,size:int,tags:string,fileExt:string,createdAt:time,updatedAt:time,description:string,sizeInBytes:int' },
  { name: 'KalturaFlavorAsset', base: 'KalturaAsset', props: 'flavorParamsId:int,width:int,height:int,bitrate:int,frameRate:float,isOriginal:bool,isWeb:bool,containerFormat:string,videoCodecId:string,status:KalturaFlavorAssetStatus,language:string,label:string,isDefault:bool' },
  { name: 'KalturaFlavorAssetListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaFlavorAsset' },
  { name: 'KalturaFlavorParams', base: 'KalturaObjectBase', props: 'id:int,partnerId:int,name:string,systemName:string,description:string,tags:string,format:string,videoCodec:string,videoBitrate:int,audioCodec:string,audioBitrate:int,width:int,height:int,frameRate:float,isSystemDefault:int,mediaParserType:string' },
  { name: 'KalturaFlavorParamsListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaFlavorParams' },
  { name: 'KalturaFlavorAssetWithParams', base: 'KalturaObjectBase', props: 'flavorAsset:KalturaFlavorAsset,flavorParams:KalturaFlavorParams,entryId:string' },
  { name: 'KalturaCaptionAsset', base: 'KalturaAsset', props: 'captionParamsId:int,language:string,languageCode:string,isDefault:KalturaNullableBoolean,label:string,format:KalturaCaptionType,status:KalturaFlavorAssetStatus,displayOnPlayer:bool,accuracy:int' },
  { name: 'KalturaCaptionAssetListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaCaptionAsset' },
  { name: 'KalturaPlaybackSource', base: 'KalturaObjectBase', props: 'deliveryProfileId:string,format:string,protocols:string,flavorIds:string,url:string,drm:array:KalturaDrmPlaybackPluginData' },
  { name: 'KalturaDrmPlaybackPluginData', base: 'KalturaObjectBase', props: 'scheme:string,licenseURL:string' },
  { name: 'KalturaCaptionPlaybackPluginData', base: 'KalturaObjectBase', props: 'label:string,format:KalturaCaptionType,language:string,languageCode:string,isDefault:bool,url:string,webVttUrl:string' },
  { name: 'KalturaAccessControlMessage', base: 'KalturaObjectBase', props: 'message:string,code:string' },
  { name: 'KalturaRuleAction', base: 'KalturaObjectBase', props: 'type:KalturaRuleActionType' },
  { name: 'KalturaAccessControlBlockAction', base: 'KalturaRuleAction', props: '' },
  { name: 'KalturaAccessControlPreviewAction', base: 'KalturaRuleAction', props: 'limit:int' },
  { name: 'KalturaAccessControlLimitFlavorsAction', base: 'KalturaRuleAction', props: 'flavorParamsIds:string,isBlockedList:bool' },
  { name: 'KalturaPlaybackContext', base: 'KalturaObjectBase', props: 'sources:array:KalturaPlaybackSource,playbackCaptions:array:KalturaCaptionPlaybackPluginData,flavorAssets:array:KalturaFlavorAsset,actions:array:KalturaRuleAction,messages:array:KalturaAccessControlMessage,storyboards:array:KdeliverStoryboard' },
  { name: 'KdeliverStoryboard', base: 'KalturaObjectBase', props: 'format:string,url:string,tileWidth:int,tileHeight:int,columns:int,rows:int,intervalMs:int,sheets:int' },
  { name: 'KalturaStartWidgetSessionResponse', base: 'KalturaObjectBase', props: 'partnerId:int,ks:string,userId:string' },
  { name: 'KalturaSessionInfo', base: 'KalturaObjectBase', props: 'ks:string,sessionType:KalturaSessionType,partnerId:int,userId:string,expiry:time,privileges:string' },
  { name: 'KalturaUser', base: 'KalturaObjectBase', props: 'id:string,partnerId:int,screenName:string,type:int,status:int,isAdmin:bool,createdAt:time,updatedAt:time' },
  { name: 'KalturaMetadataListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaMetadata' },
  { name: 'KalturaMetadata', base: 'KalturaObjectBase', props: 'id:int,objectId:string,xml:string' },
  { name: 'KalturaAPIException', props: 'code:string,message:string,args:map' },
  // request objects (filters and pagers are in src/api/filters.ts)
  { name: 'KalturaPlaybackContextOptions', base: 'KalturaObjectBase', props: 'flavorTags:string,streamerType:string,mediaProtocol:string,referrer:string' },
  { name: 'KalturaFlavorAssetUrlOptions', base: 'KalturaObjectBase', props: 'fileName:string,referrer:string' },
];

export function apiSchemaXml(services: readonly ServiceModule[], generatedDate: number): string {
  const doc = create({ version: '1.0', encoding: 'utf-8' });
  const root = doc.ele('xml', { apiVersion: API_VERSION, generatedDate: String(generatedDate) });
  root.com(` Generated on date ${new Date(generatedDate * 1000).toISOString()} `);
  // the shared declarations first; a service's own come after, and a name is declared once
  const byName = <T extends { name: string }>(list: T[]) => [...new Map(list.map((x) => [x.name, x])).values()];
  const allEnums = byName([...ENUMS, ...services.flatMap((s) => s.schema?.enums ?? [])]);
  const allClasses = byName([...CLASSES, ...INPUT_CLASSES, ...services.flatMap((s) => s.schema?.classes ?? [])]);
  const enums = root.ele('enums');
  for (const e of allEnums) {
    const el = enums.ele('enum', { name: e.name, enumType: e.enumType });
    for (const [k, v] of Object.entries(e.values)) el.ele('const', { name: k, value: String(v) });
  }
  const classes = root.ele('classes');
  for (const c of allClasses) {
    const el = classes.ele('class', c.base ? { name: c.name, base: c.base } : { name: c.name });
    for (const p of c.props.split(',').filter(Boolean)) {
      const i = p.indexOf(':');
      const name = p.slice(0, i);
      const type = p.slice(i + 1);
      if (type.startsWith('array:')) el.ele('property', { name, type: 'array', arrayType: type.slice(6) });
      else el.ele('property', { name, type });
    }
  }
  const svcs = root.ele('services');
  for (const s of services) {
    const sel = svcs.ele('service', { id: s.name.toLowerCase(), name: s.name, ...(s.description ? { description: s.description } : {}) });
    for (const [name, a] of Object.entries(s.actions)) {
      const ael = sel.ele('action', { name, enableInMultiRequest: '1', ...(a.description ? { description: a.description } : {}) });
      for (const [pname, p] of Object.entries(a.params)) {
        const type = p.kalturaType && p.type !== 'array' ? p.kalturaType : p.type;
        const attrs: Record<string, string> = { name: pname, type, optional: p.required ? '0' : '1' };
        if (p.default !== undefined && p.default !== null) attrs.default = String(p.default);
        if (p.enumValues && p.kalturaType) attrs.enumType = p.kalturaType;
        ael.ele('param', attrs);
      }
      if (a.returns.startsWith('array:')) ael.ele('result', { type: 'array', arrayType: a.returns.slice(6) });
      else ael.ele('result', a.returns === 'null' ? {} : { type: a.returns });
      for (const t of a.throws ?? []) ael.ele('throws', { name: t });
    }
  }
  const errors = root.ele('errors');
  for (const [code, template] of allApiErrors()) {
    const el = errors.ele('error', { name: code, message: template });
    for (const arg of errorArgNames(code)) el.ele('arg', { name: arg });
  }
  return doc.end({ prettyPrint: true });
}
