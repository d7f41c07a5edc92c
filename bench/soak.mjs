// Issue 17, target 6: a soak. Player sessions start at a steady rate for --minutes (default 10)
// against one kdeliver as shipped, each doing what the Kaltura web player does, in order:
// the media-load multirequest to api_v3 (lib/player.mjs), the poster (the entry's thumbnailUrl
// with the player's size; the audio-only entry has none), playManifest
// with the sources of that answer (player URL form, new playSessionId), then for HLS the master,
// one variant's playlist and its first --segments segments, for DASH the redirect, the MPD, the
// video and audio init segments and their first --segments fragments. 80 % of the sessions are
// anonymous on the public sample entries, 20 % carry a user KS (one per session) on 1_kssecure;
// half HLS, half DASH. Every minute: sessions, requests, errors, p50/p99 (all requests, and
// playManifest and segments apart), the server's RSS and CPU. Aims: no error, a stable p99, RSS
// growth under 10 % after the first minute (the warm-up): the highest RSS of the last three
// minutes against the highest of minutes 2-4, sampled every 5 s. A single sample at each end says
// little: RSS swings by 20 % within minutes as V8 collects (145-173 MB in the run of session 20,
// bench/README.md), so where the two samples fall in that swing decided the old end/start figure.
// Usage: node bench/soak.mjs [--minutes 10] [--sessions-per-second 10] [--segments 3] [--no-build]
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parse as parseMpd } from 'mpd-parser';
import { startKdeliver } from './lib/kdeliver.mjs';
import { distModule } from './lib/build.mjs';
import { loadOptions, median, percentile } from './lib/rounds.mjs';
import { printMachine, uptime } from './lib/machine.mjs';
import { cpuMeter, rssBytes } from './lib/cpu.mjs';
import { request } from './lib/load.mjs';
import { fmt, startReport, table } from './lib/results.mjs';
import { kalturaParams, manifestPath, multirequestFromSource, playSessionId } from './lib/player.mjs';

const opts = loadOptions({ connections: 64 }, {
  minutes: { type: 'string', default: '10' },
  'sessions-per-second': { type: 'string', default: '10' },
  segments: { type: 'string', default: '3' },
});
const MINUTES = Number(opts.extra.minutes);
const RATE = Number(opts.extra['sessions-per-second']);
const SEGMENTS = Number(opts.extra.segments);
const PARTNER = 309;
const PUBLIC_ENTRIES = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_flavlim0'];
const KS_ENTRY = '1_kssecure';

const report = startReport('soak', { minutes: MINUTES, sessionsPerSecond: RATE, segments: SEGMENTS });
printMachine();
const kd = await startKdeliver({ build: opts.build });
const { generateKs } = await import(distModule('src/access/ks.js'));
let nKs = 0;
const userKs = () => generateKs({ partnerId: PARTNER, secret: 'sample-admin-secret-309', type: 0, userId: `viewer-${++nKs}`, expiry: 86400, privileges: `sview:${KS_ENTRY}`, version: 2, now: Math.floor(Date.now() / 1000) });
const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });

const t0 = Date.now();
const minuteOf = () => Math.floor((Date.now() - t0) / 60_000);
const samples = []; // { minute, kind, ms, ok }
const errors = [];
let sessionsStarted = 0, sessionsDone = 0, sessionsFailed = 0, otherFailures = 0;

class SessionError extends Error {}
async function step(kind, d, check = (r) => r.status === 200) {
  const r = await request(agent, kd.url, { keepBody: true, ...d });
  const ok = check(r);
  samples.push({ minute: minuteOf(), kind, ms: r.ms, ok });
  if (!ok) {
    if (errors.length < 20) errors.push(`${kind} ${d.path.slice(0, 140)}: ${r.error ?? `HTTP ${r.status}`} ${r.body ? r.body.toString().slice(0, 120) : ''}`);
    throw new SessionError(kind);
  }
  return r;
}
const pathOf = (u) => { const x = new URL(u, kd.url); return x.pathname + x.search; };

async function session(i) {
  const withKs = i % 5 === 4;
  const entryId = withKs ? KS_ENTRY : PUBLIC_ENTRIES[i % PUBLIC_ENTRIES.length];
  const format = Math.floor(i / 2) % 2 === 0 ? 'applehttp' : 'mpegdash';
  const ks = withKs ? userKs() : undefined;
  const page = `https://www.example.com/watch/${randomUUID()}.html`;
  const api = await step('api_v3', { method: 'POST', path: '/api_v3/service/multirequest', headers: { 'content-type': 'application/json', origin: 'https://www.example.com' }, body: JSON.stringify(multirequestFromSource({ partnerId: PARTNER, entryId, ks })) },
    (r) => r.status === 200 && !r.body.toString().includes('KalturaAPIException'));
  const items = JSON.parse(api.body.toString());
  const ctx = items.find((x) => x.objectType === 'KalturaPlaybackContext');
  const entry = items.find((x) => x.objectType === 'KalturaBaseEntryListResponse').objects[0];
  // the poster, as the player asks for it: the entry's thumbnailUrl with its own size (and KS);
  // not for the audio-only entry, which has no thumbnail
  if (entry.mediaType !== 5) await step('thumbnail', { path: pathOf(`${entry.thumbnailUrl}/height/360/width/640${ks ? `/ks/${ks}` : ''}`) });
  const flavorIds = ctx.sources.find((s) => s.format === format).flavorIds;
  const mPath = manifestPath({ partnerId: PARTNER, entryId, format, flavorIds, ks }) + kalturaParams({ sessionId: playSessionId(), pageUrl: page });
  if (format === 'applehttp') {
    const master = await step('playManifest', { path: mPath }, (r) => r.status === 200 && r.body.toString().startsWith('#EXTM3U'));
    const variants = master.body.toString().split('\n').filter((l) => l && !l.startsWith('#'));
    const variant = new URL(variants[i % variants.length], kd.url + mPath).href;
    const pl = await step('playlist', { path: pathOf(variant) }, (r) => r.status === 200 && r.body.toString().startsWith('#EXTM3U'));
    const segs = pl.body.toString().split('\n').filter((l) => l && !l.startsWith('#')).slice(0, SEGMENTS);
    for (const s of segs) await step('segment', { path: pathOf(new URL(s, variant).href) }, (r) => r.status === 200 && r.bytes > 1000);
  } else {
    const redirect = await step('playManifest', { path: mPath }, (r) => r.status === 302 && !!r.headers.location);
    const mpdUrl = new URL(redirect.headers.location, kd.url).href;
    const mpdRes = await step('playlist', { path: pathOf(mpdUrl) }, (r) => r.status === 200 && r.body.toString().includes('<MPD'));
    const mpd = parseMpd(mpdRes.body.toString(), { manifestUri: mpdUrl });
    const tracks = mpd.playlists.length ? [mpd.playlists[i % mpd.playlists.length]] : [];
    const audio = Object.values(mpd.mediaGroups.AUDIO ?? {})[0];
    if (audio) tracks.push(Object.values(audio)[0].playlists[0]);
    for (const t of tracks) {
      await step('segment', { path: pathOf(t.segments[0].map.resolvedUri) });
      for (const s of t.segments.slice(0, SEGMENTS)) await step('segment', { path: pathOf(s.resolvedUri) }, (r) => r.status === 200 && r.bytes > 100);
    }
  }
}

// RSS and CPU, sampled every 5 s and summed up per minute
const rss = [];
let meter = cpuMeter(kd.pid);
const cpuByMinute = [];
const sampler = setInterval(() => rss.push({ minute: minuteOf(), at: (Date.now() - t0) / 1000, bytes: rssBytes(kd.pid) }), 5000);
let lastMinute = 0;
const minuteTimer = setInterval(() => {
  const m = minuteOf();
  if (m === lastMinute) return;
  const s = samples.filter((x) => x.minute === lastMinute).length;
  cpuByMinute[lastMinute] = meter(s);
  meter = cpuMeter(kd.pid);
  const row = summary(lastMinute);
  console.log(`  minute ${lastMinute + 1}: ${row.sessions} sessions, ${row.requests} requests, ${row.errors} errors, p50 ${fmt(row.p50, 2)} ms, p99 ${fmt(row.p99, 2)} ms (playManifest p99 ${fmt(row.manifestP99, 2)}, segments p99 ${fmt(row.segmentP99, 2)}), RSS ${fmt(row.rss / 1e6)} MB, CPU ${fmt(cpuByMinute[lastMinute]?.cpuPct)} %; ${uptime().replace(/.*load/, 'load')}`);
  lastMinute = m;
}, 1000);
const sessionsByMinute = [];
function summary(m) {
  const xs = samples.filter((x) => x.minute === m);
  const okMs = (k) => xs.filter((x) => x.ok && (!k || x.kind === k)).map((x) => x.ms);
  const lastRss = rss.filter((r) => r.minute === m).pop();
  return {
    minute: m + 1, sessions: sessionsByMinute[m] ?? 0, requests: xs.length, errors: xs.filter((x) => !x.ok).length,
    p50: percentile(okMs(), 50), p99: percentile(okMs(), 99), manifestP99: percentile(okMs('playManifest'), 99), segmentP99: percentile(okMs('segment'), 99),
    apiP99: percentile(okMs('api_v3'), 99), rss: lastRss?.bytes ?? rssBytes(kd.pid), cpuPct: cpuByMinute[m]?.cpuPct,
  };
}

console.log(`soak: ${RATE} player sessions/s for ${MINUTES} min against ${kd.url} (pid ${kd.pid}), started ${new Date().toISOString()}`);
const inFlight = new Set();
const total = Math.round(RATE * MINUTES * 60);
const start = process.hrtime.bigint();
let i = 0;
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * RATE) + 1);
    while (i < due) {
      const n = i++;
      sessionsStarted++;
      const mm = minuteOf();
      sessionsByMinute[mm] = (sessionsByMinute[mm] ?? 0) + 1;
      const p = session(n).then(() => { sessionsDone++; }, (err) => {
        sessionsFailed++;
        if (err instanceof SessionError) return;
        otherFailures++;
        if (errors.length < 20) errors.push(`session ${n}: ${err.stack ?? err}`);
      }).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (i >= total) return resolve();
    setTimeout(tick, 20);
  };
  tick();
});
await Promise.all(inFlight);
clearInterval(sampler);
clearInterval(minuteTimer);
const lastS = samples.filter((x) => x.minute === lastMinute).length;
cpuByMinute[lastMinute] = meter(lastS);
rss.push({ minute: lastMinute, at: (Date.now() - t0) / 1000, bytes: rssBytes(kd.pid) });
await kd.stop();
agent.destroy();

const minutes = Array.from({ length: lastMinute + 1 }, (_, m) => summary(m)).filter((r) => r.requests > 0);
console.log(`\nSoak finished ${new Date().toISOString()}; ${uptime()}`);
console.log(`${sessionsStarted} sessions (${sessionsDone} complete, ${sessionsFailed} failed), ${samples.length} requests, ${samples.filter((x) => !x.ok).length} errors`);
table([['minute', 6], ['sessions', 8], ['requests', 8], ['errors', 6], ['p50 ms', 7], ['p99 ms', 7], ['playManifest p99', 16], ['api_v3 p99', 10], ['segment p99', 11], ['RSS MB', 6], ['CPU %', 5]],
  minutes.map((r) => [r.minute, r.sessions, r.requests, r.errors, fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.manifestP99, 2), fmt(r.apiP99, 2), fmt(r.segmentP99, 2), fmt(r.rss / 1e6), fmt(r.cpuPct)]));
for (const e of errors) console.log(`  error: ${e}`);
const kinds = {};
for (const s of samples) (kinds[s.kind] ??= []).push(s.ms);
console.log('requests by kind (whole run): ' + Object.entries(kinds).map(([k, xs]) => `${k} ${xs.length} (p50 ${fmt(percentile(xs, 50), 2)}, p99 ${fmt(percentile(xs, 99), 2)} ms)`).join('; '));

// into the report's own record (a new object here would not be written)
Object.assign(report.data, { minutes, errors, sessionsStarted, sessionsDone, sessionsFailed, rss });
const afterWarmup = rss.filter((r) => r.minute === 0).pop()?.bytes ?? rss[0]?.bytes;
const atEnd = rss[rss.length - 1].bytes;
const finalMinute = Math.max(...rss.map((r) => r.minute));
const peak = (from, to) => Math.max(...rss.filter((r) => r.minute >= from && r.minute <= to).map((r) => r.bytes));
// minutes counted from 0 here: 1-3 are the second to the fourth (a run shorter than that: what it has)
const early = peak(Math.min(1, finalMinute), Math.min(3, finalMinute));
const late = peak(Math.max(1, finalMinute - 2), finalMinute);
const steady = minutes.slice(1).length ? minutes.slice(1) : minutes;
const p99s = steady.map((r) => r.p99);
const failed = samples.filter((x) => !x.ok).length + otherFailures;
report.ratio('errors / requests', failed / samples.length, `${failed} of ${samples.length}${otherFailures ? ` (${otherFailures} sessions stopped by something other than an answer)` : ''}; aim 0`);
report.ratio('worst minute p99 / median minute p99 (after the first minute)', Math.max(...p99s) / median(p99s), `p99 per minute ${p99s.map((x) => fmt(x, 1)).join(', ')} ms; "stable"`);
report.ratio('RSS growth: highest of the last three minutes / highest of minutes 2-4', late / early, `${fmt(early / 1e6)} MB -> ${fmt(late / 1e6)} MB, sampled every 5 s; aim < 1.10`);
report.note(`RSS at the end / after the first minute: ${fmt(atEnd / afterWarmup, 2)} (${fmt(afterWarmup / 1e6)} MB -> ${fmt(atEnd / 1e6)} MB; one sample each, wherever V8's collections left it)`);
report.finish();
