// Starts kdeliver (compiled into bench/.work/dist) as a child process with the benchmark library.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProject } from './build.mjs';
import { benchLibraryFile } from './media.mjs';
import { freePort, startProcess } from './procs.mjs';
import { benchDir } from './paths.mjs';

export async function startKdeliver({ build = true, env = {} } = {}) {
  const library = benchLibraryFile();
  if (build) buildProject();
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-bench-data-'));
  const port = await freePort();
  let proc;
  try {
    proc = await startProcess('kdeliver', process.execPath, [join(benchDir, 'lib', 'kdeliver-server.mjs'), dataDir, String(port), library], {
      ready: /listening on http:\/\//, env,
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...proc,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
