// The URLs the commands print for a person to open are URLs: with HOST an IPv6 address (`::`, every
// interface, as a dual-stack machine is often told to listen), `kdeliver ingest` printed
// http://:::8080/p/..., which no player, browser or curl can open; HOST=[::1] (with the brackets
// config.ts accepts) made serve's line say http://[[::1]]:8080.
import t from 'tap';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';
import { requireCommands } from '../helpers/system.js';
import { projectRoot } from '../helpers/media-tools.js';
import { listenUrl } from '../../src/config.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-printed-urls-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

t.test('listenUrl writes an IPv6 address in brackets, once', async (t) => {
  t.equal(listenUrl('::', 8080), 'http://[::]:8080');
  t.equal(listenUrl('[::1]', 9000), 'http://[::1]:9000');
  t.equal(listenUrl('0.0.0.0', 8080), 'http://0.0.0.0:8080');
  t.equal(listenUrl('media.example.com', 80), 'http://media.example.com:80');
});

t.test('kdeliver ingest with HOST=:: prints URLs that parse, with the address in brackets', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const dataDir = join(work, 'data');
  const env = { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const added = await cmd.kdeliver(['partner', 'add', '--name', 'v6'], env);
  t.equal(added.code, 0, added.stderr);
  const movie = join(work, 'movie.mp4');
  copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), movie);
  const r = await cmd.kdeliver(['ingest', movie, '--partner', '100'], { ...env, HOST: '::', PORT: '8080' });
  t.equal(r.code, 0, r.stderr);
  const urls = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('http'));
  t.equal(urls.length, 3, r.stdout);
  for (const u of urls) {
    t.match(u, /^http:\/\/\[::\]:8080\/p\/100\/sp\/10000\//, u);
    t.equal(new URL(u).port, '8080', `${u} parses, port 8080`);
  }
});
