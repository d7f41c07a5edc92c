// The objects API v2 answers with (the reference's entry, uiConf and widget wrappers), made from
// the catalog records and api_v3's objects: v2 never reads the catalog on its own for a decision,
// only to show what an api_v3 action allowed it to see.
import { EntryType, MediaType, type Entry, type UiConf } from '../../catalog/types.js';
import { entryDownloadUrl } from '../objects.js';
import { V2Object } from './render.js';

const pad = (n: number): string => String(n).padStart(2, '0');
/** PHP's date('Y-m-d H:i:s') of a Unix time, in UTC. */
export function phpDate(t: number): string {
  const d = new Date(t * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export interface EntryView {
  baseUrl: string;
  protocol: 'http' | 'https';
  /** Width and height of the largest READY video flavor, for video entries. */
  size: { width: number; height: number } | null;
}

/** The reference's entry wrapper ("regular" fields; `detailed` adds the moderation fields). */
export function v2Entry(e: Entry, view: EntryView, detailed: boolean): V2Object {
  const sp = e.partnerId * 100;
  const root = `${view.baseUrl}/p/${e.partnerId}/sp/${sp}`;
  const playable = e.type === EntryType.MEDIA_CLIP && (e.mediaType === MediaType.VIDEO || e.mediaType === MediaType.AUDIO);
  const manifest = `${root}/playManifest/entryId/${e.id}`;
  const dataUrl = playable ? `${manifest}/format/url/protocol/${view.protocol}`
    : e.mediaType === MediaType.IMAGE ? `${root}/thumbnail/entry_id/${e.id}/def_height/480/def_width/640/version/${e.version}/type/1` : undefined;
  // the reference's entry names the source flavor (params 0) whatever flavors the entry has
  const downloadUrl = entryDownloadUrl(view.baseUrl, e, view.protocol, true);
  const fields: Record<string, unknown> = {
    id: e.id, name: e.name, partnerId: e.partnerId, subpId: sp,
    puserId: e.userId, tags: e.tags, status: e.status, type: e.type, mediaType: e.mediaType, kshowId: '',
    createdAt: phpDate(e.createdAt), createdAtAsInt: e.createdAt, rank: 0, totalRank: 0, duration: e.duration,
    // 1 FILE: every entry of this server comes from a file
    source: 1, dataUrl, thumbnailUrl: `${root}/thumbnail/entry_id/${e.id}/version/${e.version}`, partnerData: e.partnerData, version: e.version,
    ...(view.size && (e.mediaType === MediaType.VIDEO || e.mediaType === MediaType.IMAGE) ? { width: view.size.width, height: view.size.height } : {}),
    description: e.description, downloadUrl, views: 0, votes: 0, plays: 0, adminTags: e.adminTags,
    modifiedAt: phpDate(e.updatedAt),
  };
  if (detailed) Object.assign(fields, { comments: 0, favorites: 0, moderationStatus: e.moderationStatus, moderationCount: 0 });
  return new V2Object(fields);
}

const OBJ_TYPE_NAMES: Record<number, string> = { 1: 'PLAYER', 2: 'CONTRIBUTION_WIZARD', 3: 'SIMPLE_EDITOR', 4: 'ADVANCED_EDITOR', 5: 'PLAYLIST', 8: 'PLAYER_V3', 20: 'KUPLOAD', 23: 'PLAYER_V7' };

/** The reference's uiConf wrapper; confFile is the document as text (escaped in XML). */
export function v2UiConf(u: UiConf): V2Object {
  return new V2Object({
    id: u.id, partnerId: u.partnerId, objType: u.objType, objTypeAsString: OBJ_TYPE_NAMES[u.objType] ?? String(u.objType),
    name: u.name, width: u.width ?? undefined, height: u.height ?? undefined, htmlParams: '', swfUrl: '', confFilePath: '',
    confFile: u.confFile, confVars: u.confVars, useCdn: 1, tags: u.tags, swfUrlVersion: '', createdAt: phpDate(u.createdAt),
    updatedAt: phpDate(u.updatedAt), autoplay: 0, automuted: 0, creationMode: 1,
  });
}

/** The reference's widget wrapper for the default widget `_{partnerId}`. */
export function v2Widget(partnerId: number, uiConfId: number | null): V2Object {
  return new V2Object({
    id: `_${partnerId}`, partnerId, intId: 0, sourceWidgetId: '', rootWidgetId: `_${partnerId}`, kshowId: '', entryId: '',
    uiConfId: uiConfId ?? undefined, customData: '', widgetHtml: '', partnerData: '', securityType: 1, securityPolicy: 1,
  });
}
