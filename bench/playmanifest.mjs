// Issue 17, target 1 (and issue 2): playManifest as players ask for it, against a Fastify
// hello-world on the same machine, side by side in interleaved rounds, autocannon -c 50.
//
// Targets, each its own autocannon run per round:
// - hello-world: Fastify 5 `{hello:'world'}` on `/` (the floor every ratio is taken against);
// - one URL: the HLS master of 1_rcit0qgs asked again and again (the issue-2 figure; the answer
//   cache keeps it after the first request);
// - player, anonymous: URLs as the Kaltura web player builds them (lib/player.mjs) for the public
//   entries of the sample library, half applehttp and half mpegdash, each with a new
//   playSessionId and referrer: as shipped, and with the answer cache off
//   (KDELIVER_MANIFEST_CACHE_ENTRIES=0);
// - player, user KS on 1_kssecure (sview:1_kssecure, v2, issued with the partner's admin secret
//   as session.start does): a KS per player session reused for its --session-requests requests
//   (a player keeps its KS for the whole session), and a fresh KS on every request.
// The URL form is checked against the one the real player sends in Chromium (when available).
// --profile: afterwards, one more kdeliver under `node --cpu-prof` for one run of each KS target
// and of the anonymous kept answer (what a KS answer adds shows against it), and where its
// samples went (bench/.work/profiles/).
// Usage: node bench/playmanifest.mjs [--connections 50] [--pipelining 1] [--duration 10] [--rounds 3]
//          [--session-requests 4] [--profile] [--no-build]
import { randomUUID } from 'node:crypto';
import { startKdeliver } from './lib/kdeliver.mjs';
import { distModule } from './lib/build.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { printMachine } from './lib/machine.mjs';
import { fmt, startReport } from './lib/results.mjs';
import { printRows, reportVsHello, runRounds, startHello } from './lib/versus-hello.mjs';
import { cannon } from './lib/autocannon.mjs';
import { printProfile, profileKdeliver } from './lib/cpuprofile.mjs';
import { PLAYER_VERSION, capturePlayer, kalturaParams, manifestPath, playSessionId, playbackSources, urlShape } from './lib/player.mjs';

const opts = loadOptions({ connections: 50, pipelining: 1 }, { 'session-requests': { type: 'string', default: '4' }, profile: { type: 'boolean', default: false } });
const { rounds, connections, pipelining, duration, build } = opts;
const SESSION = Number(opts.extra['session-requests']);
const PARTNER = 309;
const SECRET = 'sample-admin-secret-309'; // the sample library's (a contract), used only to issue test KSs
const PUBLIC_ENTRIES = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_flavlim0'];
const KS_ENTRY = '1_kssecure';
const ONE_URL = '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8';
const FORMATS = ['applehttp', 'mpegdash'];

const report = startReport('playmanifest', { rounds, connections, pipelining, duration, session: SESSION });
printMachine();
const kd = await startKdeliver({ build });
const kdNoCache = await startKdeliver({ build: false, env: { KDELIVER_MANIFEST_CACHE_ENTRIES: '0' } });
const { server: hello, target: helloTarget } = await startHello();
const { generateKs } = await import(distModule('src/access/ks.js'));

let n = 0;
const userKs = () => generateKs({ partnerId: PARTNER, secret: SECRET, type: 0, userId: `viewer-${++n}`, expiry: 86400, privileges: `sview:${KS_ENTRY}`, version: 2, now: Math.floor(Date.now() / 1000) });
const pageUrl = () => `https://www.example.com/watch/${randomUUID()}.html`;

/**
 * The work a fresh KS brings to an answer whatever else is kept, timed in this process with
 * kdeliver's own functions: opening the KS (base64, AES, SHA-1, its fields) and the answer's media
 * signatures (one HMAC-SHA256 per URL: three flavors in the HLS master, one in the DASH redirect;
 * the benchmark alternates them). Added to the anonymous kept answer's server CPU in the same
 * round, it is the least a KS answer could cost if everything else cost what a kept answer does,
 * and so the most its ratio to the hello-world could be.
 */
async function ksOwnWork() {
  const { parseKs, verifyKs } = await import(distModule('src/access/ks.js'));
  const { signMediaUrl } = await import(distModule('src/delivery/tokenizers/kaltura.js'));
  const partner = { id: PARTNER, adminSecret: SECRET };
  const now = Math.floor(Date.now() / 1000);
  const N = 20_000;
  const kss = Array.from({ length: 2 * N }, userKs);
  const url = (ks, k) => `http://127.0.0.1/hls/p/309/sp/30900/serveFlavor/entryId/${KS_ENTRY}/v/1/flavorId/1_f${k}kssec0/name/a.mp4/index.m3u8`;
  const time = (from, fn) => {
    const t0 = process.hrtime.bigint();
    for (let i = from; i < from + N; i++) fn(kss[i], i);
    return Number(process.hrtime.bigint() - t0) / N / 1000;
  };
  time(N, (ks) => verifyKs(parseKs(ks), partner, { now, clientIp: '127.0.0.1', uri: '/' })); // warm-up
  const openUs = time(0, (ks) => verifyKs(parseKs(ks), partner, { now, clientIp: '127.0.0.1', uri: '/' }));
  const signUs = time(0, (ks, i) => signMediaUrl(url(ks, i % 3), 'media-url-secret', now, undefined, ks));
  return { openUs, signUs, perAnswerUs: openUs + 2 * signUs };
}

function ksCeiling(rows) {
  return ksOwnWork().then(({ openUs, signUs, perAnswerUs }) => {
    const of = (name) => rows.filter((r) => r.name === name).map((r) => r.cpuUsPerReq);
    const hello = of('Fastify hello-world');
    const ceilings = of('player anon, as shipped').map((kept, k) => hello[k] / (kept + perAnswerUs));
    const text = `a fresh KS's own work, in-process: opening ${fmt(openUs, 1)} µs + 2 media signatures ${fmt(2 * signUs, 1)} µs = ${fmt(perAnswerUs, 1)} µs per answer; `
      + `with the anonymous kept answer's server CPU that puts the KS ratio's ceiling at ${fmt(median(ceilings), 2)} of the hello-world (rounds ${ceilings.map((c) => fmt(c, 2)).join(', ')})`;
    console.log(`\n${text}`);
    report.note(text);
  });
}

try {
  // the flavorIds each entry's sources carry, as the player reads them from getPlaybackContext
  const sources = await playbackSources(kd.url, PARTNER, PUBLIC_ENTRIES);
  Object.assign(sources, await playbackSources(kd.url, PARTNER, [KS_ENTRY], userKs()));

  // player-like requests: every request a new URL; `ks` decides the KS of each
  const anonPairs = PUBLIC_ENTRIES.flatMap((e) => FORMATS.map((f) => [e, f]));
  let i = 0;
  const anonymousPath = () => {
    const [entryId, format] = anonPairs[i++ % anonPairs.length];
    return manifestPath({ partnerId: PARTNER, entryId, format, flavorIds: sources[entryId][format] }) + kalturaParams({ sessionId: playSessionId(), pageUrl: pageUrl() });
  };
  const ksPath = (ks, playerGuid, page, k) => manifestPath({ partnerId: PARTNER, entryId: KS_ENTRY, format: FORMATS[k % 2], flavorIds: sources[KS_ENTRY][FORMATS[k % 2]], ks })
    + kalturaParams({ sessionId: playSessionId(playerGuid), pageUrl: page });
  const anonymous = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: anonymousPath() }) }];
  // a session: SESSION requests on one connection sharing a KS, a player GUID and a page
  // (autocannon keeps `context` across one pass over the list and clears it at the next)
  const ksSession = Array.from({ length: SESSION }, (_, k) => ({
    method: 'GET',
    setupRequest: (req, context) => {
      if (k === 0) Object.assign(context, { ks: userKs(), guid: randomUUID(), page: pageUrl() });
      return { ...req, path: ksPath(context.ks, context.guid, context.page, k) };
    },
  }));
  let kf = 0;
  const ksFresh = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: ksPath(userKs(), randomUUID(), pageUrl(), kf++) }) }];

  // what the generated requests answer (200 master, 302 to the packager's MPD), before measuring
  for (const [label, base, path] of [['anonymous', kd.url, anonymousPath()], ['anonymous', kd.url, anonymousPath()], ['KS', kd.url, ksPath(userKs(), randomUUID(), pageUrl(), 0)], ['KS', kd.url, ksPath(userKs(), randomUUID(), pageUrl(), 1)], ['one URL', kd.url, ONE_URL]]) {
    const r = await fetch(base + path, { redirect: 'manual' });
    const body = await r.text();
    const okAnswer = (r.status === 200 && body.startsWith('#EXTM3U') && body.includes('#EXT-X-STREAM-INF')) || (r.status === 302 && /\/dash\/.*manifest\.mpd/.test(r.headers.get('location') ?? ''));
    if (!okAnswer) throw new Error(`${label} playManifest answered ${r.status}: ${body.slice(0, 300)}`);
  }

  // the same form as the real player's? (its URL for 1_rcit0qgs, values replaced by placeholders)
  const cap = await capturePlayer(kd.url, [{ entryId: '1_rcit0qgs' }]);
  if (cap.skip) {
    console.log(`URL form: built from the player's source (the real player was not run: ${cap.skip})`);
    report.note(`URL form not checked against the real player: ${cap.skip}`);
  } else {
    const real = cap.loads[0].manifests.map(urlShape);
    const ours = FORMATS.map((f) => urlShape(manifestPath({ partnerId: PARTNER, entryId: '1_rcit0qgs', format: f, flavorIds: sources['1_rcit0qgs'][f] }) + kalturaParams({ sessionId: playSessionId(), pageUrl: cap.loads[0].pageUrl })));
    const same = real.some((u) => ours.includes(u));
    console.log(`URL form checked against the real player ${cap.playerVersion} in Chromium: ${same ? 'same' : 'DIFFERENT'}\n  player: ${real[0]}\n  ours:   ${ours.find((u) => u.includes('applehttp'))}`);
    if (!same) throw new Error('the generated playManifest URLs do not have the form the real player sends');
  }

  const targets = [
    helloTarget,
    { name: 'one URL, as shipped', server: kd, url: kd.url + ONE_URL },
    { name: 'player anon, as shipped', server: kd, url: kd.url, requests: anonymous, ok: [200, 302] },
    { name: 'player anon, cache off', server: kdNoCache, url: kdNoCache.url, requests: anonymous, ok: [200, 302] },
    { name: `player KS/session of ${SESSION}`, server: kd, url: kd.url, requests: ksSession, ok: [200, 302] },
    { name: 'player KS fresh each', server: kd, url: kd.url, requests: ksFresh, ok: [200, 302] },
  ];
  const rows = await runRounds(targets, { rounds, duration, connections, pipelining });
  console.log(`\nautocannon -c ${connections} -p ${pipelining} -d ${duration} in the benchmark process, each server one Node process, loopback; player ${PLAYER_VERSION} URL form; anonymous entries ${PUBLIC_ENTRIES.join(', ')}`);
  printRows(rows, 26);
  report.data.rows = rows;
  reportVsHello(report, rows, [['player anon, as shipped', 0.6], [`player KS/session of ${SESSION}`, 0.5], ['player KS fresh each', 0.5], ['player anon, cache off', null], ['one URL, as shipped', null]]);
  await ksCeiling(rows);

  // where a KS answer's time goes: the same requests against a server under the profiler
  if (opts.extra.profile) {
    for (const t of targets.filter((x) => x.name.startsWith('player KS') || x.name === 'player anon, as shipped')) {
      const p = await profileKdeliver(t.name, {}, async (pk) => {
        await cannon({ url: pk.url, connections, pipelining, duration: 2, requests: t.requests, ok: t.ok });
        return cannon({ url: pk.url, connections, pipelining, duration, requests: t.requests, ok: t.ok });
      });
      printProfile(p, p.missing ? '' : `Profile of kdeliver, ${t.name} (${Math.round(p.run.rps)} req/s under the profiler)`);
    }
  }
} finally {
  await kd.stop();
  await kdNoCache.stop();
  await hello.stop();
}
report.finish();
