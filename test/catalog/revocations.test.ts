// KS revocations on SQLite: read whole once per catalog generation while they are few (a fresh KS
// per request then costs no statement), read one key at a time when there are many; either way a
// revocation, made here or by another process, is seen by the next question.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';

const now = Math.floor(Date.now() / 1000);

t.test('few and many revocations answer alike', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-revoked-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'catalog.sqlite');
  const catalog = createCatalog(openDatabase(file));
  t.teardown(() => catalog.close());
  const other = openDatabase(file); // another process's connection (kdeliver ks revoke, another node)
  t.teardown(() => other.close());

  t.equal(await catalog.isRevoked('k-1', now), false, 'nothing revoked');
  await catalog.revokeSession('k-1', now + 600);
  t.equal(await catalog.isRevoked('k-1', now), true, 'revoked here: seen at once');
  t.equal(await catalog.isRevoked('k-2', now), false, 'another key is not');
  t.equal(await catalog.isRevoked('k-1', now + 601), false, 'a revocation ends with the KS');

  other.prepare('INSERT INTO revoked_sessions (key, expires_at) VALUES (?, ?)').run('k-2', now + 600);
  await new Promise((r) => setTimeout(r, 5));
  t.equal(await catalog.isRevoked('k-2', now), true, 'revoked by another connection: seen by the next question');

  // many: more than are read whole
  const insert = other.prepare('INSERT INTO revoked_sessions (key, expires_at) VALUES (?, ?)');
  other.transaction(() => { for (let i = 0; i < 12_000; i++) insert.run(`many-${i}`, now + 600); })();
  await new Promise((r) => setTimeout(r, 5));
  t.equal(await catalog.isRevoked('many-11999', now), true, 'many: a revoked key is revoked');
  t.equal(await catalog.isRevoked('many-x', now), false, 'many: another key is not');
  t.equal(await catalog.isRevoked('k-1', now), true, 'many: the first revocations still hold');
  other.prepare("DELETE FROM revoked_sessions WHERE key LIKE 'many-%'").run();
  await new Promise((r) => setTimeout(r, 5));
  t.equal(await catalog.isRevoked('many-11999', now), false, 'few again: the deleted ones are gone');
  t.equal(await catalog.isRevoked('k-2', now), true, 'few again: the others hold');
});
