// The README's "Managing the library" and "The legacy API v2" sections, run as a new user runs
// them: the server started as the README says (`npx kdeliver serve`, the installed command, over
// the sample library), the kaltura-client script copied out of the README and run with node, then
// the README's curl lines, all as printed with only the host changed; each answers what the README
// says it answers. A README edit that breaks a line breaks this test.
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import sharp from 'sharp';
import { installedCommand, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const README_HOST = 'http://127.0.0.1:8080';
const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
/** The text of a `## ` section, up to the next one. */
const section = (title: string): string => {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md: no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};
const block = (text: string, lang: string): string => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text);
  if (!m) throw new Error(`README.md: no \`\`\`${lang} block in the section`);
  return m[1];
};
const manage = section('Managing the library');
const v2 = section('The legacy API v2 (partnerservices2)');
const xml = new XMLParser({ parseTagValue: false });

const work = mkdtempSync(join(tmpdir(), 'kdeliver-readme-library-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
// a checkout's own data directory, with the sample library (no NODE_ENV=production)
const env = { KDELIVER_DATA_DIR: join(work, 'storage') };
/** A README shell line, run by bash in the work folder with `npx kdeliver` being the installed command. */
const shell = (script: string) => run('bash', ['-c', script.replace(/\bnpx kdeliver /g, 'kdeliver ')], {
  cwd: work, env: { PATH: `${join(work, 'bin')}:${process.env.PATH}`, ...env }, timeoutMs: 120_000,
});

t.test('the README says how to start the server for these sections', async (t) => {
  t.match(manage, /`npx kdeliver serve`/, 'Managing the library names the command that starts the server');
  t.match(v2, /`npx kdeliver serve`/, 'the v2 section too');
});

t.test('Managing the library: the kaltura-client script and the lines after it, as printed', async (t) => {
  const server = await cmd.serve(env);
  const host = server.url;
  const api = `${host}/api_v3`;
  const adminKs = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).text()) as string;
  const entryOf = async () => JSON.parse(await (await fetch(`${api}/service/media/action/get?format=1&ks=${adminKs}&entryId=1_rcit0qgs`)).text());
  const before = await entryOf();

  // `npm install kaltura-client`: the package the checkout already has, where node looks for it
  const script = block(manage, 'js');
  t.match(script, /^\/\/ manage\.mjs\n/, 'the block is manage.mjs');
  t.ok(script.includes(`'${README_HOST}'`), 'the script names the default host');
  const dir = join(work, 'manage');
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(join(projectRoot, 'node_modules', 'kaltura-client'), join(dir, 'node_modules', 'kaltura-client'));
  t.match(manage, /`npm install kaltura-client`, then `node manage\.mjs`/, 'the README says how to run it');
  writeFileSync(join(dir, 'manage.mjs'), script.replaceAll(README_HOST, host));
  const ran = await run(process.execPath, ['manage.mjs'], { cwd: dir, timeoutMs: 120_000 });
  t.equal(ran.code, 0, ran.code === 0 ? 'node manage.mjs ran' : ran.stderr);
  t.equal(ran.stderr, '', 'nothing on stderr');
  const printed = /^Renamed from a script: profile (\d+), poster (\S+)\n$/.exec(ran.stdout);
  t.ok(printed, `it prints the new name, the profile and the poster URL:\n${ran.stdout}`);
  t.notOk(ran.stdout.includes(adminKs.slice(0, 20)) || /djJ8/.test(ran.stdout), 'no KS printed (the logger is silenced)');

  const after = await entryOf();
  t.match(after, { name: 'Renamed from a script', accessControlId: Number(printed![1]) }, 'renamed, behind the new profile');
  t.not(after.thumbnailUrl, before.thumbnailUrl, 'the thumbnail URL moved on to a new version');
  t.equal(after.thumbnailUrl, printed![2]);

  // "Then `curl -i …/format/url/a.mp4` answers 403 with `X-Kaltura: error-3` ("log in to watch")"
  const curlLine = /Then `(curl -i [^`]+)`/.exec(manage)?.[1];
  t.ok(curlLine, 'the README prints the curl line to try');
  const refused = await shell(curlLine!.replaceAll(README_HOST, host));
  t.equal(refused.code, 0, refused.code === 0 ? 'curl ran' : refused.stderr);
  t.match(refused.stdout, /^HTTP\/1\.1 403 /, '403');
  t.match(refused.stdout, /^x-kaltura: error-3\r?$/mi, 'X-Kaltura: error-3');
  t.match(refused.stdout, /log in to watch/, 'with the rule\'s message');

  // "with a KS (`/ks/$KS` from `npx kdeliver ks …`) the HLS master has the English SUBTITLES track"
  const ksLine = /`\/ks\/\$KS` from\s+`(npx kdeliver ks [^`]+)`/.exec(manage)?.[1];
  t.ok(ksLine, 'the README prints the command that makes the KS');
  const ks = await shell(ksLine!);
  t.equal(ks.code, 0, ks.code === 0 ? 'the KS is made' : ks.stderr);
  const master = await fetch(`${host}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/ks/${ks.stdout.trim()}/a.m3u8`);
  t.equal(master.status, 200, 'with that KS the entry plays');
  t.match(await master.text(), /#EXT-X-MEDIA:TYPE=SUBTITLES[^\n]*NAME="English"[^\n]*LANGUAGE="en"/, 'the English SUBTITLES track');

  // "the entry's thumbnailUrl (its version moved on) shows the new poster": the frame at 5 s
  // (at its stored size: the thumbnailUrl alone answers Kaltura's 120 x 90)
  const poster = await fetch(`${after.thumbnailUrl}/width/0/height/0`);
  t.equal(poster.status, 200);
  const meta = await sharp(Buffer.from(await poster.arrayBuffer())).metadata();
  t.equal(`${meta.width}x${meta.height}`, '1280x720', 'the video\'s frame (the library\'s picture is 640x360)');
  t.equal(await server.stop(), 0);
});

t.test('The legacy API v2: the curl lines as printed, each answering what its comment says', async (t) => {
  const server = await cmd.serve(env);
  const host = server.url;
  const lines = block(v2, 'sh').split('\n').filter((l) => l.trim() !== '');
  t.match(lines[0], /^P=http:\/\/127\.0\.0\.1:8080\/index\.php\/partnerservices2$/);
  t.match(lines[1], /^KS=\$\(curl /);
  copyFileSync(join(projectRoot, 'fixtures', 'media', 'h264-240p.mp4'), join(work, 'movie.mp4')); // the README's movie.mp4
  // the lines in one shell (they share P and KS), a marker between their outputs
  const script = ['set -e', ...lines.map((l) => `${l.replaceAll(README_HOST, host)}\necho; echo '@@ next line'`)].join('\n');
  const ran = await shell(script);
  t.equal(ran.code, 0, ran.code === 0 ? 'the lines ran' : ran.stderr);
  const out = ran.stdout.split('\n@@ next line\n');
  t.equal(out.length, lines.length + 1, 'every line ran');
  const [, , getentry, listentries, getuiconf, upload, addentry, updateentry] = out;
  const X = (s: string) => xml.parse(s).xml;

  t.match(getentry, /^<\?xml version="1\.0" encoding="ISO-8859-1"\?><xml><result><entry><id>1_rcit0qgs<\/id>/, 'getentry: as its comment says');
  const listed = JSON.parse(listentries).result;
  t.equal(listed.page_size, 5);
  t.ok(listed.entries.length > 0 && listed.entries.every((e: { status: number }) => e.status === 2), 'listentries: READY entries');
  const created = listed.entries.map((e: { createdAtAsInt: number }) => e.createdAtAsInt);
  t.same(created, [...created].sort((a, b) => a - b), 'oldest first');
  const conf = xml.parse(X(getuiconf).result.ui_conf.confFile);
  t.ok(conf.kcw.limits !== undefined && conf.kcw.fileFilters !== undefined, 'getuiconf: the uploader\'s limits and file filters');
  const ok = X(upload).result.result_ok;
  t.match(ok, { filename: 'my-upload-1', origFilename: 'movie.mp4' }, 'upload: result_ok, token, filename');
  t.ok(ok.token);
  const entry = X(addentry).result.entries?.entry1_;
  t.match(entry, { name: 'My movie', mediaType: '1' }, 'addentry: the new entry');
  t.same(JSON.parse(updateentry).result.entry.name, 'New name', 'updateentry: renamed');

  // "transcoded in the background": READY through the ingest queue, then it plays
  const api = `${host}/api_v3`;
  const adminKs = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).text()) as string;
  let status = -99;
  for (const end = Date.now() + 120_000; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) {
    status = JSON.parse(await (await fetch(`${api}/service/baseEntry/action/get?format=1&ks=${adminKs}&entryId=${entry.id}`)).text()).status;
    if (status !== 0 && status !== 1 && status !== 4) break;
  }
  t.equal(status, 2, 'the added entry became READY');
  const hls = await fetch(`${host}/p/309/sp/0/playManifest/entryId/${entry.id}/format/applehttp/protocol/http/a.m3u8`);
  t.equal(hls.status, 200);
  t.match(await hls.text(), /#EXT-X-STREAM-INF/, 'and plays');
  t.equal(await server.stop(), 0);
});
