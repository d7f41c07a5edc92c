import t from 'tap';
import { createHash } from 'node:crypto';
import {
  KsError, generateKs, ksHasPrivilege, mt19937Bytes, ksRevocationKeys, parseKs, phpParseStr, playManifestKsError, verifyKs,
  type KsSigner,
} from '../../src/access/ks.js';
import { aes128cbc, b64, dgst, dgstRaw, unb64 } from './openssl.js';

const P309 = { id: 309, adminSecret: 'sample-admin-secret-309', userSecret: 'sample-user-secret-309' };
const P310 = { id: 310, adminSecret: 'sample-admin-secret-310', userSecret: 'sample-user-secret-310' };
const NOW = 1_700_000_000;
const verify = (ks: string, p: KsSigner = P309, opts: Partial<Parameters<typeof verifyKs>[2]> = {}) =>
  verifyKs(parseKs(ks), p, { now: NOW, ...opts });
const reason = (fn: () => unknown): string | undefined => {
  try { fn(); } catch (e) { return e instanceof KsError ? e.reason : `not a KsError: ${e}`; }
  return undefined;
};

t.test('v1 made with openssl verifies, in both alphabets, with or without padding', async (t) => {
  // a rand field that makes the encoding use "+" and "/", so both alphabets are exercised
  // (the search uses Node; the vector itself is made by openssl)
  const infoOf = (i: number) => `309;309;${NOW + 3600};0;1699999999.${i};alice?>>~~~???;sview:1_kssecure,edit:1_a/1_b,edit:1_c`;
  let i = 0;
  for (; i < 10_000; i++) {
    const text = Buffer.from(`${createHash('sha1').update(P309.adminSecret + infoOf(i)).digest('hex')}|${infoOf(i)}`).toString('base64');
    if (text.includes('+') && text.includes('/')) break;
  }
  const info = infoOf(i);
  const sig = dgst('sha1', P309.adminSecret + info);
  const std = b64(`${sig}|${info}`);
  t.ok(std.includes('+') && std.includes('/'), 'the vector uses both standard-only digits');
  for (const form of [std, std.replace(/\+/g, '-').replace(/\//g, '_'), std.replace(/=+$/, ''), std.replace(/\+/g, ' ')]) {
    const ks = verify(form);
    t.equal(ks.version, 1);
    t.equal(ks.partnerId, 309);
    t.equal(ks.userId, 'alice?>>~~~???');
    t.equal(ks.type, 0);
    t.equal(ks.isAdmin, false);
    t.equal(ks.expiry, NOW + 3600);
    t.same(ks.privileges.get('edit'), ['1_a', '1_b', '1_c'], 'repeated names merge, values split on /');
    t.equal(ks.hash, sig, 'v1 hash is the signature');
  }
  // the 7-field client-library form parses too
  const info7 = `309;309;${NOW + 10};2;123;;`;
  const ks7 = verify(b64(`${dgst('sha1', P309.adminSecret + info7)}|${info7}`));
  t.equal(ks7.type, 2);
  t.equal(ks7.isAdmin, true);
});

t.test('v1 generated verifies with openssl', async (t) => {
  const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 2, userId: 'bob', expiry: 60, privileges: 'sview:*', now: NOW, rand: '42.1' });
  const text = unb64(ks).toString('utf8');
  const [sig, info] = [text.slice(0, 40), text.slice(41)];
  t.equal(text[40], '|');
  t.equal(info, `309;309;${NOW + 60};2;42.1;bob;sview:*;;`, 'all nine fields, as the server writes them');
  t.equal(sig, dgst('sha1', P309.adminSecret + info));
  t.ok(/^[A-Za-z0-9+/]+=*$/.test(ks), 'standard base64');
});

t.test('v2 made with openssl verifies', async (t) => {
  const key = dgst('sha1', P309.adminSecret).slice(0, 32);
  const r = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const f = `sview=1_kssecure&all.x=1&sessionid=abc&_e=${NOW + 100}&_t=0&_u=carol`;
  const body = Buffer.concat([r, Buffer.from(f)]);
  let plain = Buffer.concat([dgstRaw('sha1', body), body]);
  plain = Buffer.concat([plain, Buffer.alloc((16 - (plain.length % 16)) % 16)]);
  const cipher = aes128cbc('enc', key, plain);
  const std = b64(Buffer.concat([Buffer.from('v2|309|'), cipher]));
  t.ok(std.startsWith('djJ8'));
  for (const form of [std, std.replace(/\+/g, '-').replace(/\//g, '_'), std.replace(/=+$/, '')]) {
    const ks = verify(form);
    t.equal(ks.version, 2);
    t.equal(ks.userId, 'carol');
    t.equal(ks.expiry, NOW + 100);
    t.ok(ksHasPrivilege(ks, 'sview', '1_kssecure'));
    t.ok(ks.privileges.has('all_x'), 'parse_str turns "." in names into "_"');
    t.equal(ks.sessionId, 'abc');
    t.equal(ks.hash, dgst('sha1', body), 'v2 hash is the embedded SHA1');
  }
});


t.test('v2 made with openssl, of many lengths and two partners, opened one after another', async (t) => {
  // the decryption keeps one decipher per secret (src/access/ks.ts): what it opened before must
  // not change what it opens next, whatever the lengths and secrets, and a KS that fails between
  // two others must not either
  const made = (p: typeof P309, user: string, i: number) => {
    const key = dgst('sha1', p.adminSecret).slice(0, 32);
    const body = Buffer.concat([Buffer.alloc(16, i), Buffer.from(`sview=1_kssecure&_e=${NOW + 100 + i}&_t=0&_u=${user}`)]);
    let plain = Buffer.concat([dgstRaw('sha1', body), body]);
    plain = Buffer.concat([plain, Buffer.alloc((16 - (plain.length % 16)) % 16)]);
    return b64(Buffer.concat([Buffer.from(`v2|${p.id}|`), aes128cbc('enc', key, plain)]));
  };
  const cases = [1, 17, 40, 3, 90, 33].map((n, i) => ({ p: i % 2 ? P310 : P309, user: 'u'.repeat(n), i }));
  const texts = cases.map((c) => made(c.p, c.user, c.i));
  t.equal(new Set(texts.map((x) => unb64(x).length)).size > 3, true, 'ciphertexts of several block counts');
  for (const [k, c] of cases.entries()) {
    const ks = verify(texts[k], c.p);
    t.equal(ks.userId, c.user, `KS ${k} opens`);
    t.equal(ks.expiry, NOW + 100 + c.i);
    // another partner's secret, then a flipped last block, between this KS and the next
    t.equal(reason(() => verify(texts[k], c.p === P309 ? { ...P310, id: 309 } : { ...P309, id: 310 })), 'BAD_SIGNATURE');
    const bytes = unb64(texts[k]);
    bytes[bytes.length - 1] ^= 1;
    t.equal(reason(() => verify(b64(bytes), c.p)), 'BAD_SIGNATURE');
  }
});
t.test('v2 generated decrypts with openssl', async (t) => {
  const r = Buffer.alloc(16, 7);
  const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, userId: 'dave', expiry: 3600, privileges: '*', version: 2, now: NOW, rand: r });
  t.ok(ks.startsWith('djJ8'));
  t.notOk(/[+/]/.test(ks), 'url-safe alphabet');
  const bytes = unb64(ks.replace(/-/g, '+').replace(/_/g, '/'));
  t.equal(bytes.subarray(0, 7).toString(), 'v2|309|');
  const plain = aes128cbc('dec', dgst('sha1', P309.adminSecret).slice(0, 32), bytes.subarray(7));
  let end = plain.length;
  while (plain[end - 1] === 0) end--;
  const digest = plain.subarray(0, 20);
  t.equal(digest.toString('hex'), dgst('sha1', plain.subarray(20, end)), 'embedded SHA1');
  t.same(plain.subarray(20, 36), r);
  t.equal(plain.subarray(36, end).toString(), `all=%2A&_e=${NOW + 3600}&_t=0&_u=dave`);
  const back = verify(ks);
  t.ok(back.privileges.has('*'));
  t.ok(ksHasPrivilege(back, 'sview', '1_anything'));
});

t.test('round trip of both versions with privileges and types', async (t) => {
  for (const version of [1, 2] as const) {
    for (const type of [0, 2] as const) {
      const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type, userId: 'u@x.com', expiry: 30, privileges: 'sview:1_a/1_b,download,iprestrict:1.2.3.4', version, now: NOW });
      const v = verify(ks, P309, { clientIp: '1.2.3.4' });
      t.equal(v.type, type);
      t.equal(v.userId, 'u@x.com');
      t.ok(ksHasPrivilege(v, 'sview', '1_b'));
      t.notOk(ksHasPrivilege(v, 'sview', '1_'), 'no prefix match (stricter than the reference)');
      t.ok(ksHasPrivilege(v, 'download'));
      t.notOk(ksHasPrivilege(v, 'edit'));
    }
  }
});

t.test('only the admin secret of the KS partner validates', async (t) => {
  for (const version of [1, 2] as const) {
    const byUser = generateKs({ partnerId: 309, secret: P309.userSecret, type: 0, expiry: 60, version, now: NOW });
    t.equal(reason(() => verify(byUser)), 'BAD_SIGNATURE', `v${version} signed with the user secret`);
    const other = generateKs({ partnerId: 310, secret: P310.adminSecret, type: 2, expiry: 60, version, now: NOW });
    t.equal(reason(() => verify(other)), 'WRONG_PARTNER');
    t.equal(verify(other, P310).partnerId, 310);
    const forged = generateKs({ partnerId: 309, secret: P310.adminSecret, type: 2, expiry: 60, version, now: NOW });
    t.equal(reason(() => verify(forged)), 'BAD_SIGNATURE', 'another partner\'s secret');
    t.equal(verify(forged, { ...P309, additionalAdminSecrets: [P310.adminSecret] }).partnerId, 309, 'an additional admin secret is tried');
  }
});

t.test('a removed additional admin secret stops the KSs it signed at once, though they were verified and kept', async (t) => {
  const second = 'second-admin-secret-309';
  for (const version of [1, 2] as const) {
    const withBoth = { ...P309, additionalAdminSecrets: [second] };
    const bySecond = generateKs({ partnerId: 309, secret: second, type: 2, expiry: 60, version, now: NOW });
    const byMain = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 2, expiry: 60, version, now: NOW });
    t.equal(verify(bySecond, withBoth).type, 2, `v${version}: the additional secret verifies`);
    t.equal(verify(bySecond, withBoth).type, 2, 'again, from the kept verification');
    t.equal(verify(byMain, withBoth).type, 2);
    const without = { ...P309, additionalAdminSecrets: [] };
    t.equal(reason(() => verify(bySecond, without)), 'BAD_SIGNATURE', 'the secret removed: its KS is refused');
    t.equal(verify(byMain, without).type, 2, 'the main secret\'s KS still verifies');
    t.equal(reason(() => verify(bySecond, withBoth)), undefined, 'put back, it verifies again');
  }
});

t.test('a downloadasset KS is the same within a 5-minute window: expiry rounded up, random part from it', async (t) => {
  const base = Math.ceil(NOW / 300) * 300; // a window boundary
  for (const version of [1, 2] as const) {
    const at = (now: number, privileges = 'downloadasset:1_f1') =>
      generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, userId: 'u', expiry: 600, privileges, version, now });
    const first = at(base + 1);
    t.equal(at(base + 299), first, `v${version}: the same KS later in the window`);
    t.equal(at(base + 150), first);
    const ks = verify(first, P309, { now: base + 1 });
    t.equal(ks.expiry, base + 900, 'expiry rounded up to the next multiple of 300 s');
    t.equal(ks.privilegesString, 'downloadasset:1_f1');
    t.not(at(base + 301), first, 'the next window: another KS');
    t.equal(verify(at(base + 301), P309, { now: base + 301 }).expiry, base + 1200);
    t.equal(verify(at(base + 300), P309, { now: base + 300 }).expiry, base + 900, 'on a boundary, not rounded further');
    t.not(at(base + 1, 'download:1_f1'), at(base + 1, 'download:1_f1'), 'without downloadasset every KS is new');
    t.equal(verify(at(base + 1, 'download:1_f1'), P309, { now: base + 1 }).expiry, base + 601, 'and its expiry is as asked');
    t.equal(at(base + 1, 'sview:1_a,downloadasset'), at(base + 2, 'sview:1_a,downloadasset'), 'the name anywhere, with or without a value');
  }
  // v1 carries the rounded expiry as its rand field, as Kaltura's server writes it
  const v1 = Buffer.from(generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 10, privileges: 'downloadasset:x', version: 1, now: base + 1 }), 'base64').toString();
  t.equal(v1.split('|')[1].split(';')[4], String(base + 300));
});

t.test('the v2 random part of a downloadasset KS is MT19937 of the expiry (PHP srand + rand(0, 255))', async (t) => {
  // MT19937's published first outputs for seed 5489: 3499211612, 581869302, 3890346734, 3586334585
  t.same([...mt19937Bytes(5489, 4)], [3499211612, 581869302, 3890346734, 3586334585].map((n) => n & 0xff));
  const exp = 1_700_000_100;
  const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 100, privileges: 'downloadasset:1_f1', version: 2, now: exp - 100 });
  const plain = aes128cbc('dec', dgst('sha1', P309.adminSecret).slice(0, 32), unb64(ks.replace(/-/g, '+').replace(/_/g, '/')).subarray('v2|309|'.length));
  t.same(plain.subarray(20, 36), mt19937Bytes(exp, 16), 'the 16 bytes after the SHA1');
});

t.test('expiry: valid_until <= now is expired', async (t) => {
  for (const version of [1, 2] as const) {
    const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 10, version, now: NOW });
    t.equal(verify(ks, P309, { now: NOW + 9 }).expiry, NOW + 10);
    t.equal(reason(() => verify(ks, P309, { now: NOW + 10 })), 'EXPIRED');
    t.equal(reason(() => verify(ks, P309, { now: NOW + 11 })), 'EXPIRED', 'expired by one second');
  }
});

t.test('iprestrict and urirestrict', async (t) => {
  const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 60, privileges: 'iprestrict:10.0.0.1', version: 2, now: NOW });
  t.equal(reason(() => verify(ks, P309, { clientIp: '10.0.0.2' })), 'IP');
  t.equal(reason(() => verify(ks, P309, {})), 'IP');
  t.ok(verify(ks, P309, { clientIp: '10.0.0.1' }));
  const uk = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 60, privileges: 'urirestrict:/p/309/x*|/exact', now: NOW });
  t.ok(verify(uk, P309, { uri: '/p/309/x/y?z=1' }));
  t.ok(verify(uk, P309, { uri: '/exact' }));
  t.equal(reason(() => verify(uk, P309, { uri: '/exact/more' })), 'URI');
  t.equal(reason(() => verify(uk, P309, { uri: '/p/310/x' })), 'URI');
  t.equal(reason(() => verify(uk, P309, {})), 'URI');
});

t.test('revocation by hash and by session id', async (t) => {
  const revoked = new Set<string>();
  const isRevoked = (k: string) => revoked.has(k);
  const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 60, privileges: 'sessionid:s1', version: 2, now: NOW });
  const v = verify(ks, P309, { isRevoked });
  const keys = ksRevocationKeys(v);
  t.equal(keys.length, 2);
  t.equal(keys[1], createHash('sha1').update('309_s1').digest('hex'));
  revoked.add(keys[1]);
  t.equal(reason(() => verify(ks, P309, { isRevoked })), 'REVOKED', 'session id revoked');
  const other = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 60, privileges: 'sessionid:s1', version: 1, now: NOW });
  t.equal(reason(() => verify(other, P309, { isRevoked })), 'REVOKED', 'another KS of the same session');
  const plain = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 0, expiry: 60, now: NOW });
  const pv = verify(plain, P309, { isRevoked });
  revoked.add(pv.hash);
  t.equal(reason(() => verify(plain, P309, { isRevoked })), 'REVOKED');
  const respelled = plain.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  t.equal(reason(() => verify(respelled, P309, { isRevoked })), 'REVOKED', 'the same KS spelled url-safe');
});

t.test('every single changed byte and every truncation is refused', async (t) => {
  for (const version of [1, 2] as const) {
    const ks = generateKs({ partnerId: 309, secret: P309.adminSecret, type: 2, userId: 'x', expiry: 60, privileges: 'sview:*', version, now: NOW });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=.!%';
    let refused = 0;
    let total = 0;
    for (let i = 0; i < ks.length; i++) {
      for (const c of alphabet) {
        if (c === ks[i]) continue;
        // "-"/"+" and "_"/"/" are the same digit in the two alphabets
        const same = (a: string, b: string) => ({ '-': '+', _: '/' } as Record<string, string>)[a] === b || ({ '-': '+', _: '/' } as Record<string, string>)[b] === a;
        if (same(c, ks[i])) continue;
        const bad = ks.slice(0, i) + c + ks.slice(i + 1);
        total++;
        const r = reason(() => verify(bad));
        if (r && !r.startsWith('not a')) refused++;
        else t.fail(`accepted or wrong error for a change at ${i} to ${c}: ${r}`);
      }
    }
    t.equal(refused, total, `v${version}: ${total} single-character changes refused`);
    for (let n = 0; n < ks.length; n++) {
      const cut = ks.slice(0, n);
      if (cut.replace(/=+$/, '') === ks.replace(/=+$/, '')) continue;
      const r = reason(() => verify(cut));
      if (!r || r.startsWith('not a')) t.fail(`truncation to ${n} accepted: ${r}`);
    }
  }
});

t.test('generation refuses a user id with ";" or ","', async (t) => {
  for (const userId of ['a;b', 'a,b', 'a|b', 'a\nb']) {
    for (const version of [1, 2] as const) {
      t.equal(reason(() => generateKs({ partnerId: 309, secret: 's', type: 0, userId, expiry: 60, version, now: NOW })), 'MALFORMED', JSON.stringify(userId));
    }
  }
});

t.test('garbage is MALFORMED, fast', async (t) => {
  for (const s of ['', 'djJ8', '!!!', 'a', 'abc=d', 'x'.repeat(20000), Buffer.from('v2|abc|x').toString('base64'), Buffer.from('nope').toString('base64')]) {
    t.equal(reason(() => parseKs(s)), 'MALFORMED', s.slice(0, 20));
  }
});

t.test('parse_str semantics', async (t) => {
  const q = phpParseStr('a+b=1&c%2Ed=%41+%zz&e[x]=2&a+b=3&=skip&f');
  t.same([...q], [['a_b', '3'], ['c_d', 'A %zz'], ['e', '2'], ['f', '']]);
});

t.test('playManifest error mapping', async (t) => {
  const code = (r: KsError['reason'], rules = true) => playManifestKsError(new KsError(r, ''), rules)?.code ?? null;
  t.equal(code('EXPIRED'), 31);
  t.equal(code('IP'), 34);
  t.equal(code('WRONG_PARTNER'), 32);
  t.equal(code('WRONG_PARTNER', false), null, 'ignored when the entry has no rules');
  t.equal(code('MALFORMED'), 7);
  t.equal(code('BAD_SIGNATURE'), 7);
  t.equal(code('URI'), 7);
  t.equal(code('REVOKED'), 7);
});
