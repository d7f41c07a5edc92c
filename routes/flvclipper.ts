// The legacy flvclipper service: /p/{pid}/sp/{sp}/flvclipper/entry_id/{eid}[/flavor/{id}]
// [/clip_from/{ms}][/clip_to/{ms}]... answers with a real MP4 of just that span, written on the
// fly from the flavor's file (src/media/progressive.ts), with byte ranges; an image entry, with
// its picture (routes/thumbnail.ts). Refusals are thrown to routes/common.ts's handler, which
// logs them at warn.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AssetStatus, MediaType, type Entry, type FlavorAsset } from '../src/catalog/types.js';
import { DeliveryError, withAcp } from '../src/errors.js';
import type { RequestEnv } from '../src/env.js';
import { crackKs, liveEntry, readyFlavor } from '../src/access/entry-check.js';
import type { Ks } from '../src/access/ks.js';
import { hasKalturaToken } from '../src/delivery/tokenizers/kaltura.js';
import { parseClipEnd, parseMs, parseSeek } from '../src/request/packager-url.js';
import { openClippedMp4 } from '../src/media/progressive.js';
import { routeParams } from '../src/request/path-params.js';
import { clipEtag, conditionalHeaders, planFile } from '../src/serve/file.js';
import { accessFacts, actionUrls, pathPartner, requestEnv, sendPlanned } from './http.js';
import { checkUnsignedClip, mediaAccess, mediaCacheControl } from '../src/serve/media-access.js';
import { checkClearMedia } from '../src/drm/session.js';
import type { RefusalLogConfig } from './common.js';
import { clipFlavor } from '../src/serve/downloads.js';
import { allowedPictureEntry, sendPicture } from './thumbnail.js';
import { parseThumbnailParams } from '../src/thumbnail/params.js';
import { getThumbnail } from '../src/thumbnail/service.js';

export default async function flvclipperRoutes(app: FastifyInstance) {
  const cache = app.indexCache;
  const media = app.media;

  async function handle(request: FastifyRequest, reply: FastifyReply) {
    const env = requestEnv(request);
    const params = routeParams(env.http, 'flvclipper');
    const facts = accessFacts(env.http, { ks: params.get('ks'), referrer: params.get('referrer') });
    await crackKs(env, facts.ks);
    const entry = await liveEntry(app.catalog, params.get('entry_id') ?? params.get('entryId'), pathPartner(request));
    // an image entry's clip is its picture, as Kaltura's flvclipper answers one: made as its
    // thumbnail action makes it, 640 x 480 when the URL names no size, under the THUMBNAIL rules
    if (entry.mediaType === MediaType.IMAGE) {
      const asked = new Map(params);
      for (const [key, side] of [['def_width', '640'], ['def_height', '480']]) if (!asked.has(key)) asked.set(key, side);
      const req = parseThumbnailParams(String(entry.partnerId), asked);
      const pictured = await allowedPictureEntry(env, reply, entry.partnerId, entry.id, req.ks ?? null);
      return sendPicture(request, reply, pictured, await getThumbnail(env, pictured, req));
    }
    const flavors = await app.catalog.listFlavors(entry.id);
    // as Kaltura's flvclipper reads them: flavor/1 is its old "the play flavor" (the default), and
    // without a flavor, flavor_param_id names the flavor by its params
    const named = params.get('flavor') === '1' ? undefined : params.get('flavor');
    // flavor/0 is its old "the edit flavor", as flavor/edit
    const edit = named === '0' || named === 'edit';
    const byParams = params.get('flavor_param_id');
    const ofParams = (id: string) => (/^\d+$/.test(id) ? flavors.find((f) => String(f.flavorParamsId) === id && f.status === AssetStatus.READY) : undefined);
    // the flavor named, else the default among those the rules let this caller have
    const choose = (allowed: (f: FlavorAsset) => boolean) => (edit ? clipFlavor(flavors.filter(allowed), true) : named ? flavors.find((f) => f.id === named) ?? ofParams(named) : byParams ? ofParams(byParams) : clipFlavor(flavors.filter(allowed)));
    // a URL with kdeliver's media signature is checked as every signed media URL is; an unsigned
    // one, as Kaltura's flvclipper is, by the entry's PLAY rules with the request's own KS (ks
    // parameter or X-Kaltura-Ks) and referrer, a preview clipping the answer, and by its SERVE
    // rules, as every media route applies them (README "Protected media stays protected")
    let previewMs: number | null = null;
    let ks: Ks | string | null = params.get('ks') ?? null;
    let flavor: FlavorAsset | undefined;
    // the X-Kaltura-ACP of the evaluation the clip was judged by (SERVE or PLAY rules)
    let acp: string | null;
    const signed = hasKalturaToken(env.http.rawUrl.split('?')[0]);
    if (signed) {
      flavor = readyFlavor(choose(() => true), entry);
      const checked = await mediaAccess(env, entry, flavor);
      if (checked.refusal) throw withAcp(checked.refusal, checked.acp);
      acp = checked.acp;
    } else {
      ({ flavor, previewMs, ks, acp } = await checkUnsignedClip(env, facts, entry, choose));
    }
    try {
      return await clip(request, reply, env, params, entry, flavor, ks, previewMs, signed, acp);
    } catch (e) {
      throw withAcp(e, acp);
    }
  }

  async function clip(request: FastifyRequest, reply: FastifyReply, env: RequestEnv, params: Map<string, string>, entry: Entry, flavor: FlavorAsset, ks: Ks | string | null, previewMs: number | null, signed: boolean, acp: string | null) {
    // an encrypted entry's clip would be clear media: an admin's only
    await checkClearMedia(env, entry, ks);
    const from = (params.has('clip_from') ? parseMs('clip_from', params.get('clip_from')) : parseSeek('seek_from', params.get('seek_from'))) ?? 0;
    const asked = parseClipEnd('clip_to', params.get('clip_to'));
    const to = previewMs === null ? asked : Math.min(asked ?? previewMs, previewMs);
    if (to !== undefined && to <= from) throw new DeliveryError('BAD_QUERY', `, clip_to ${to} is not after clip_from ${from}`);
    const mp4 = await openClippedMp4(media.locate(flavor.filePath), from, to, cache, media);
    // validators, conditional requests and ranges as serveFlavor's clip of the same span has them
    const plan = planFile(mp4.size, clipEtag(flavor, from, to, mp4.size), mp4.contentType, conditionalHeaders(request.headers));
    plan.headers['Cache-Control'] = await mediaCacheControl(env, entry, signed);
    if (acp !== null) plan.headers['X-Kaltura-ACP'] = acp;
    return sendPlanned(request, reply, plan, (start, end) => mp4.read(start, end), media);
  }
  // HEAD declared explicitly: Fastify's automatic HEAD route would reset Content-Length to 0. The
  // URL forms Kaltura's web server routes to flvclipper: under /p/{pid}[/sp/{sp}] (that partner's
  // entries only, as on every media route), the same behind /s (its secure-link prefix), at the
  // root and /s/flvclipper (any partner's entry, as /index.php/keditorservices/flvclipper, the
  // action's own path), which old feeds and embeds wrote; the bare action (…/flvclipper?entry_id=…)
  // reads its parameters from the query
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/s/p/:pid/sp/:sp', '/s/p/:pid', '', '/s', '/index.php/keditorservices']) {
    for (const url of actionUrls(prefix, 'flvclipper')) app.route({ method: ['GET', 'HEAD'], url, handler: handle, config: { refusalLog: 'flvclipper' } satisfies RefusalLogConfig });
  }
}
