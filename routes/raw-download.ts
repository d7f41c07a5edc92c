// raw and download: an entry's file as a download, as Kaltura's raw and download actions give it
// (raw: the original, data file or document; download: a 302 to the `relocate` URL, then the
// flavor). The DOWNLOAD access-control context applies; an admin KS or a download privilege skips
// it. Refusals are thrown to routes/common.ts's handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntryType, MediaType, type Entry } from '../src/catalog/types.js';
import { DeliveryError, withAcp } from '../src/errors.js';
import { routeParams } from '../src/request/path-params.js';
import { checkEntryAccess, crackKs, liveEntry, partnerOf } from '../src/access/entry-check.js';
import type { RequestEnv } from '../src/env.js';
import { ksHasPrivilege, type Ks } from '../src/access/ks.js';
import { downloadFile, previewBytes, rawFile, relocateName, safeName, withoutExt, type ServedFile } from '../src/serve/downloads.js';
import { attachmentDisposition, conditionalHeaders, contentTypeOf, mediaFile, planFile } from '../src/serve/file.js';
import { accessFacts, actionUrls, pathPartner, requestEnv, sendFile } from './http.js';
import { mediaCacheControl } from '../src/serve/media-access.js';
import { checkClearMedia } from '../src/drm/session.js';

type Params = Map<string, string>;

/**
 * A KS's `preview:{bytes}` privilege: at most this many bytes of a file, as Kaltura's download
 * reads it (null without one). flavorAsset.getUrl's download KS for a session that may have only a
 * preview carries it beside `download:{entry}`, which skips the rules on raw as on download: both
 * actions cut the file by it, or that KS would open the whole original on raw.
 */
function ksPreviewBytes(ks: Ks | null): number | null {
  const bytes = Number(ks?.privileges.get('preview')?.[0]);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

export default async function rawDownloadRoutes(app: FastifyInstance) {
  /** Session and DOWNLOAD-context rules; an admin KS or download:* / download:{entry} skips them. */
  async function authorize(request: FastifyRequest, env: RequestEnv, params: Params, entryId: string) {
    const facts = accessFacts(env.http, { ks: params.get('ks'), referrer: params.get('referrer') });
    await crackKs(env, facts.ks);
    const entry = await liveEntry(env.catalog, entryId, pathPartner(request));
    const partner = await partnerOf(env.catalog, entry, true);
    const checked = await checkEntryAccess(env, facts, entry, partner, 'DOWNLOAD', {
      bypass: (ks) => ks.isAdmin || ksHasPrivilege(ks, 'download', entry.id) || ksHasPrivilege(ks, 'download', '*'),
    });
    // an encrypted entry's files are its clear media: an admin's only, whatever else the session may do
    await checkClearMedia(env, entry, checked.ks).catch((e: unknown) => {
      throw withAcp(e, checked.acp);
    });
    return { entry, ks: checked.ks, limit: checked.access?.limitFlavors ?? null, previewMs: checked.previewMs, acp: checked.acp };
  }

  /**
   * The rest of an answer after the DOWNLOAD rules ran: it, its redirect or its refusal carries
   * their X-Kaltura-ACP (src/access/evaluate.ts acpHeader), as Kaltura's raw and download send it.
   */
  async function afterRules(reply: FastifyReply, acp: string | null, answer: () => Promise<FastifyReply>): Promise<FastifyReply> {
    if (acp !== null) reply.header('X-Kaltura-ACP', acp);
    try {
      return await answer();
    } catch (e) {
      throw withAcp(e, acp);
    }
  }

  async function serve(request: FastifyRequest, reply: FastifyReply, env: RequestEnv, entry: Entry, served: ServedFile, opts: { attachment: boolean; byteLimit: number | null }) {
    const { name: file, size: fullSize } = await mediaFile(app.media, served.path);
    const size = opts.byteLimit !== null ? Math.min(fullSize, opts.byteLimit) : fullSize;
    const plan = planFile(size, `"${served.path.replace(/[^A-Za-z0-9._-]/g, '')}-${size}"`, contentTypeOf(file), conditionalHeaders(request.headers));
    plan.headers['Cache-Control'] = await mediaCacheControl(env, entry, false);
    if (opts.attachment) plan.headers['Content-Disposition'] = attachmentDisposition(served.name);
    return sendFile(request, reply, app.media, file, plan);
  }

  /**
   * How much of the file a preview allows (null: all of it): a preview rule's seconds as bytes
   * (previewBytes), and a KS's `preview:{bytes}` (ksPreviewBytes), the smaller. Kaltura's raw action
   * reads neither, so an anonymous user allowed a 5-second preview took the whole original there
   * while download cut it; kdeliver cuts both (README, "Downloads").
   */
  async function previewLimit(entry: Entry, ks: Ks | null, previewMs: number | null, served: ServedFile): Promise<number | null> {
    const ruleLimit = previewMs !== null
      ? previewBytes((await mediaFile(app.media, served.path)).size, previewMs / 1000, entry.duration)
      : null;
    const ksLimit = ksPreviewBytes(ks);
    return ksLimit !== null ? Math.min(ksLimit, ruleLimit ?? ksLimit) : ruleLimit;
  }

  /** The request URI with a path pair or query value added, for the relocate redirects. */
  function relocated(request: FastifyRequest, pathAddition: string, queryKey: string, queryValue: string): string {
    const raw = request.raw.url ?? request.url;
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = q < 0 ? '' : raw.slice(q + 1);
    const add = `${queryKey}=${encodeURIComponent(queryValue)}`;
    return `${path.replace(/\/+$/, '')}${pathAddition}?${query ? `${query}&` : ''}${add}`;
  }

  async function raw(request: FastifyRequest, reply: FastifyReply) {
    const env = requestEnv(request);
    const params = routeParams(env.http, 'raw');
    const entryId = params.get('entry_id') ?? params.get('entryId');
    if (!entryId) throw new DeliveryError('ENTRY_NOT_FOUND', ', entry_id is missing');
    const { entry, ks, limit, previewMs, acp } = await authorize(request, env, params, entryId);
    return afterRules(reply, acp, async () => {
      const served = await rawFile(app.catalog, entry, {
        type: params.get('type') ?? null, format: params.get('format') ?? null, fileName: params.get('file_name') ?? null, limit,
      });
      const relocate = params.get('relocate');
      if (relocate) served.name = `${withoutExt(served.name, served.ext)}.${relocate.split('.').pop()}`;
      const direct = params.has('direct_serve') && params.get('direct_serve') !== '0';
      const isDocument = entry.type === EntryType.DOCUMENT;
      const dumpDirectly = isDocument || entry.mediaType === MediaType.IMAGE || params.get('type') === 'download' || params.has('forceproxy') || !!relocate;
      if (!dumpDirectly) {
        reply.header('Access-Control-Allow-Origin', '*');
        return reply.redirect(relocated(request, `/${safeName(withoutExt(served.name, served.ext))}.${served.ext}`, 'relocate', `f.${served.ext}`), 302);
      }
      return serve(request, reply, env, entry, served, { attachment: !direct, byteLimit: await previewLimit(entry, ks, previewMs, served) });
    });
  }

  async function download(request: FastifyRequest, reply: FastifyReply) {
    const env = requestEnv(request);
    const params = routeParams(env.http, 'download');
    const entryId = params.get('entry_id') ?? params.get('entryId');
    if (!entryId) throw new DeliveryError('ENTRY_NOT_FOUND', ', entry_id is missing');
    const { entry, ks, limit, previewMs, acp } = await authorize(request, env, params, entryId);
    return afterRules(reply, acp, async () => {
      const served = await downloadFile(app.catalog, entry, {
        flavorId: params.get('flavor') ?? null, fileName: params.get('file_name') ?? null, limit,
        downloadAssetIds: ks?.privileges.get('downloadasset') ?? [],
      });
      if (!params.get('relocate')) {
        reply.header('Access-Control-Allow-Origin', '*');
        const raw = request.raw.url ?? request.url;
        const target = raw.includes('?')
          ? `${raw}&relocate=${encodeURIComponent(relocateName(served.name))}`
          : `${raw.replace(/\/+$/, '')}/relocate/${encodeURIComponent(relocateName(served.name))}`;
        return reply.redirect(target, 302);
      }
      const direct = params.has('direct_serve') && params.get('direct_serve') !== '0';
      return serve(request, reply, env, entry, served, { attachment: !direct, byteLimit: await previewLimit(entry, ks, previewMs, served) });
    });
  }

  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/index.php/extwidget', '/extwidget']) {
    // HEAD is routed here too (not to Fastify's automatic HEAD), so it keeps the file's Content-Length;
    // the bare action (/index.php/extwidget/raw?entry_id=…) reads its parameters from the query
    for (const url of actionUrls(prefix, 'raw')) app.route({ method: ['GET', 'HEAD'], url, handler: raw });
    for (const url of actionUrls(prefix, 'download')) app.route({ method: ['GET', 'HEAD'], url, handler: download });
  }
}
