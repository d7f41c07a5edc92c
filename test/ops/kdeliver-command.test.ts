// The installed `kdeliver` command, reached through a symlink named `kdeliver` as npm makes them
// (node_modules/.bin, `npm link`, a global install): it runs the command asked for, and an
// unknown command fails. The symlink used to make the command print nothing and exit 0.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { binTarget, linkBin, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { parseKs, verifyKs } from '../../src/access/ks.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-command-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const dataDir = join(work, 'data');
const env = { KDELIVER_DATA_DIR: dataDir };

// node_modules/.bin/kdeliver -> the bin; the command is found on PATH by its name
const binDir = join(work, 'node_modules', '.bin');
linkBin(binDir);
// npm link: {prefix}/bin/kdeliver -> ../lib/node_modules/kdeliver/<bin>, that folder a link to the checkout
const prefix = join(work, 'global');
mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });
symlinkSync(projectRoot, join(prefix, 'lib', 'node_modules', 'kdeliver'));
mkdirSync(join(prefix, 'bin'));
symlinkSync(join('..', 'lib', 'node_modules', 'kdeliver', relative(projectRoot, binTarget())), join(prefix, 'bin', 'kdeliver'));

const ways: [string, string, Record<string, string>][] = [
  ['on PATH through node_modules/.bin', 'kdeliver', { PATH: `${binDir}:${process.env.PATH}` }],
  ['through an npm link chain of symlinks', join(prefix, 'bin', 'kdeliver'), {}],
  ['as `node <symlink>`', process.execPath, {}],
];

for (const [how, cmd, extra] of ways) {
  t.test(`kdeliver ${how}`, async (t) => {
    const pre = cmd === process.execPath ? [join(binDir, 'kdeliver')] : [];
    const ks = await run(cmd, [...pre, 'ks', '--partner', '309', '--type', 'admin', '--user', 'me'], { env: { ...env, ...extra } });
    t.equal(ks.code, 0, ks.stderr);
    const parsed = verifyKs(parseKs(ks.stdout.trim()), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: Math.floor(Date.now() / 1000) });
    t.equal(parsed.userId, 'me', 'prints a KS signed with the partner\'s admin secret');

    const unknown = await run(cmd, [...pre, 'nosuchcommand'], { env: { ...env, ...extra } });
    t.not(unknown.code, 0, 'an unknown command fails');
    t.match(unknown.stderr, /kdeliver: unknown command "nosuchcommand"/);
    t.match(unknown.stderr, /usage: kdeliver <command>/);

    const none = await run(cmd, pre, { env: { ...env, ...extra } });
    t.not(none.code, 0, 'no command: usage, and a failure');
    t.match(none.stdout + none.stderr, /usage: kdeliver <command>/);
    const help = await run(cmd, [...pre, '--help'], { env: { ...env, ...extra } });
    t.equal(help.code, 0);
    t.match(help.stdout, /usage: kdeliver <command>/);
  });
}

// A port another process holds: one sentence naming the setting, exit 2, no stack, and the
// process ends (it used to print a stack trace of listen EADDRINUSE)
t.test('kdeliver serve on a port in use says so and exits', async (t) => {
  const { createServer } = await import('node:net');
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const r = await run('kdeliver', ['serve'], { env: { ...env, PATH: `${binDir}:${process.env.PATH}`, HOST: '127.0.0.1', PORT: String(port) } });
  t.equal(r.code, 2, 'exit 2, as for other configuration errors');
  t.match(r.stderr, new RegExp(`kdeliver: cannot listen on 127\\.0\\.0\\.1:${port}: it is already in use .*PORT=`));
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

// HOST that passes the syntax check but names nothing (a mistyped address, an unknown name): one
// line naming HOST, exit 2 (it used to be a getaddrinfo ENOTFOUND stack trace, exit 1)
t.test('kdeliver serve on a HOST that resolves to nothing says so and exits', async (t) => {
  for (const host of ['999.1.1.1', 'no-such-host.invalid']) {
    const r = await run('kdeliver', ['serve'], { env: { ...env, PATH: `${binDir}:${process.env.PATH}`, HOST: host, PORT: '18542' }, timeoutMs: 60_000 });
    t.equal(r.code, 2, `HOST=${host}: exit 2`);
    t.match(r.stderr, new RegExp(`^kdeliver: HOST="${host.replace(/\./g, '\\.')}": no such address or host name; expected an IP address of this machine`, 'm'));
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

// KDELIVER_GEOIP_FILE naming a file that is not a MaxMind database (a CSV export, a download
// that failed to an HTML page): one line naming the variable, exit 2 as for other configuration
// errors (it used to be a GeoError stack trace, exit 1)
t.test('kdeliver serve with a KDELIVER_GEOIP_FILE that is not a MaxMind database says so and exits', async (t) => {
  const notMmdb = join(work, 'GeoLite2-Country.csv');
  writeFileSync(notMmdb, 'network,geoname_id\n1.0.0.0/24,2077456\n');
  const r = await run('kdeliver', ['serve'], { env: { ...env, PATH: `${binDir}:${process.env.PATH}`, HOST: '127.0.0.1', PORT: '0', KDELIVER_GEOIP_FILE: notMmdb }, timeoutMs: 60_000 });
  t.equal(r.code, 2, 'exit 2');
  t.match(r.stderr, /^kdeliver: KDELIVER_GEOIP_FILE=.*GeoLite2-Country\.csv: not a MaxMind database/m);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.notMatch(r.stdout + r.stderr, /listening on/, 'the server never listened');
});

// A data directory this user cannot use: one line naming KDELIVER_DATA_DIR, exit 2, before the
// catalog's mkdir or open fails with a stack trace. Run as an unprivileged user (root may write anywhere).
t.test('a data directory that cannot be made or written is one line naming KDELIVER_DATA_DIR', async (t) => {
  const root = process.getuid?.() === 0;
  const shared = mkdtempSync(join(tmpdir(), 'kdeliver-datadir-'));
  t.teardown(() => rmSync(shared, { recursive: true, force: true }));
  chmodSync(shared, 0o755);
  const locked = join(shared, 'locked');
  mkdirSync(locked, { mode: 0o555 });
  chmodSync(locked, 0o555);
  writeFileSync(join(shared, 'a-file'), '');
  // the bin itself: the test's own folder, with its link, is not for other users
  const bin = binTarget();
  // as root: the same command as the user nobody (65534), who may read the checkout but not write `locked`
  const asUser = (dataDir: string, args: string[]) => root
    // env -i: only these variables (tap's process tracking adds its own to every child, writing where nobody may not)
    ? run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-i', `KDELIVER_DATA_DIR=${dataDir}`, `HOME=${shared}`, process.execPath, bin, ...args])
    : run(process.execPath, [bin, ...args], { env: { KDELIVER_DATA_DIR: dataDir } });
  const cases: [string, RegExp][] = [
    [join(locked, 'data'), /^kdeliver: KDELIVER_DATA_DIR=".*locked\/data": cannot be made: .*locked is not writable by this user/],
    [locked, /^kdeliver: KDELIVER_DATA_DIR=".*locked": not writable by this user: the SQLite catalog \(catalog\.sqlite\) is written there/],
    [join(shared, 'a-file', 'data'), /^kdeliver: KDELIVER_DATA_DIR=".*a-file\/data": cannot be made: .*a-file is a file, not a directory/],
  ];
  for (const [dataDir, line] of cases) {
    for (const args of [['partner', 'list'], ['entries', 'list']]) {
      const r = await asUser(dataDir, args);
      t.equal(r.code, 2, `${args.join(' ')} with KDELIVER_DATA_DIR=${dataDir}: ${r.stderr.slice(0, 300)}`);
      t.match(r.stderr, line);
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  }
});

// A data directory on a file system mounted read-only (a volume mounted :ro, a read-only root):
// root may not write it either, and no mode makes it writable, so it is said as what it is, not
// "not writable by this user". A mount namespace of the test's own (unshare, as root) mounts it so.
t.test('a data directory on a read-only file system is said so, in one line', async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('run as root: the test mounts a folder read-only in a mount namespace of its own (unshare -m)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-rofs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const bin = binTarget();
  const script = `mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"`;
  for (const [dataDirOf, line] of [
    [dataDir, /^kdeliver: KDELIVER_DATA_DIR=".*data": on a read-only file system: the SQLite catalog \(catalog\.sqlite\) is written there/],
    [join(dataDir, 'new'), /^kdeliver: KDELIVER_DATA_DIR=".*data\/new": cannot be made: .*data is on a read-only file system/],
  ] as const) {
    const r = await run('unshare', ['-m', 'sh', '-c', script, dataDir, process.execPath, bin, 'partner', 'list'], { env: { KDELIVER_DATA_DIR: dataDirOf } });
    t.equal(r.code, 2, `partner list with KDELIVER_DATA_DIR=${dataDirOf}: exit 2 (${r.stderr.slice(0, 300)})`);
    t.match(r.stderr, line);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

// A data directory under /proc or /sys, where the kernel refuses new folders: Node's recursive
// mkdir never returned under /proc (kdeliver hung before its first line) and under /sys was a bare
// EPERM stack. Now one line naming the folder that cannot be made, exit 2, as the same user runs it.
t.test('a data directory under /proc or /sys is refused in one line, not a hang', async (t) => {
  for (const dataDir of ['/proc/kdeliver-nope/data', '/sys/kdeliver-nope']) {
    for (const args of [['entries', 'list'], ['serve']]) {
      const r = await run('kdeliver', args, { env: { ...env, PATH: `${binDir}:${process.env.PATH}`, KDELIVER_DATA_DIR: dataDir, PORT: '0' }, timeoutMs: 20_000 });
      t.equal(r.code, 2, `${args.join(' ')} with KDELIVER_DATA_DIR=${dataDir}: exit 2 (${r.stderr.slice(0, 300)})`);
      // as root the kernel refuses (ENOENT under /proc, EPERM under /sys); as a user, the check first
      t.match(r.stderr, new RegExp(`^kdeliver: KDELIVER_DATA_DIR="${dataDir}": cannot be made: (making /(proc|sys)/kdeliver-nope failed \\(E[A-Z]+\\); choose a folder this user may create|/(proc|sys) is (not writable by this user|on a read-only file system))`));
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  }
});
