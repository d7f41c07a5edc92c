// Starts kdeliver (the compiled dist/, as `npm start` runs it) as a child process. By default over
// a fresh temporary data directory holding the sample library plus the benchmark entries of
// lib/media.mjs; `dataDir` + `libraries: []` serve a data directory prepared beforehand.
// `nodeArgs` go to node itself (e.g. --cpu-prof); every KDELIVER_* of `env` reaches the config.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProject } from './build.mjs';
import { benchLibraryFile } from './media.mjs';
import { freePort, startProcess } from './procs.mjs';
import { benchDir, projectRoot } from './paths.mjs';

export const SAMPLE_LIBRARY = join(projectRoot, 'fixtures', 'sample-library.json');

export async function startKdeliver({ build = true, env = {}, dataDir, libraries, nodeArgs = [], name = 'kdeliver' } = {}) {
  const libs = libraries ?? [SAMPLE_LIBRARY, benchLibraryFile()];
  if (build) buildProject();
  const own = !dataDir;
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'kdeliver-bench-data-'));
  const port = await freePort();
  let proc;
  try {
    proc = await startProcess(name, process.execPath, [...nodeArgs, join(benchDir, 'lib', 'kdeliver-server.mjs'), dir, String(port), ...libs], {
      ready: /listening on http:\/\//, env, timeoutMs: 300_000,
    });
  } catch (err) {
    if (own) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...proc,
    url: `http://127.0.0.1:${port}`,
    dataDir: dir,
    stop: async () => {
      await proc.stop();
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
}
