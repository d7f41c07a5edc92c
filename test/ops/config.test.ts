// Configuration fails loudly: every bad value names its key and what is expected, and the sample
// secrets are refused in production unless the sample library is asked for.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, SAMPLE_MEDIA_URL_SECRET, SAMPLE_URL_TOKEN_SECRET } from '../../src/config.js';
import { s3Client, s3Origin } from '../../src/storage/s3-origin.js';
import { LibraryError, readLibraryFile } from '../../src/catalog/library.js';
import { repoPath } from '../helpers/repo.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, body: string): string => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};

t.test('defaults in development: the sample library and its secrets', async (t) => {
  const c = loadConfig({});
  t.equal(c.sampleLibrary, true);
  t.equal(c.production, false);
  t.equal(c.urlTokenSecret, SAMPLE_URL_TOKEN_SECRET);
  t.equal(c.port, 8080);
  t.equal(c.shutdownGraceMs, 10000);
});

t.test('each bad value names its key and what is expected', async (t) => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /^PORT="eighty": expected a whole number from 0 to 65535$/],
    [{ PORT: '70000' }, /^PORT="70000": expected a whole number/],
    [{ KDELIVER_TRUST_PROXY: 'maybe' }, /^KDELIVER_TRUST_PROXY="maybe": expected true, false or the number of proxies in front \(0 to 10\)$/],
    [{ KDELIVER_TRUST_PROXY: '11' }, /^KDELIVER_TRUST_PROXY="11": expected a whole number from 0 to 10$/],
    [{ KDELIVER_SAMPLE_LIBRARY: 'perhaps' }, /^KDELIVER_SAMPLE_LIBRARY="perhaps": expected true or false$/],
    // checked with the media on local disk too (it used to be read only for an S3 store)
    [{ KDELIVER_S3_FORCE_PATH_STYLE: 'maybe' }, /^KDELIVER_S3_FORCE_PATH_STYLE="maybe": expected true or false$/],
    [{ KDELIVER_PUBLIC_URL: 'media.example.com' }, /^KDELIVER_PUBLIC_URL="media.example.com": expected an absolute http\(s\) URL/],
    [{ KDELIVER_PUBLIC_URL: 'ftp://media.example.com' }, /^KDELIVER_PUBLIC_URL=.*expected an http\(s\) URL without query or fragment/],
    [{ KDELIVER_LOG_LEVEL: 'loud' }, /^KDELIVER_LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent$/],
    [{ KDELIVER_SHUTDOWN_GRACE_MS: '-1' }, /^KDELIVER_SHUTDOWN_GRACE_MS="-1": expected a whole number from 0 to 600000$/],
    [{ KDELIVER_INDEX_CACHE_MB: '0' }, /^KDELIVER_INDEX_CACHE_MB="0": expected a whole number from 1 to 65536$/],
    [{ KDELIVER_HLS_SEGMENT_MS: '500' }, /^KDELIVER_HLS_SEGMENT_MS="500": expected a whole number from 1000 to 60000$/],
  ];
  bad.push(
    [{ HOST: 'my host' }, /^HOST="my host": expected an IP address/],
    [{ HOST: 'http://x' }, /^HOST="http:\/\/x": expected an IP address/],
    [{ KDELIVER_GEOIP_FILE: join(dir, 'nope.mmdb') }, /^KDELIVER_GEOIP_FILE=".*nope\.mmdb": expected a readable MaxMind-format/],
    [{ KDELIVER_DATA_DIR: file('not-a-dir', '') }, /^KDELIVER_DATA_DIR=".*not-a-dir": expected a directory/],
    // a new data directory under a file: one line, not the catalog's mkdir failing with a stack
    [{ KDELIVER_DATA_DIR: join(file('a-file', ''), 'data') }, /^KDELIVER_DATA_DIR=".*a-file\/data": cannot be made: .*a-file is a file, not a directory$/],
    [{ NODE_ENV: 'production', KDELIVER_URL_TOKEN_SECRET: 'short', KDELIVER_MEDIA_URL_SECRET: 'b'.repeat(32) }, /^KDELIVER_URL_TOKEN_SECRET: expected at least 16 characters in production/],
  );
  for (const host of ['0.0.0.0', '::', '127.0.0.1', 'localhost', 'media.example.com', 'fe80::1%eth0']) {
    t.equal(loadConfig({ HOST: host }).host, host, `HOST=${host} accepted`);
  }
  // as URLs write it: listened on without the brackets (listen() resolved "[::1]" as a name, and
  // serve refused to start with "no such address or host name")
  t.equal(loadConfig({ HOST: '[::1]' }).host, '::1', 'HOST=[::1] accepted, as ::1');
  for (const [env, msg] of bad) t.throws(() => loadConfig(env), { constructor: ConfigError, message: msg }, JSON.stringify(env));
});

t.test('production: secrets generated when not configured, the sample ones refused', async (t) => {
  const dataDir = join(dir, 'prod-data');
  const generated = loadConfig({ NODE_ENV: 'production', KDELIVER_DATA_DIR: dataDir });
  t.ok(generated.urlTokenSecret.length >= 40 && generated.mediaUrlSecret.length >= 40, 'both generated');
  t.not(generated.urlTokenSecret, generated.mediaUrlSecret);
  t.same(loadConfig({ NODE_ENV: 'production', KDELIVER_DATA_DIR: dataDir }), generated, 'and kept: the same on the next load');
  const half = loadConfig({ NODE_ENV: 'production', KDELIVER_DATA_DIR: dataDir, KDELIVER_MEDIA_URL_SECRET: 'c'.repeat(32) });
  t.equal(half.mediaUrlSecret, 'c'.repeat(32), 'a configured value wins');
  t.equal(half.urlTokenSecret, generated.urlTokenSecret);
  t.throws(() => loadConfig({ NODE_ENV: 'production', KDELIVER_DATA_DIR: dataDir, PORT: 'x' }), { message: /^PORT=/ });
  t.throws(() => loadConfig({ NODE_ENV: 'production', KDELIVER_DATA_DIR: join(dir, 'never'), PORT: 'x' }), { message: /^PORT=/ });
  t.notOk(existsSync(join(dir, 'never')), 'an invalid configuration writes nothing');
  writeFileSync(join(dataDir, 'secrets.json'), '{"KDELIVER_URL_TOKEN_SECRET": "short"}', { mode: 0o600 });
  t.throws(() => loadConfig({ NODE_ENV: 'production', KDELIVER_DATA_DIR: dataDir }),
    { constructor: ConfigError, message: /secrets\.json: KDELIVER_URL_TOKEN_SECRET missing or shorter than 16 characters; restore the file, or move it away/ });

  t.throws(() => loadConfig({ NODE_ENV: 'production', KDELIVER_URL_TOKEN_SECRET: SAMPLE_URL_TOKEN_SECRET, KDELIVER_MEDIA_URL_SECRET: 'x'.repeat(32) }),
    { message: /the sample secrets are refused in production unless KDELIVER_SAMPLE_LIBRARY=true/ });
  t.throws(() => loadConfig({ NODE_ENV: 'production', KDELIVER_URL_TOKEN_SECRET: 'y'.repeat(32), KDELIVER_MEDIA_URL_SECRET: SAMPLE_MEDIA_URL_SECRET }),
    { message: /the sample secrets are refused in production/ });
  t.throws(() => loadConfig({ NODE_ENV: 'production', KDELIVER_SAMPLE_LIBRARY: 'false', KDELIVER_URL_TOKEN_SECRET: SAMPLE_URL_TOKEN_SECRET, KDELIVER_MEDIA_URL_SECRET: SAMPLE_MEDIA_URL_SECRET }),
    { message: /refused in production/ });

  const sample = loadConfig({ NODE_ENV: 'production', KDELIVER_SAMPLE_LIBRARY: 'true' });
  t.equal(sample.sampleLibrary, true, 'the sample library, asked for explicitly, brings its secrets');
  t.equal(sample.urlTokenSecret, SAMPLE_URL_TOKEN_SECRET);

  const own = loadConfig({ NODE_ENV: 'production', KDELIVER_URL_TOKEN_SECRET: 'a'.repeat(32), KDELIVER_MEDIA_URL_SECRET: 'b'.repeat(32) });
  t.equal(own.sampleLibrary, false, 'production does not seed the sample library by default');
  t.equal(own.urlTokenSecret, 'a'.repeat(32));
});

t.test('config file: same keys as the environment, environment wins, unknown keys named', async (t) => {
  const good = file('good.json', JSON.stringify({ PORT: 9090, KDELIVER_LOG_LEVEL: 'warn', KDELIVER_TRUST_PROXY: true, HOST: '0.0.0.0' }));
  const c = loadConfig({ KDELIVER_CONFIG: good, KDELIVER_LOG_LEVEL: 'error' });
  t.equal(c.port, 9090);
  t.equal(c.trustProxy, 1, 'true: one proxy');
  t.equal(c.host, '0.0.0.0');
  t.equal(c.logLevel, 'error', 'the environment wins over the file');

  const unknown = file('unknown.json', JSON.stringify({ PROT: 80 }));
  t.throws(() => loadConfig({ KDELIVER_CONFIG: unknown }), { constructor: ConfigError, message: /unknown key PROT \(known: HOST, PORT,/ });
  const nested = file('nested.json', JSON.stringify({ PORT: { value: 1 } }));
  t.throws(() => loadConfig({ KDELIVER_CONFIG: nested }), { message: /PORT must be a string, number or boolean/ });
  const broken = file('broken.json', '{ "PORT": ');
  t.throws(() => loadConfig({ KDELIVER_CONFIG: broken }), { message: /^KDELIVER_CONFIG=.*broken\.json: not a readable JSON file/ });
  t.throws(() => loadConfig({ KDELIVER_CONFIG: join(dir, 'missing.json') }), { message: /missing\.json: not a readable JSON file/ });
  // a JSON text that is not an object: one line saying so (null was a TypeError's stack, a list
  // or a string an "unknown key 0")
  for (const [name, body, got] of [['null.json', 'null', 'null'], ['list.json', '[{"PORT": 9000}]', 'a list'], ['text.json', '"PORT=9000"', 'a string']]) {
    t.throws(() => loadConfig({ KDELIVER_CONFIG: file(name, body) }),
      { constructor: ConfigError, message: new RegExp(`^KDELIVER_CONFIG=.*${name.replace('.', '\\.')}: expected a JSON object of variable names and values, e\\.g\\. \\{"PORT": 9000\\} \\(got ${got}\\)$`) }, name);
  }
  const badValue = file('bad-value.json', JSON.stringify({ PORT: 'http' }));
  t.throws(() => loadConfig({ KDELIVER_CONFIG: badValue }), { message: /bad-value\.json: PORT="http": expected a whole number/, }, 'file values are validated like env values');
});

t.test('config file: every variable of the README\'s configuration table is a key it takes', async (t) => {
  // the file's keys are a list of their own in src/config.ts; a variable added to the
  // environment but not to that list was refused in a file ("unknown key")
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const names = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
  t.ok(names.includes('KDELIVER_API_CACHE_MB') && names.includes('KDELIVER_CATALOG_WARM_MB'), `the table was read (${names.length} variables)`);
  for (const name of new Set(names)) {
    if (name === 'KDELIVER_CONFIG') continue;
    const f = file(`key-${name}.json`, JSON.stringify({ [name]: '' }));
    t.doesNotThrow(() => loadConfig({ KDELIVER_CONFIG: f }), `${name} in a config file (empty: its default)`);
  }
});

t.test('temporary S3 credentials keep their session token: the SDK client and its presigned URLs carry it', async (t) => {
  const env = { KDELIVER_MEDIA_URL: 's3://media/lib', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'ASIATEMPORARYKEY', AWS_SECRET_ACCESS_KEY: 'temporary-secret', AWS_SESSION_TOKEN: 'the-session-token' };
  for (const [label, vars, token] of [['with AWS_SESSION_TOKEN', env, 'the-session-token'], ['a long-lived key pair', { ...env, AWS_SESSION_TOKEN: '' }, undefined]] as const) {
    const loc = loadConfig(vars).media;
    if (loc.kind !== 's3') throw new Error('expected an s3 location');
    const timeouts = { timeoutMs: 1000, connectTimeoutMs: 1000 };
    const client = s3Client(loc, timeouts);
    t.teardown(() => client.destroy());
    const creds = await client.config.credentials();
    t.equal(creds.accessKeyId, 'ASIATEMPORARYKEY', `${label}: the key`);
    t.equal(creds.sessionToken, token, `${label}: the token`);
    // S3 refuses a temporary key signed without its token; the presigned URL ffmpeg reads names it
    const url = new URL(await s3Origin(loc, timeouts, client).ffmpegUrl('a.mp4'));
    t.equal(url.searchParams.get('X-Amz-Security-Token') ?? undefined, token, `${label}: the presigned URL`);
  }
});

t.test('a media URL or S3 endpoint refused for its credentials or query does not echo them', async (t) => {
  // the password up to the last @ is hidden (an AWS secret key holds slashes), a user information
  // without a password (a token) whole, and the query and fragment
  const cases: [Record<string, string>, RegExp][] = [
    [{ KDELIVER_MEDIA_URL: 'https://reader:origin-pw-1@nas.example/media' }, /^KDELIVER_MEDIA_URL="https:\/\/reader:\*\*\*@nas\.example\/media": expected an http\(s\) URL without query, fragment or credentials/],
    [{ KDELIVER_MEDIA_URL: 's3://key:origin-pw-1@bucket/lib' }, /^KDELIVER_MEDIA_URL="s3:\/\/key:\*\*\*@bucket\/lib": expected s3:\/\/bucket\/prefix without query/],
    [{ KDELIVER_MEDIA_URL: 's3://AKID:wJal/origin-pw-1/K7MD@bucket/lib' }, /^KDELIVER_MEDIA_URL="s3:\/\/AKID:\*\*\*@bucket\/lib": expected s3:\/\/bucket\/prefix/],
    [{ KDELIVER_MEDIA_URL: 'https://origin-pw-1@nas.example/media' }, /^KDELIVER_MEDIA_URL="https:\/\/\*\*\*@nas\.example\/media": expected an http\(s\) URL without query, fragment or credentials/],
    [{ KDELIVER_MEDIA_URL: 'https://cdn.example/media?token=origin-pw-1' }, /^KDELIVER_MEDIA_URL="https:\/\/cdn\.example\/media\?\*\*\*": expected an http\(s\) URL without query/],
    [{ KDELIVER_MEDIA_URL: 'https://cdn.example/media#origin-pw-1' }, /^KDELIVER_MEDIA_URL="https:\/\/cdn\.example\/media#\*\*\*": expected an http\(s\) URL without query/],
    [{ KDELIVER_MEDIA_URL: 's3://bucket', AWS_ENDPOINT_URL: 'minio://key:origin-pw-1@minio:9000' }, /^AWS_ENDPOINT_URL="minio:\/\/key:\*\*\*@minio:9000": expected an http\(s\):\/\/ URL/],
    [{ KDELIVER_DATABASE_URL: 'mysql://kd:origin-pw-1/x@db/kdeliver' }, /^KDELIVER_DATABASE_URL=\(not a URL\): expected postgres:\/\//],
    [{ KDELIVER_DATABASE_URL: 'mysql://kd:origin-pw-1@db/kdeliver?password=origin-pw-1' }, /^KDELIVER_DATABASE_URL="mysql:\/\/kd:\*\*\*@db\/kdeliver\?\*\*\*": expected postgres:\/\//],
    // the key service's URL is refused for its fragment; its password is not shown with it
    [{ KDELIVER_DRM_KEY_SERVICE_URL: 'https://keys:origin-pw-1@drm.example/{entryId}#x' }, /^KDELIVER_DRM_KEY_SERVICE_URL="https:\/\/keys:\*\*\*@drm\.example\/\{entryId\}#\*\*\*": expected an absolute http\(s\) URL/],
  ];
  for (const [env, expected] of cases) {
    const e = (() => { try { loadConfig(env); } catch (err) { return err as Error; } return null; })();
    t.type(e, ConfigError, Object.values(env).join(' '));
    t.match(e?.message ?? '', expected, 'names the key and what is expected');
    t.notMatch(e?.message ?? '', 'origin-pw-1', 'the password or token is not echoed');
  }
});

t.test('a JSON file that does not parse is named, and the text around the mistake (a secret) is not echoed', async (t) => {
  // node's JSON.parse message quotes the text near the error: here, the secret
  const envFile = file('kdeliver.env', 'KDELIVER_URL_TOKEN_SECRET=origin-pw-1-long-enough\n');
  const broken = file('broken-secret.json', '{"KDELIVER_URL_TOKEN_SECRET": origin-pw-1-long-enough}\n');
  for (const f of [envFile, broken]) {
    const e = (() => { try { loadConfig({ KDELIVER_CONFIG: f }); } catch (err) { return err as Error; } return null; })();
    t.type(e, ConfigError, f);
    t.match(e?.message ?? '', /^KDELIVER_CONFIG=.*: not a readable JSON file \(not valid JSON: a value that is not JSON where one is expected \(a text without its quotes\?\)\)$/);
    t.notMatch(e?.message ?? '', /origin-pw|'o'|"o"/, 'no part of the secret, not even its first character');
  }
  const lib = file('broken-library.json', '{"version": 1, "partners": [{"id": 5, "adminSecret": origin-pw-1-long-enough}]}');
  t.throws(() => readLibraryFile(lib), { constructor: LibraryError, message: /^.*broken-library\.json: not a readable JSON file \(not valid JSON: a value that is not JSON/ });
  try { readLibraryFile(lib); } catch (e) { t.notMatch((e as Error).message, 'origin-pw', 'a library file\'s secrets neither'); }
});

t.test('a JSON mistake is placed by line and column where node names its position; a bad value from the file names the file', async (t) => {
  const missingColon = file('missing-colon.json', '{\n  "PORT": 9000,\n  "HOST" "0.0.0.0"\n}\n');
  t.throws(() => loadConfig({ KDELIVER_CONFIG: missingColon }), { constructor: ConfigError, message: /missing-colon\.json: not a readable JSON file \(not valid JSON: unexpected string at line 3, column 10\)$/ });
  const trailingComma = file('trailing-comma.json', '{"PORT": 9000,}');
  t.throws(() => loadConfig({ KDELIVER_CONFIG: trailingComma }), { message: /\(not valid JSON: expected double-quoted property name at line 1, column 15\)$/ });
  const cut = file('cut.json', '{"PORT": 9000');
  t.throws(() => loadConfig({ KDELIVER_CONFIG: cut }), { message: /\(not valid JSON: expected ',' or '\}' after property value at line 1, column 14\)$/ });
  const unclosed = file('unclosed.json', '{"PORT": ');
  t.throws(() => loadConfig({ KDELIVER_CONFIG: unclosed }), { message: /\(not valid JSON: it ends before its last value is closed\)$/ });
  const lib = file('library-cut.json', '{"version": 1,\n "partners": [}');
  t.throws(() => readLibraryFile(lib), { constructor: LibraryError, message: /library-cut\.json: not a readable JSON file \(not valid JSON: .* at line 2, column \d+\)|library-cut\.json: not a readable JSON file \(not valid JSON: a value/ });

  // a value from the file: the file is named before the key; one from the environment is not
  const port = file('port.json', JSON.stringify({ PORT: 70000, HOST: '127.0.0.1' }));
  t.throws(() => loadConfig({ KDELIVER_CONFIG: port }), { constructor: ConfigError, message: new RegExp(`^${port.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: PORT="70000": expected a whole number from 0 to 65535$`) });
  t.throws(() => loadConfig({ KDELIVER_CONFIG: port, PORT: '80000' }), { message: /^PORT="80000": expected a whole number/ }, 'the environment\'s own value: no file named');
});
