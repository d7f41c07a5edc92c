// docker/compose.scale.yaml (two nodes, PostgreSQL, S3, nginx in front), checked as far as it can
// be without a container engine:
// - the compose files parse, and what they wire together agrees: every node variable is one
//   src/config.ts knows and loads into a PostgreSQL catalog and S3 media, the nodes share their
//   secrets, the database URL, S3 endpoint, bucket and credentials name what the other services
//   set up, and every mounted file is in docker/ where nginx includes it;
// - `nginx -t` accepts nginx.scale.conf with the files it includes;
// - the same topology runs natively: a throwaway PostgreSQL, s3rver, a SQLite/local library moved
//   into them with the README's commands (`kdeliver copy-catalog`, `aws s3 sync`), two
//   `kdeliver serve` processes, and the machine's nginx with nginx.scale.conf in front (only the
//   upstream addresses, listen port and cache directory changed). Through nginx a playManifest
//   and a segment play, both nodes answer, and the second fetch of a segment comes from nginx's cache.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { generateKs } from '../../src/access/ks.js';
import { installedCommand, run, type Served } from '../helpers/command.js';
import { filesUnder, sha256, startS3 } from '../helpers/media-origins.js';
import { startNginxWith } from '../helpers/nginx.js';
import { startPostgres } from '../helpers/postgres.js';
import { shipped, shippedSite } from '../helpers/shipped-nginx.js';
import { requireCommands } from '../helpers/system.js';
import { repoPath } from '../helpers/repo.js';

type Service = {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} from `vars`. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::([-?])((?:[^{}]|\{[^}]*\})*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = vars[name];
    if (v) return v;
    if (op === '-') return arg ?? '';
    if (op === '?') throw new Error(`required variable ${name} unset: ${arg}`);
    return '';
  });
}

const SECRETS = { KDELIVER_URL_TOKEN_SECRET: 'a'.repeat(32) + '-url-token', KDELIVER_MEDIA_URL_SECRET: 'b'.repeat(32) + '-media-url' };
const readCompose = (file: string, vars: Record<string, string> = SECRETS): Compose => parse(interpolate(shipped(file), vars), { merge: true }) as Compose;

t.test('compose.scale.yaml: services and variables agree with src/config.ts and each other', async (t) => {
  t.throws(() => readCompose('compose.scale.yaml', {}), /KDELIVER_URL_TOKEN_SECRET/, 'the shared secrets must be given (a node left to generate them would refuse the other node\'s URLs)');
  const c = readCompose('compose.scale.yaml');
  const s = c.services;
  t.same(Object.keys(s).sort(), ['library', 'nginx', 'node-a', 'node-b', 'postgres', 's3', 's3-setup']);

  const env = s['node-a'].environment!;
  t.same(s['node-b'], s['node-a'], 'the two nodes are the same service twice (environment, image, dependencies)');
  t.ok(s['node-a'].build, 'the nodes are built from the Dockerfile');
  t.match(JSON.stringify(s['node-a'].build), /docker\/Dockerfile/);
  t.same(s['node-a'].depends_on, { postgres: { condition: 'service_healthy' }, 's3-setup': { condition: 'service_completed_successfully' } });

  // every variable is one config.ts knows (KDELIVER_CONFIG refuses unknown keys), and they load
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-compose-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'env.json'), JSON.stringify({ ...env, KDELIVER_DATA_DIR: dir }));
  const config = loadConfig({ KDELIVER_CONFIG: join(dir, 'env.json'), NODE_ENV: 'production', PATH: process.env.PATH });
  t.equal(config.production, true, 'the image runs with NODE_ENV=production');
  t.equal(config.sampleLibrary, false);
  t.equal(config.urlTokenSecret, SECRETS.KDELIVER_URL_TOKEN_SECRET, 'secrets from the environment, not generated per node');
  t.equal(config.mediaUrlSecret, SECRETS.KDELIVER_MEDIA_URL_SECRET);
  t.equal(config.media.kind, 's3');
  if (config.media.kind !== 's3') return;
  t.equal(config.media.forcePathStyle, true);
  t.equal(config.mediaCacheBytes, 256 * 1024 * 1024);

  // the catalog is the postgres service's database, with its credentials
  const db = new URL(config.databaseUrl!);
  const pgEnv = s.postgres.environment!;
  t.equal(db.hostname, 'postgres');
  t.equal(decodeURIComponent(db.username), pgEnv.POSTGRES_USER);
  t.equal(decodeURIComponent(db.password), pgEnv.POSTGRES_PASSWORD);
  t.equal(db.pathname, `/${pgEnv.POSTGRES_DB}`);
  t.equal(s.library.environment!.KDELIVER_DATABASE_URL, env.KDELIVER_DATABASE_URL, 'the library step fills the same catalog');
  for (const k of ['KDELIVER_URL_TOKEN_SECRET', 'KDELIVER_MEDIA_URL_SECRET']) t.equal(s.library.environment![k], env[k], `library step: same ${k}`);

  // media: the s3 service, with its credentials; the setup step makes that bucket and fills that prefix
  t.equal(new URL(config.media.endpoint!).hostname, 's3');
  t.equal(s.s3.environment!.RUSTFS_ACCESS_KEY, env.AWS_ACCESS_KEY_ID);
  t.equal(s.s3.environment!.RUSTFS_SECRET_KEY, env.AWS_SECRET_ACCESS_KEY);
  const setup = s['s3-setup'];
  for (const k of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) t.equal(setup.environment![k], env[k], `s3-setup: same ${k}`);
  const script = ([] as string[]).concat(setup.command ?? []).join(' ');
  t.match(script, `aws s3 mb s3://${config.media.bucket}`);
  t.match(script, `aws s3 sync /library/media s3://${config.media.bucket}/${config.media.prefix}`);
  t.ok(setup.volumes!.includes('library-media:/library:ro') && s.library.volumes!.includes('library-media:/data'),
    'what the library step writes in /data/media is what s3-setup copies');

  // nginx: the scale configuration and the files it includes, where it includes them
  const mounts = Object.fromEntries(s.nginx.volumes!.map((v) => v.split(':')).map(([from, to]) => [to, from]));
  t.equal(mounts['/etc/nginx/conf.d/default.conf'], './nginx.scale.conf');
  const conf = shipped('nginx.scale.conf');
  for (const inc of [...conf.matchAll(/^\s*include\s+([^;]+);/gm)].map((m) => m[1])) {
    t.ok(mounts[`/etc/nginx/${inc}`], `${inc} is mounted where nginx reads it (/etc/nginx/${inc})`);
  }
  for (const [, from] of Object.entries(mounts)) if (from.startsWith('./')) t.ok(existsSync(repoPath(`docker/${from.slice(2)}`)), `docker/${from.slice(2)} exists`);
  const upstreams = [...conf.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  t.same(upstreams, ['node-a:8080', 'node-b:8080'], 'nginx balances over both nodes, on the port the image listens on (PORT=8080)');
  t.match(readFileSync(repoPath('docker/Dockerfile'), 'utf8'), /PORT=8080/);
  t.same(Object.keys(s.nginx.depends_on!).sort(), ['node-a', 'node-b']);
  const named = new Set(Object.keys(c.volumes ?? {}));
  for (const svc of Object.values(s)) {
    for (const v of svc.volumes ?? []) {
      const from = v.split(':')[0];
      if (!from.startsWith('.')) t.ok(named.has(from), `volume ${from} is declared`);
    }
  }

  // the one-node compose file mounts the same included files
  const one = readCompose('compose.yaml');
  const oneMounts = one.services.cache.volumes!.map((v) => v.split(':').slice(0, 2).join(':'));
  for (const f of ['nginx-cache-zone.conf', 'nginx-cache-rules.conf']) t.ok(oneMounts.includes(`./${f}:/etc/nginx/kdeliver/${f}`), `compose.yaml mounts ${f}`);
});

/** kdeliver_http_requests_total of a node, summed over every family but health and metrics. */
async function answered(node: Served): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^kdeliver_http_requests_total\{([^}]*)\} (\d+)/gm)) if (!/family="(health|metrics)"/.test(m[1])) n += Number(m[2]);
  return n;
}

t.test('the scale topology, natively: PostgreSQL + S3 + two nodes + nginx.scale.conf', async (t) => {
  requireCommands(t, ['aws'], 'awscli');
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cmd = installedCommand(t, dir);

  // an existing one-box library: the sample library in SQLite and local media
  const old = join(dir, 'old');
  const made = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: old, KDELIVER_SAMPLE_LIBRARY: 'true' });
  t.equal(made.code, 0, made.stderr);
  t.ok(existsSync(join(old, 'catalog.sqlite')));

  // moved, with the README's commands: the catalog...
  const pg = await startPostgres(t);
  const databaseUrl = await pg.createDatabase('kdeliver_scale');
  const copied = await cmd.kdeliver(['copy-catalog'], { KDELIVER_DATA_DIR: old, KDELIVER_DATABASE_URL: databaseUrl });
  t.equal(copied.code, 0, copied.stderr);
  t.match(copied.stdout, /copied \d+ rows from .*catalog\.sqlite to postgres:\/\/kdeliver:\*\*\*@/);
  t.notMatch(copied.stdout + copied.stderr, pg.password, 'the database password is not printed');
  t.match(copied.stdout, /entries \d+/);
  const again = await cmd.kdeliver(['copy-catalog'], { KDELIVER_DATA_DIR: old, KDELIVER_DATABASE_URL: databaseUrl });
  t.equal(again.code, 0, 'copying again replaces the same rows');
  const unset = await cmd.kdeliver(['copy-catalog'], { KDELIVER_DATA_DIR: old });
  t.equal(unset.code, 2);
  t.match(unset.stderr, /KDELIVER_DATABASE_URL is not set/);

  // ...and the media, with the AWS command line into the bucket and prefix the nodes read
  const s3 = await startS3(t, 'kdeliver-media');
  const s3env = s3.env('media');
  writeFileSync(join(dir, 'aws-config'), '[default]\ns3 =\n    addressing_style = path\n');
  const awsEnv = { AWS_CONFIG_FILE: join(dir, 'aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_ENDPOINT_URL: s3env.AWS_ENDPOINT_URL, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: s3env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: s3env.AWS_SECRET_ACCESS_KEY };
  // (a child process of its own: s3rver answers from this process's event loop)
  const sync = await run('aws', ['--endpoint-url', s3env.AWS_ENDPOINT_URL, 's3', 'sync', join(old, 'media'), 's3://kdeliver-media/media'], { env: awsEnv });
  t.equal(sync.code, 0, `aws s3 sync: ${sync.stderr}`);
  const local = filesUnder(join(old, 'media'));
  t.ok(local.length > 5, `${local.length} media files`);
  for (const f of local) t.equal(sha256(await s3.get(`media/${f}`)), sha256(readFileSync(join(old, 'media', f))), `s3://kdeliver-media/media/${f} is the local file, byte for byte`);

  // two nodes: same catalog, same media, same secrets; each its own (scratch) data directory
  const nodeEnv = (name: string) => ({
    KDELIVER_DATA_DIR: join(dir, name), NODE_ENV: 'production', KDELIVER_SAMPLE_LIBRARY: 'false', KDELIVER_TRUST_PROXY: 'true',
    KDELIVER_DATABASE_URL: databaseUrl, ...s3env, ...SECRETS, KDELIVER_MEDIA_CACHE_MB: '64',
  });
  const [a, b] = await Promise.all([cmd.serve(nodeEnv('node-a')), cmd.serve(nodeEnv('node-b'))]);

  const nginx = await startNginxWith(t, (port, prefix) => shippedSite('nginx.scale.conf', prefix, port, {
    'node-a:8080': new URL(a.url).host, 'node-b:8080': new URL(b.url).host,
  }));
  const test = spawnSync('nginx', ['-t', '-p', nginx.prefix, '-c', join(nginx.prefix, 'nginx.conf')], { encoding: 'utf8' });
  t.equal(test.status, 0, `nginx -t: ${test.stderr}`);
  t.match(test.stderr, /syntax is ok/);

  const get = (path: string) => fetch(nginx.url + path, { redirect: 'manual' });
  const before = [await answered(a), await answered(b)];

  const pmBase = '/p/309/sp/30900/playManifest/entryId/1_rcit0qgs';
  const prog = await get(`${pmBase}/format/url/protocol/http/flavorParamId/301961/a.mp4`);
  t.equal(prog.status, 302, 'a progressive playManifest through nginx');
  const mp4 = new URL(prog.headers.get('location')!, nginx.url);
  t.equal(mp4.host, new URL(nginx.url).host, 'the URLs the nodes emit name the proxy');
  const mp4Bytes = Buffer.from(await (await get(mp4.pathname + mp4.search)).arrayBuffer());
  t.ok(mp4Bytes.length > 10_000, `${mp4Bytes.length} bytes of MP4 through nginx`);

  // HLS: master, variant playlist, then a segment twice: the second from nginx's cache
  const master = await get(`${pmBase}/format/applehttp/protocol/http/a.m3u8`);
  t.equal(master.status, 200);
  const masterText = await master.text();
  t.match(masterText, /#EXT-X-STREAM-INF/);
  const variantUrl = new URL(masterText.split('\n').find((l) => l && !l.startsWith('#'))!, nginx.url + pmBase + '/');
  t.equal(variantUrl.host, new URL(nginx.url).host);
  const variant = await get(variantUrl.pathname + variantUrl.search);
  t.equal(variant.status, 200);
  const segLine = (await variant.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
  const segUrl = new URL(segLine, variantUrl);
  const seg1 = await get(segUrl.pathname + segUrl.search);
  const seg1Bytes = Buffer.from(await seg1.arrayBuffer());
  t.equal(seg1.status, 200);
  t.equal(seg1.headers.get('x-cache-status'), 'MISS', 'the first fetch of a segment goes to a node');
  t.equal(seg1Bytes[0], 0x47, 'an MPEG-TS segment (sync byte)');
  const countsAfterFirst = [await answered(a), await answered(b)];
  const seg2 = await get(segUrl.pathname + segUrl.search);
  const seg2Bytes = Buffer.from(await seg2.arrayBuffer());
  t.equal(seg2.headers.get('x-cache-status'), 'HIT', 'the second fetch of the segment comes from nginx\'s cache');
  t.equal(sha256(seg2Bytes), sha256(seg1Bytes), 'the same bytes');
  t.same([await answered(a), await answered(b)], countsAfterFirst, 'no node answered the cached segment');
  const direct = Buffer.from(await (await fetch(b.url + segUrl.pathname + segUrl.search)).arrayBuffer());
  t.ok(direct.equals(seg1Bytes), 'node-b packages the same segment byte for byte');

  // per-viewer requests (a KS) bypass the cache, go round robin, and a media URL one node signed
  // plays from the other (same secrets, same catalog)
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now: Math.floor(Date.now() / 1000), privileges: 'sview:*' });
  for (let i = 0; i < 4; i++) {
    const r = await get(`/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/protocol/http/ks/${ks}/a.mp4`);
    t.equal(r.status, 302);
    t.equal(r.headers.get('x-cache-status'), 'BYPASS');
    const media = new URL(r.headers.get('location')!, nginx.url);
    const m = await get(media.pathname + media.search);
    t.equal(m.status, 200, `signed media URL ${i + 1} plays through nginx`);
    await m.arrayBuffer();
  }
  const after = [await answered(a), await answered(b)];
  t.ok(after[0] - before[0] >= 4 && after[1] - before[1] >= 4, `both nodes answered (node-a ${after[0] - before[0]}, node-b ${after[1] - before[1]} requests)`);

  t.equal(await a.stop(), 0);
  t.equal(await b.stop(), 0);
});
