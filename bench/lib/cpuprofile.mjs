// Reads a V8 .cpuprofile (node --cpu-prof) and says where the samples went: by function (self
// time), and by area (the project's own files by folder, Fastify, Node's internals, GC, native).
// A V8 profile samples the JavaScript thread only: kernel time spent in a syscall shows up as the
// native function that made it (writev, read) or as "(program)"/"(idle)", so the benchmarks print
// it next to the process's user/system split from /proc.
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startKdeliver } from './kdeliver.mjs';
import { workDir } from './paths.mjs';

function area(url, fn) {
  if (!url) {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)') return 'idle (waiting for I/O)';
    if (fn === '(program)') return '(program: V8/native outside JS)';
    return `native: ${fn || 'anonymous'}`;
  }
  const m = /\/(dist\/(?:src|routes)\/[^/]+)\//.exec(url) ?? /\/(dist\/routes)\//.exec(url);
  if (m) return m[1].replace('dist/', '');
  if (url.includes('/node_modules/')) return `node_modules/${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

export function summarizeProfile(file, top = 15) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const { functionName: fn, url, lineNumber } = byId.get(id).callFrame;
    const where = url ? `${url.replace(/^file:\/\/.*?\/dist\//, '').replace(/^file:\/\/.*?\/node_modules\//, '')}:${lineNumber + 1}` : '';
    const key = `${fn || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(url, fn);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us) => (100 * us) / total;
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ name: k, pct: pct(us) }));
  return { seconds: total / 1e6, functions: sorted(fns).slice(0, top), areas: sorted(areas).slice(0, top) };
}

/**
 * One more kdeliver under `node --cpu-prof` (its profile in bench/.work/profiles/<time>/<name>/;
 * it includes the server's start and warm-up, a few per cent), `run(kd)` against it, then the
 * summary: { name, file, run: what run answered, seconds, functions, areas }, or { name, missing }.
 */
export async function profileKdeliver(name, startOptions, run) {
  profileKdeliver.dir ??= join(workDir, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  const sub = join(profileKdeliver.dir, name.replace(/[^A-Za-z0-9._-]+/g, '-'));
  mkdirSync(sub, { recursive: true });
  const kd = await startKdeliver({ build: false, ...startOptions, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${sub}`] });
  let r;
  try {
    r = await run(kd);
  } finally {
    await kd.stop();
  }
  const file = readdirSync(sub).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return { name, missing: `no .cpuprofile written in ${sub}` };
  return { name, file: join(sub, file), run: r, ...summarizeProfile(join(sub, file)) };
}

/** The summary's areas and functions, on two lines after a heading. */
export function printProfile(p, heading) {
  if (p.missing) {
    console.log(`\nProfile ${p.name}: ${p.missing}`);
    return;
  }
  console.log(`\n${heading} (${p.file}):`);
  console.log('  by area:     ' + p.areas.slice(0, 10).map((a) => `${a.name} ${a.pct.toFixed(1)}%`).join(', '));
  console.log('  by function: ' + p.functions.slice(0, 12).map((a) => `${a.name} ${a.pct.toFixed(1)}%`).join(', '));
}
