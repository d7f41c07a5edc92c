// The Docker image carries the console's browser players file by file (docker/Dockerfile copies
// each from the build stage, as they are development packages): every file routes/console.ts
// serves must be among them, or the image's console answers 404 for that player (the Smooth
// Streaming bundle was missing once). scripts/docker-check.sh fetches each from the built image.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { VENDOR_FILES } from '../../routes/console.js';
import { repoPath } from '../helpers/repo.js';

const dockerfile = readFileSync(repoPath('docker/Dockerfile'), 'utf8');
const copied = dockerfile.split('\n').filter((l) => /^COPY --from=build \/app\/node_modules\//.test(l))
  .flatMap((l) => l.split(/\s+/).filter((w) => w.startsWith('/app/node_modules/')).map((w) => w.slice('/app/node_modules/'.length)));

t.test('every player file the console serves is copied into the image', async (t) => {
  t.ok(Object.keys(VENDOR_FILES).length >= 4, 'the console serves its players');
  for (const [name, path] of Object.entries(VENDOR_FILES)) t.ok(copied.includes(path), `${name}: ${path} is copied`);
});
