import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as ksMain } from '../../src/cli/ks.js';
import { main as signMain } from '../../src/cli/sign.js';
import { ksHasPrivilege, parseKs, verifyKs } from '../../src/access/ks.js';
import { verifyKt } from '../../src/access/kt.js';

const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-cli-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const env = { KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' };
const NOW = 1_700_000_000;
const run = async (fn: typeof ksMain, argv: string[]) => {
  let out = '', err = '';
  const code = await fn(argv, { env, now: () => NOW, out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out: out.trim(), err };
};

t.test('kdeliver ks', async (t) => {
  const admin = await run(ksMain, ['--partner', '309', '--type', 'admin', '--user', 'alice', '--privileges', 'sview:*', '--expiry', '3600']);
  t.equal(admin.code, 0, admin.err);
  t.ok(admin.out.startsWith('djJ8'), 'v2 by default');
  const ks = verifyKs(parseKs(admin.out), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: NOW + 3599 });
  t.equal(ks.type, 2);
  t.equal(ks.userId, 'alice');
  t.ok(ksHasPrivilege(ks, 'sview', '1_kssecure'));
  t.equal(ks.expiry, NOW + 3600);
  const v1 = await run(ksMain, ['--partner', '310', '--type', 'user', '--v1']);
  t.equal(v1.code, 0);
  const k1 = verifyKs(parseKs(v1.out), { id: 310, adminSecret: 'sample-admin-secret-310' }, { now: NOW });
  t.equal(k1.version, 1);
  t.equal(k1.type, 0);
  t.equal((await run(ksMain, ['--partner', '999', '--type', 'user'])).code, 1, 'unknown partner');
  t.equal((await run(ksMain, ['--type', 'user'])).code, 2, 'no partner');
  t.equal((await run(ksMain, ['--partner', '309', '--type', 'root'])).code, 2);
  t.equal((await run(ksMain, ['--partner', '309', '--type', 'user', '--user', 'a;b'])).code, 2, 'user id with ;');
  t.equal((await run(ksMain, ['--partner', '309', '--type', 'user', '--bogus'])).code, 2);
});

t.test('kdeliver sign', async (t) => {
  const r = await run(signMain, ['http://localhost:8080/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/protocol/http/a.mp4', '--expiry', String(NOW + 60)]);
  t.equal(r.code, 0, r.err);
  const u = new URL(r.out);
  const kt = /\/kt\/([0-9a-f]{40})\//.exec(u.pathname)![1];
  t.match(u.pathname, new RegExp(`/expiry/${NOW + 60}/kt/${kt}/a\\.mp4$`));
  t.ok(verifyKt(u.pathname + u.search, kt, 'sample-url-token-secret'));
  t.equal((await run(signMain, [])).code, 2);
  t.equal((await run(signMain, ['/p/309/serveFlavor/x'])).code, 2, 'not playManifest');
  t.equal((await run(signMain, ['/p/309/playManifest/entryId/x', '--expiry', 'soon'])).code, 2);
});
