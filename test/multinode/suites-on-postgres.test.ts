// The existing HTTP suites on the backends of a multi-node deployment, in every `npm test`: a
// representative part of the playManifest, packager and api_v3 test files runs as a child `tap`
// with the switches of test/helpers/server.ts, so every server they start runs on a throwaway
// PostgreSQL catalog (KDELIVER_TEST_CATALOG=postgres) and, for the second group, reads its media
// from an s3rver bucket through the AWS SDK (KDELIVER_TEST_MEDIA=s3). This test fails when any of
// them fails, with the child's failures in its output. The whole suite can be run so by hand:
//   KDELIVER_TEST_CATALOG=postgres npm test           (or with KDELIVER_TEST_MEDIA=s3 as well)
//
import t from 'tap';
import { spawn } from 'node:child_process';
import { projectRoot } from '../helpers/repo.js';
import { startPostgres } from '../helpers/postgres.js';
import { childTapArgs } from '../helpers/repo.js';

// The files, chosen for what they cover per second (together under 4 minutes on 2 cores, measured
// at a load average of 17; more files would multiply that):
const ON_POSTGRES = [
  // playManifest: every format, response format, access-control rule, KS, error code and cache
  // header over HTTP, on the sample library's entries
  'test/http/play-manifest.test.ts',
  // the packager: every HLS/DASH/MSS file type, URL sets, clipping, ranges, bad input; it reads
  // catalog rows (flavors, entries) on every request
  'test/http/packager.test.ts',
  // api_v3: every read service and the library writes (entries, flavors, profiles, captions,
  // sessions) through the front controller, JSON and XML, multirequest
  'test/api/services.test.ts',
];
// With media on S3 too. packager.test.ts and serve-raw-download.test.ts compare answers with the
// files of the local media folder and so cannot run here; these two read media only over HTTP.
const ON_POSTGRES_AND_S3 = [
  // playManifest again: its redirects and manifests need the media's index from the bucket
  'test/http/play-manifest.test.ts',
  // packaged segments of protected entries (KS, encryption, tokens) read from the bucket
  'test/packaging/packager-access.test.ts',
];

// the child runs take minutes, more under load: tap's per-file limit (package.json) is shorter
t.setTimeout(20 * 60_000);

// PostgreSQL missing: installed here as root, or this fails with the command to run, before any
// child starts (each child file makes its own cluster)
const probe = await startPostgres(t);
probe.stop();

function childTap(files: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // tap's own TAP_* variables describe this file's run, not the child's
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAP') && !k.startsWith('KDELIVER_')));
    const child = spawn(process.execPath, [`${projectRoot}/node_modules/.bin/tap`, '--jobs=2', '--disable-coverage', ...childTapArgs(files)], {
      cwd: projectRoot, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, ms: Date.now() - started }));
  });
}

/** The child's failing assertions and the files they are in, short enough to read. */
function failures(out: string): string {
  return out.split('\n').filter((l) => /^\s*not ok |^\s*(fileName|message|found|wanted|error):|^# \{/.test(l)).slice(0, 80).join('\n');
}

for (const [name, files, env] of [
  ['PostgreSQL catalog', ON_POSTGRES, { KDELIVER_TEST_CATALOG: 'postgres' }],
  ['PostgreSQL catalog and media on S3', ON_POSTGRES_AND_S3, { KDELIVER_TEST_CATALOG: 'postgres', KDELIVER_TEST_MEDIA: 's3' }],
] as const) {
  t.test(`${files.join(', ')} on a ${name}`, async (t) => {
    const r = await childTap([...files], env);
    const summary = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(r.out);
    t.comment(`${name}: ${summary ? `${summary[2]} of ${summary[1]} assertions passed` : 'no summary'} in ${(r.ms / 1000).toFixed(0)} s`);
    t.equal(r.code, 0, `every file passes on a ${name}`, { failures: failures(r.out) });
    t.ok(summary && Number(summary[1]) > 100 && summary[1] === summary[2], `the child ran its assertions, all passing (${summary?.[2]} of ${summary?.[1]})`);
    // each file really ran on PostgreSQL (test/helpers/postgres.ts says where its cluster is)
    const clusters = (r.out.match(/# PostgreSQL \(/g) ?? []).length;
    t.ok(clusters >= files.length, `${clusters} PostgreSQL clusters for ${files.length} files`);
  });
}
