// Where a parser quirk ends up once the request meets the real pipeline over the sample catalog
//: the /f/a.m3u8 tail reads as format=a.m3u8, which is unsupported (25).
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { DeliveryError } from '../../src/errors.js';
import { resolvePlayback } from '../../src/playback.js';
import { parsePlayRequest } from '../../src/request/play-request.js';
import { sampleCatalog } from '../selection/fixtures/sample-catalog.js';

const catalog = await sampleCatalog(t);
const config = loadConfig({ KDELIVER_DATA_DIR: '/nonexistent-kdeliver-unit', KDELIVER_LOG_LEVEL: 'silent' });
const play = async (path: string) => {
  const req = parsePlayRequest(path, { method: 'GET', rawUrl: `/p/309/sp/30900/playManifest${path}`, query: {}, headers: {}, isHttps: false, clientIp: '127.0.0.1', country: () => null, regexBudget: { left: 2_000_000 } });
  try {
    const pb = await resolvePlayback({ catalog, config, now: 1_700_000_000, baseUrl: 'http://127.0.0.1:8080' }, req);
    return { format: pb.requestedFormat, flavors: pb.flavors.map((f) => f.id) };
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e;
    return { code: e.code, message: e.message };
  }
};

t.test('QUIRK /f/a.m3u8 without a format: error 25, This format is unsupported', async (t) => {
  t.same(await play('/entryId/1_rcit0qgs/f/a.m3u8'), { code: 25, message: 'wrong query attributes, This format is unsupported' });
  t.same(await play('/entryId/1_rcit0qgs/format/applehttp/f/a.m3u8'), { format: 'applehttp', flavors: ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00'] }, 'with a format the tail is harmless');
  t.same(await play('/entryId/1_rcit0qgs/a.m3u8'), { format: 'url', flavors: ['1_f1rcit00'] }, 'a plain tail is ignored');
});

t.test('a key "0" hides what follows, even the entry id', async (t) => {
  t.same(await play('/0/x/entryId/1_rcit0qgs/format/applehttp'), { code: 1, message: 'requested entry not found, entryId is missing' });
});
