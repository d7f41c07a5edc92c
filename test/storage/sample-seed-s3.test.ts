// The sample library seeded by a node whose media are on S3 (KDELIVER_MEDIA_URL=s3://...): its
// media go to the store, under the prefix, where the catalog's paths name them, so every node
// plays the sample entries; nothing is left in the seeding node's own data directory, which no
// other node reads. Before, the seed wrote the files to {data dir}/media while every node read the
// bucket: the server's own "try" URLs answered error 5 FILE_NOT_FOUND on every node.
// Real parts: PostgreSQL, s3rver through the real AWS SDK, ffmpeg decoding.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startPostgres } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { filesUnder, startS3 } from '../helpers/media-origins.js';
import { decodeAll, sampleEntry } from '../helpers/media-tools.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const s3 = await startS3(t);
const cluster = await startPostgres(t);

async function keysUnder(prefix: string): Promise<string[]> {
  const r = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/` }));
  return (r.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort();
}

/** format/url of the sample's 720p flavor on `s`, followed to the file, decoded. */
async function playsMp4(t: Test, s: TestServer, label: string) {
  const pm = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/flavorParamId/301971/video.mp4`, { redirect: 'manual' });
  t.equal(pm.status, 302, `${label}: playManifest redirects to the file`);
  const res = await fetch(new URL(pm.headers.get('location')!, s.url));
  const body = Buffer.from(await res.arrayBuffer());
  t.equal(res.status, 200, `${label}: the file is served (${res.status} ${res.status === 200 ? '' : body.toString().slice(0, 120)})`);
  if (res.status !== 200) return;
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-seed-'));
  try {
    writeFileSync(join(dir, 'a.mp4'), body);
    const d = await decodeAll(join(dir, 'a.mp4'));
    t.equal(d.code, 0, `${label}: ffmpeg decodes it`);
    t.ok(d.streams.some((st) => st.mediaType === 'video' && st.frames.length > 0), `${label}: video frames`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The files the sample library's catalog names for 1_rcit0qgs, as media keys. */
const sampleFiles = (sampleEntry('1_rcit0qgs').flavors ?? []).map((f) => `309/1_rcit0qgs/${f.file}`);

t.test('PostgreSQL catalog: the seeding node puts the sample media in the store; another node plays them', async (t) => {
  const env = { ...s3.env('pg-seeded'), KDELIVER_DATABASE_URL: await cluster.createDatabase(), KDELIVER_SAMPLE_LIBRARY: 'true' };
  const a = await startServer(t, { env });
  const keys = await keysUnder('pg-seeded');
  for (const f of sampleFiles) t.ok(keys.includes(f), `${f} is in the bucket under the prefix`);
  t.same(existsSync(a.config.mediaRoot) ? filesUnder(a.config.mediaRoot) : [], [], 'nothing in the seeding node\'s own media folder');
  const b = await startServer(t, { env });
  await playsMp4(t, b, 'node B');
  await playsMp4(t, a, 'node A');
});

t.test('SQLite catalog, media on S3: the seed goes to the store', async (t) => {
  const env = { ...s3.env('sqlite-seeded'), KDELIVER_SAMPLE_LIBRARY: 'true' };
  const a = await startServer(t, { env });
  const keys = await keysUnder('sqlite-seeded');
  for (const f of sampleFiles) t.ok(keys.includes(f), `${f} is in the bucket under the prefix`);
  t.same(existsSync(a.config.mediaRoot) ? filesUnder(a.config.mediaRoot) : [], [], 'nothing in the local media folder');
  await playsMp4(t, a, 'the node');
});
