// A production start from an empty directory, with the very commands of the README's production
// quick start (run through the installed `kdeliver` on PATH: `npx kdeliver` runs the same bin, as
// test/ops/clean-checkout.test.ts checks): `partner add`, `ingest`, `serve`, then the README's HLS
// URL plays (master, variant, a segment that ffmpeg decodes). A new catalog used to hold no
// partner, flavor params, conversion profile or delivery profile, so nothing played.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from '../helpers/system.js';
import { installedCommand, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { makeSource } from '../ingest/helpers.js';
import { parseKs, verifyKs } from '../../src/access/ks.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-production-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const env = { KDELIVER_DATA_DIR: join(work, 'media-data'), NODE_ENV: 'production' };

// The README's quick start: its shell lines (comments dropped) and the URL it says to play
const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
const quick = /### Production quick start\n[\s\S]*?```sh\n([\s\S]*?)```([\s\S]*?)\n#/.exec(readme);
if (!quick) throw new Error('README.md: no "### Production quick start" section with a sh block');
const [exportLine, addLine, ingestLine, serveLine] = quick[1].split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
const playUrl = /`(http:\/\/127\.0\.0\.1:8080\/p\/[^`]*<entry id>[^`]*)`/.exec(quick[2])?.[1];
/** A README line run by bash in the work folder after its export line, `npx kdeliver` being the installed bin. */
const readmeLine = (line: string) => run('bash', ['-c', `set -e\n${exportLine}\n${line.replace(/^npx kdeliver /, 'kdeliver ')}`], {
  cwd: work, env: { PATH: `${join(work, 'bin')}:${process.env.PATH}` }, timeoutMs: 240_000,
});

t.test('empty data directory, production: partner add, ingest, serve, and the HLS URL plays', async (t) => {
  const none = await cmd.kdeliver(['partner', 'list', '--json'], env);
  t.equal(none.code, 0, none.stderr);
  t.same(JSON.parse(none.stdout), [], 'no partner yet (no sample library in production)');
  const empty = await cmd.serve(env);
  const hint = /The catalog has no partner yet:\n {2}kdeliver partner add/;
  t.match(await empty.waitForLog(hint), hint, 'the server says what to do first');
  t.equal((await fetch(`${empty.url}/readyz`)).status, 200);
  t.equal(await empty.stop(), 0);

  t.equal(exportLine, 'export NODE_ENV=production KDELIVER_DATA_DIR=$PWD/media-data', 'the README sets production and an empty data directory');
  t.match(addLine, /^npx kdeliver partner add /);
  t.match(ingestLine, /^npx kdeliver ingest movie\.mp4 --partner \d+$/);
  t.equal(serveLine, 'npx kdeliver serve');
  t.ok(playUrl, 'the README names the URL to play');

  const added = await readmeLine(addLine);
  t.equal(added.code, 0, added.stderr);
  const m = /^partner (\d+) created: My media\n {2}admin secret: ([0-9a-f]{32})\n {2}user secret: {2}([0-9a-f]{32})\n/.exec(added.stdout);
  t.ok(m, `partner add prints the id and both secrets once:\n${added.stdout}`);
  const [, pid, adminSecret, userSecret] = m!;
  t.equal(pid, '100', 'the first partner id after Kaltura\'s system partners');
  t.equal(ingestLine.split(' ').pop(), pid, 'the README ingests for the partner it created');
  t.not(adminSecret, userSecret);

  const listed = await cmd.kdeliver(['partner', 'list'], env);
  t.equal(listed.code, 0);
  t.match(listed.stdout, /^100\s+active\s+0\s+1 My media$/m);
  t.notOk(listed.stdout.includes(adminSecret) || listed.stdout.includes(userSecret), 'partner list shows no secret');

  const ks = await cmd.kdeliver(['ks', '--partner', pid, '--type', 'admin'], env);
  t.equal(ks.code, 0, ks.stderr);
  t.ok(verifyKs(parseKs(ks.stdout.trim()), { id: Number(pid), adminSecret }, { now: Math.floor(Date.now() / 1000) }), 'a KS signed with the printed admin secret');

  const src = join(work, 'movie.mp4'); // the README's movie.mp4
  makeSource(src, { seconds: 4, width: 480, height: 270 });
  const ingest = await readmeLine(ingestLine);
  t.equal(ingest.code, 0, `${ingest.stdout}${ingest.stderr}`);
  const entryId = /entry (\S+): source/.exec(ingest.stdout)?.[1];
  t.ok(entryId, ingest.stdout);
  t.match(ingest.stderr, new RegExp(`entry ${entryId} READY`));

  const server = await cmd.serve(env);
  const pm = `${server.url}/p/${pid}/sp/${pid}00/playManifest/entryId/${entryId}`;
  const master = await fetch(playUrl!.replace('http://127.0.0.1:8080', server.url).replace('<entry id>', entryId!));
  const masterText = await master.text();
  t.equal(master.status, 200, `HLS master: ${master.headers.get('x-kaltura') ?? ''} ${masterText}`);
  t.match(masterText, /#EXT-X-STREAM-INF:/);
  const variantUrl = new URL(masterText.split('\n').find((l) => l && !l.startsWith('#'))!, `${pm}/`).href;
  const variant = await fetch(variantUrl);
  const variantText = await variant.text();
  t.equal(variant.status, 200, variantText);
  const segUrl = new URL(variantText.split('\n').find((l) => l && !l.startsWith('#'))!, variantUrl).href;
  const seg = await fetch(segUrl);
  t.equal(seg.status, 200);
  const segFile = join(work, 'seg.ts');
  writeFileSync(segFile, Buffer.from(await seg.arrayBuffer()));
  const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', segFile], { encoding: 'utf8' });
  // (MPEG-TS: ffprobe lists each stream once more under its program)
  t.same([...new Set(probe.stdout.split('\n').filter(Boolean))].sort(), ['aac', 'h264'], probe.stderr);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', segFile, '-f', 'null', '-'], { encoding: 'utf8' });
  t.equal(decode.status, 0, decode.stderr);
  t.equal(decode.stderr.trim(), '', 'ffmpeg decodes the segment without an error');

  // the other default delivery profiles answer too
  const dash = await fetch(`${pm}/format/mpegdash/protocol/http/manifest.mpd`, { redirect: 'manual' });
  t.equal(dash.status, 302, `DASH: ${dash.headers.get('x-kaltura') ?? ''}`);
  const url = await fetch(`${pm}/format/url/protocol/http/a.mp4`, { redirect: 'manual' });
  t.equal(url.status, 302, `progressive: ${url.headers.get('x-kaltura') ?? ''}`);
  t.equal(await server.stop(), 0);
});

t.test('partner add refuses a taken or invalid id', async (t) => {
  const again = await cmd.kdeliver(['partner', 'add', '--id', '100'], env);
  t.equal(again.code, 1);
  t.match(again.stderr, /partner 100 exists \(My media\)/);
  const zero = await cmd.kdeliver(['partner', 'add', '--id', '0'], env);
  t.equal(zero.code, 2);
  t.match(zero.stderr, /--id 0: expected a partner id/);
  const chosen = await cmd.kdeliver(['partner', 'add', '--id', '4242', '--json'], env);
  t.equal(chosen.code, 0, chosen.stderr);
  const j = JSON.parse(chosen.stdout);
  t.equal(j.id, 4242);
  t.equal(j.name, 'Partner 4242');
  t.match(j.adminSecret, /^[0-9a-f]{32}$/);
  const next = await cmd.kdeliver(['partner', 'add', '--json'], env);
  t.equal(JSON.parse(next.stdout).id, 4243, 'the next free id');
});
