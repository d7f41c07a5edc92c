// A refused packager request leaves exactly one log line, at warn level, saying why.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';

const lines: Array<{ level: number; msg: string }> = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
    done();
  },
});
const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-log-'));
const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'warn' });
const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream: sink } });
t.teardown(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});
const F = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00';

for (const [url, status, why] of [
  [`/hls${F}/name/a.mp4/seg-42-v1-a1.ts`, 404, /segment 42 is out of range/],
  [`/dash${F}/clipFrom/90000/name/a.mp4/manifest.mpd`, 400, /clipFrom 90000 is past the end/],
  [`/hls${F}/name/a.mp4/what.ever`, 404, /unknown hls file name/],
  ['/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_from/9000/clip_to/100', 400, /clip_to 100 is not after clip_from 9000/],
] as const) {
  t.test(url, async (t) => {
    const before = lines.length;
    const r = await app.inject({ method: 'GET', url });
    t.equal(r.statusCode, status);
    const mine = lines.slice(before);
    t.equal(mine.length, 1, 'one log line');
    t.equal(mine[0]?.level, 40, 'at warn level');
    t.match(mine[0]?.msg, why);
  });
}
