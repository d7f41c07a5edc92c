// The thumbnail disk cache outlives an upgrade: a rendering an earlier kdeliver kept under a
// request's key must not answer it when the same request now renders differently. 9b0c205 kept
// /width/120/type/3 as a 120x68 picture (type 3 with one side kept the ratio); it is now a
// 120x120 square crop (src/thumbnail/image.ts). The old file is planted where 9b0c205 wrote it
// (src/thumbnail/service.ts getThumbnail's key of that version) before the first request.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { thumbnailCacheDir } from '../../src/storage/paths.js';
import { parseThumbnailParams, renditionKey } from '../../src/thumbnail/params.js';
import { frameSourceOf } from '../../src/thumbnail/source.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');

t.test('a rendering kept by an earlier version is not sent for a request that now renders differently', async (t) => {
  const srv = await startServer(t);
  const entry = (await srv.app.catalog.getEntry('1_rcit0qgs'))!;
  const req = parseThumbnailParams('309', new Map([['entry_id', entry.id], ['width', '120'], ['type', '3']]));
  const video = await frameSourceOf(srv.app.catalog, entry);
  const oldKey = createHash('sha1').update(JSON.stringify([renditionKey(req), entry.id, entry.version, entry.updatedAt, entry.thumbnailFile, video?.id, video?.version])).digest('hex').slice(0, 32);
  const dir = thumbnailCacheDir(srv.app.config.dataDir, entry.partnerId, entry.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${oldKey}.jpg`), await sharp({ create: { width: 120, height: 68, channels: 3, background: '#000' } }).jpeg().toBuffer());

  const res = await fetch(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/width/120/type/3`);
  t.equal(res.status, 200);
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  t.equal(`${meta.width}x${meta.height}`, '120x120', "today's square crop, not the kept 120x68");
  t.not(res.headers.get('etag'), `"${oldKey}"`, 'under an ETag of its own (a browser holding the old one gets the new picture)');
});
