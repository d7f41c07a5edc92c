// Every `kdeliver` command answers a person the same way (src/cli/usage.ts): --help or -h anywhere
// prints that command's usage on stdout and exits 0 without doing anything; an unknown option, a
// missing or extra argument or a bad value is one line on stderr, `kdeliver <command>: ...`, then
// the usage, exit 2, with no stack trace and nothing written. The installed command is run as a
// child process (dist, through a symlink named kdeliver as npm makes it).
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linkBin, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-usage-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const binDir = join(work, 'bin');
linkBin(binDir);
const dataDir = join(work, 'data');
// a port of its own: a command that wrongly started the server must not meet anyone else's
// at `warn` a server that wrongly started says `listening on` on stderr (and nothing else is logged)
const env = { PATH: `${binDir}:${process.env.PATH}`, KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'warn', PORT: '18541', HOST: '127.0.0.1' };
// a wrongly started server is killed after this: a usage answer takes well under it
const kdeliver = (args: string[], extra: Record<string, string> = {}) => run('kdeliver', args, { env: { ...env, ...extra }, timeoutMs: 20_000 });

const noStack = (t: Test, stderr: string) => t.notMatch(stderr, /\n\s+at /, 'no stack trace');

t.test('kdeliver serve --help prints what configures it, and starts nothing', async (t) => {
  for (const flag of ['--help', '-h']) {
    const r = await kdeliver(['serve', flag]);
    t.equal(r.code, 0, `serve ${flag}: exit 0 (${r.stderr.slice(0, 200)})`);
    t.match(r.stdout, /^usage: kdeliver serve\n/);
    t.match(r.stdout, /PORT=/);
    t.match(r.stdout, /KDELIVER_DATA_DIR=/);
    t.match(r.stdout, /README\.md, "Configuration"/);
    t.notMatch(r.stdout + r.stderr, /listening/, 'no server started');
  }
  t.notOk(existsSync(dataDir), 'no data directory made');
});

t.test('kdeliver serve refuses options and arguments instead of serving on another port', async (t) => {
  const port = await kdeliver(['serve', '--port', '9']);
  t.equal(port.code, 2);
  t.match(port.stderr, /^kdeliver serve: unknown option --port: .*the port is set with PORT=, e.g\. PORT=9 kdeliver serve\nusage: kdeliver serve\n/);
  t.notMatch(port.stdout + port.stderr, /listening/, 'no server started');
  const eq = await kdeliver(['serve', '--port=9']);
  t.equal(eq.code, 2);
  t.match(eq.stderr, /PORT=9 kdeliver serve/);
  const host = await kdeliver(['serve', '--host', '0.0.0.0']);
  t.equal(host.code, 2);
  t.match(host.stderr, /is set with HOST=, e\.g\. HOST=0\.0\.0\.0 kdeliver serve/);
  const extra = await kdeliver(['serve', 'extra']);
  t.equal(extra.code, 2);
  t.match(extra.stderr, /^kdeliver serve: unexpected argument "extra": serve takes no options or arguments\nusage: kdeliver serve/);
  t.notMatch(extra.stdout + extra.stderr, /listening/);
  t.notOk(existsSync(dataDir), 'no data directory made');
});

t.test('kdeliver --version and version print the package version; help lists it', async (t) => {
  const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['version']]) {
    const r = await kdeliver(args);
    t.equal(r.code, 0, args.join(' '));
    t.equal(r.stdout, `kdeliver ${version}\n`);
  }
  const help = await kdeliver(['help']);
  t.match(help.stdout, /\n {2}version {2,}print the version/);
  const none = await kdeliver([]);
  t.equal(none.code, 2, 'no command: a usage error');
  t.equal(none.stdout, '', 'its usage on stderr, as every usage error');
  t.match(none.stderr, /^usage: kdeliver <command>/);
});

t.test('kdeliver import --help, and a missing or extra file', async (t) => {
  for (const flag of ['--help', '-h']) {
    const r = await kdeliver(['import', flag]);
    t.equal(r.code, 0, `import ${flag}`);
    t.match(r.stdout, /^usage: kdeliver import <library\.json>\n/);
    t.equal(r.stderr, '');
  }
  const none = await kdeliver(['import']);
  t.equal(none.code, 2);
  t.match(none.stderr, /^kdeliver import: missing <library\.json>\nusage: kdeliver import/);
  const two = await kdeliver(['import', 'a.json', 'b.json']);
  t.equal(two.code, 2);
  t.match(two.stderr, /^kdeliver import: unexpected argument "b\.json"\n/);
  const missing = await kdeliver(['import', join(work, 'nope.json')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.json: not a readable JSON file/);
  noStack(t, missing.stderr);
  t.notOk(existsSync(dataDir), 'a library file that cannot be read makes no catalog in a new data directory');
});

t.test('kdeliver entries: --help anywhere, and each subcommand takes only its own options and arguments', async (t) => {
  for (const args of [['entries', '--help'], ['entries', '-h'], ['entries', 'list', '--help'], ['entries', 'delete', '--help'], ['entries', 'delete', '1_abc', '-h']]) {
    const r = await kdeliver(args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, /^usage: kdeliver entries list .*\n +kdeliver entries delete <entry id>/);
  }
  const wrong: [string[], RegExp][] = [
    [['entries'], /^kdeliver entries: expected list or delete\n/],
    [['entries', 'remove'], /^kdeliver entries: unknown command "remove": expected list or delete\n/],
    [['entries', 'list', 'extra'], /^kdeliver entries list: unexpected argument "extra"/],
    [['entries', 'list', '--partner', 'abc'], /^kdeliver entries list: --partner abc: expected a partner id, a whole number from 1 to 2147483647\n/],
    [['entries', 'list', '--partner', '-1'], /^kdeliver entries list: --partner -1: expected a partner id/],
    [['entries', 'list', '--bogus'], /^kdeliver entries list: unknown option --bogus\n/],
    [['entries', 'delete'], /^kdeliver entries delete: missing <entry id>\n/],
    [['entries', 'delete', 'a', 'b'], /^kdeliver entries delete: unexpected argument "b"\n/],
    [['entries', 'delete', '--partner', '3', '1_abc'], /^kdeliver entries delete: unknown option --partner\n/],
  ];
  for (const [args, line] of wrong) {
    const r = await kdeliver(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, line);
    t.match(r.stderr, /\nusage: kdeliver entries/);
  }
  t.notOk(existsSync(dataDir), 'nothing opened or made');
});

t.test('every command: --help or -h anywhere is its usage on stdout and exit 0', async (t) => {
  const cases: [string[], RegExp][] = [
    [['partner', 'add', '--name', 'x', '--help'], /^usage: kdeliver partner add/],
    [['partner', 'list', '-h'], /^usage: kdeliver partner add/],
    [['export', '--help'], /^usage: kdeliver export \[library\.json\]/],
    [['export', 'lib.json', '-h'], /^usage: kdeliver export/],
    [['copy-catalog', '--help'], /^usage: KDELIVER_DATA_DIR=<dir> KDELIVER_DATABASE_URL=postgres:\/\/\.\.\. kdeliver copy-catalog/],
    [['import-kaltura', '--all', '-h'], /^usage: kdeliver import-kaltura/],
    [['ingest', 'movie.mp4', '--partner', '309', '--help'], /^usage: kdeliver ingest <file>/],
    [['ks', '--partner', '309', '-h'], /^usage: kdeliver ks/],
    [['sign', '/p/309/x', '--help'], /^usage: kdeliver sign/],
  ];
  for (const [args, usage] of cases) {
    const r = await kdeliver(args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, usage, `${args.join(' ')}: usage on stdout`);
    t.equal(r.stderr, '', `${args.join(' ')}: nothing on stderr`);
  }
  t.notOk(existsSync(dataDir), 'nothing opened or made');
});

t.test('every command: a wrong option, argument or value is one line naming it, then the usage, exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['partner'], /^kdeliver partner: expected add, list or secret\n/],
    [['partner', 'list', '--id', '5'], /^kdeliver partner list: unknown option --id\n/],
    [['partner', 'add', '--id', '1e3'], /^kdeliver partner add: --id 1e3: expected a partner id/],
    [['partner', 'add', '--name'], /^kdeliver partner add: --name needs a value\n/],
    [['export', 'a.json', 'b.json'], /^kdeliver export: unexpected argument "b\.json"\n/],
    [['export', '--bogus'], /^kdeliver export: unknown option --bogus\n/],
    [['copy-catalog', 'extra'], /^kdeliver copy-catalog: unexpected argument "extra"/],
    [['import-kaltura', '--service-url', 'x', '--partner-id', '1', '--admin-secret', 's', '--all', '--jobs', '-1'], /^kdeliver import-kaltura: --jobs -1: expected 1 to 32 parallel downloads\n/],
    [['import-kaltura', '--service-url', 'x', '--partner-id', '1', '--admin-secret', 's', '--all', '--jobs', '0'], /^kdeliver import-kaltura: --jobs 0: expected 1 to 32/],
    [['ingest'], /^kdeliver ingest: the media file is required\n/],
    [['ingest', 'movie.mp4'], /^kdeliver ingest: --partner is required\n/],
    [['ingest', 'movie.mp4', '--partner', 'abc'], /^kdeliver ingest: --partner abc: expected a partner id/],
    [['ingest', 'movie.mp4', '--partner', '309', '--jobs', '0'], /^kdeliver ingest: --jobs 0: expected 1 to 16 parallel ffmpeg processes\n/],
    [['ingest', 'movie.mp4', '--partner', '309', '--jobs', '-1'], /^kdeliver ingest: --jobs -1: expected 1 to 16 parallel ffmpeg processes\n/],
    [['ingest', 'a.mp4', 'b.mp4', '--partner', '309'], /^kdeliver ingest: unexpected argument "b\.mp4"\n/],
    [['ingest', '--retry', '1_abc', 'movie.mp4'], /^kdeliver ingest: --retry takes only --jobs besides the entry id \(not "movie\.mp4"\)\n/],
    [['ingest', '--retry', '1_abc', '--partner', '4'], /^kdeliver ingest: --retry takes only --jobs besides the entry id \(not --partner\)\n/],
    [['ks', '--partner', 'abc', '--type', 'admin'], /^kdeliver ks: --partner abc: expected a partner id, a whole number from 1 to 2147483647\n/],
    [['ks', '--partner', '1e3', '--type', 'admin'], /^kdeliver ks: --partner 1e3: expected a partner id/],
    [['ks', '--partner', '309', '--type', 'admin', '--expiry', 'abc'], /^kdeliver ks: --expiry abc: expected a number of seconds from 1 to 2147483647\n/],
    [['ks', '--partner', '309', '--type', 'admin', '--expiry', '-1'], /^kdeliver ks: --expiry -1: expected a number of seconds/],
    [['ks', '--partner', '309'], /^kdeliver ks: --type admin\|user is required\n/],
    [['sign'], /^kdeliver sign: missing <playManifest URL or path>\n/],
    [['sign', 'a', 'b'], /^kdeliver sign: unexpected argument "b"\n/],
    [['sign', '/p/309/x', '--expiry', '-5'], /^kdeliver sign: --expiry -5: expected a time in Unix seconds\n/],
    [['sign', '/p/309/x', '--bogus'], /^kdeliver sign: unknown option --bogus\n/],
  ];
  for (const [args, line] of cases) {
    const r = await kdeliver(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, line, args.join(' '));
    t.match(r.stderr, /\nusage: /, `${args.join(' ')}: then the usage`);
    t.equal(r.stderr.split('\n')[0].length < 200, true, 'one short line');
    noStack(t, r.stderr);
  }
  t.notOk(existsSync(dataDir), 'nothing opened or made');
});

t.test('kdeliver export: a file where a folder of the path should be, or a folder given as the file, before anything is opened', async (t) => {
  const file = join(work, 'a-file');
  writeFileSync(file, '');
  for (const [target, line] of [
    [join(file, 'sub', 'lib.json'), /^kdeliver export: .*a-file\/sub\/lib\.json: .*a-file is a file, not a folder\n/],
    [work, /^kdeliver export: .*: is a folder; give the name of the file to write\n/],
  ] as const) {
    const r = await kdeliver(['export', target]);
    t.equal(r.code, 2, target);
    t.match(r.stderr, line);
    noStack(t, r.stderr);
  }
  t.notOk(existsSync(dataDir), 'nothing opened or made');
});

t.test('kdeliver version and help: an argument too many is a usage error; help <command> is its usage', async (t) => {
  for (const args of [['version', 'extra'], ['--version', 'extra'], ['version', '--bogus'], ['help', 'nope']]) {
    const r = await kdeliver(args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, /^kdeliver (version|--version|help): .*\nusage: kdeliver <command>/, `${args.join(' ')}: one line, then the usage`);
    t.equal(r.stdout, '');
  }
  const ks = await kdeliver(['help', 'ks']);
  t.equal(ks.code, 0);
  t.equal(ks.stdout, (await kdeliver(['ks', '--help'])).stdout, 'help ks is ks --help');
  const version = await kdeliver(['version', '--help']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^usage: kdeliver version/);
  t.match((await kdeliver(['help'])).stdout, /--expiry 86400/, 'the ks default the ks command has');
  t.notOk(existsSync(dataDir), 'no data directory made');
});

t.test('kdeliver copy-catalog: a data directory without a SQLite catalog is refused with nothing written there', async (t) => {
  // it read the configuration first, which made the directory and new secrets in it
  const wrong = join(work, 'no-catalog-here');
  const url = { KDELIVER_DATABASE_URL: 'postgres://kdeliver@127.0.0.1:1/none' };
  const r = await kdeliver(['copy-catalog'], { ...url, KDELIVER_DATA_DIR: wrong });
  t.equal(r.code, 2);
  t.equal(r.stderr, `kdeliver copy-catalog: no SQLite catalog at ${wrong}/catalog.sqlite (set KDELIVER_DATA_DIR to the library's data directory)\n`);
  t.notOk(existsSync(wrong), 'no data directory made');
  const elsewhere = join(work, 'copy-elsewhere');
  mkdirSync(elsewhere);
  const unset = await run('kdeliver', ['copy-catalog'], { env: { ...env, ...url, KDELIVER_DATA_DIR: '' }, cwd: elsewhere, timeoutMs: 20_000 });
  t.equal(unset.code, 2);
  t.match(unset.stderr, /no SQLite catalog at .*copy-elsewhere\/storage\/catalog\.sqlite/);
  t.same(readdirSync(elsewhere), [], 'nothing made in the current folder');
});

t.test('run in a folder without storage/ and no KDELIVER_DATA_DIR, the library commands make no data directory there', async (t) => {
  // as a person runs the command `npm link` made, from another folder: it would have made
  // storage/ there, seeded the sample library into it and answered from that
  const elsewhere = join(work, 'elsewhere');
  mkdirSync(elsewhere);
  const noDataDir = { ...env, KDELIVER_DATA_DIR: '' };
  for (const args of [['ks', '--partner', '309', '--type', 'admin'], ['partner', 'list'], ['entries', 'list'], ['export', 'out.json'], ['sign', 'http://x/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/a.mp4'], ['ingest', 'movie.mp4', '--partner', '309']]) {
    const r = await run('kdeliver', args, { env: noDataDir, cwd: elsewhere, timeoutMs: 20_000 });
    t.equal(r.code, 2, `${args[0]}: exit 2`);
    t.match(r.stderr, new RegExp(`^kdeliver ${args[0]}: KDELIVER_DATA_DIR is not set, and its default, storage/ in the current folder \\(${elsewhere}/storage\\), does not exist: run kdeliver in the folder you serve from \\(this kdeliver's own: ${projectRoot.replace(/\/$/, '')}\\), or set KDELIVER_DATA_DIR`), args[0]);
    t.same(readdirSync(elsewhere), [], `${args[0]}: nothing made`);
  }
  // where storage/ is (a checkout), the same command answers from it
  mkdirSync(join(elsewhere, 'storage'));
  const here = await run('kdeliver', ['partner', 'list', '--json'], { env: noDataDir, cwd: elsewhere, timeoutMs: 60_000 });
  t.equal(here.code, 0, here.stderr);
  t.match(here.stdout, /"id": ?309/, 'the sample library, seeded into ./storage');
  t.ok(existsSync(join(elsewhere, 'storage', 'catalog.sqlite')));
});

// KDELIVER_LOG_LEVEL=silent is for servers run by other programs (tests, benchmarks, a supervisor
// that logs elsewhere): the sample URLs and the empty-catalog hints are not written either.
t.test('kdeliver serve with KDELIVER_LOG_LEVEL=silent writes nothing, the sample library\'s URLs included', async (t) => {
  const { spawn } = await import('node:child_process');
  const { freePort } = await import('../helpers/nginx.js');
  const port = await freePort();
  const silentDir = join(work, 'silent-data');
  const child = spawn('kdeliver', ['serve'], { env: { ...process.env, ...env, KDELIVER_DATA_DIR: silentDir, KDELIVER_LOG_LEVEL: 'silent', PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => { child.kill('SIGTERM'); await exited; });
  let up = false;
  for (let i = 0; i < 300 && !up; i++) {
    up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(up, 'the server answers');
  // the sample library is there (its first start seeded it), so the URLs to try would be written now
  t.equal((await fetch(`http://127.0.0.1:${port}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`)).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(out, '', 'nothing on standard output or error');
});

// `kdeliver partner list | head -2`: the reader closes the pipe before the command has written
// everything; the command's next write fails with EPIPE, which used to end it with a stack trace.
t.test('a reader that closes the pipe early (| head) ends the command quietly', async (t) => {
  const { spawn } = await import('node:child_process');
  for (const args of [['partner', 'list'], ['help']]) {
    const child = spawn('kdeliver', args, { env: { ...process.env, ...env, KDELIVER_DATA_DIR: join(work, 'silent-data') }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the read end closed before the command writes
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    t.equal(code, 0, `kdeliver ${args.join(' ')}: exit 0`);
    t.equal(stderr, '', 'nothing on stderr');
  }
});

// A "next, run …" hint names the command as the person can type it: in a checkout, started through
// npm (`npx kdeliver`, `npm start`), it is not on their PATH.
t.test('the hints say npx kdeliver when npm started the command, kdeliver otherwise', async (t) => {
  const { typedCommand } = await import('../../src/cli/usage.js');
  t.equal(typedCommand({ npm_command: 'exec' }), 'npx kdeliver', 'npx kdeliver …');
  t.equal(typedCommand({ npm_command: 'start' }), 'npx kdeliver', 'npm start');
  t.equal(typedCommand({}), 'kdeliver', 'the installed command, npm link, the Docker image');
  const added = await kdeliver(['partner', 'add', '--name', 'Hinted'], { KDELIVER_DATA_DIR: join(work, 'hint-data'), KDELIVER_SAMPLE_LIBRARY: 'false', npm_command: 'exec' });
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /\nNext: npx kdeliver ingest movie\.mp4 --partner \d+\n$/);
});
