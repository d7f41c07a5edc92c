// The Kaltura web player's test page (test/e2e/player-page/kaltura-player.html with the UMD bundle
// of npm @playkit-js/kaltura-player-js) served from an origin of its own, so that the player's
// api_v3 calls and media requests to the server under test are real cross-origin requests.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './repo.js';

interface Tap {
  teardown(fn: () => unknown): void;
}

const PAGE = join(projectRoot, 'test', 'e2e', 'player-page', 'kaltura-player.html');
const BUNDLE = join(projectRoot, 'node_modules', '@playkit-js', 'kaltura-player-js', 'dist', 'kaltura-ovp-player.js');

/** Starts the page server; resolves to the page's URL (its query: serviceUrl, cdnUrl, partnerId, entryId, ks). Closed at teardown. */
export async function servePlayerPage(t: Tap): Promise<string> {
  let bundle: Buffer;
  try {
    bundle = readFileSync(BUNDLE);
  } catch {
    throw new Error(`the player bundle is missing at ${BUNDLE}: run \`npm ci\` (devDependency @playkit-js/kaltura-player-js@3.17.78)`);
  }
  const page = readFileSync(PAGE);
  const pageServer = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/player.html') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(page); return; }
    if (path === '/kaltura-ovp-player.js') { res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }); res.end(bundle); return; }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => pageServer.close(() => resolve())));
  return `http://127.0.0.1:${(pageServer.address() as { port: number }).port}/player.html`;
}
