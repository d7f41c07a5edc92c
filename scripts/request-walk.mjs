#!/usr/bin/env node
// Which functions run, in order, for one anonymous applehttp playManifest request, and which files
// they live in: the evidence behind the README's "How a playManifest request flows".
//
//   npm run build && node scripts/request-walk.mjs          # the calls, indented by nesting, then the walk
//   node scripts/request-walk.mjs --json                    # the same as JSON (test/ops/request-walk.test.ts)
//
// It loads the built server with module hooks (scripts/request-walk-hooks.mjs) that make every
// named function of dist/src and dist/routes report its call, seeds a fresh data directory with
// the sample library, and answers one request in process (Fastify's inject) on an empty answer
// cache, so the whole pipeline runs. Each call is recorded with its caller, read from the stack.
//
// The walk is what a newcomer opens to follow the request: the route's file, then the files of
// the functions called by the route's handler, by the answer cache's wrapper and by the
// pipeline's own functions (src/playback.ts: answerPlayManifest, resolve and its stages), in the
// order they are first called. routes/http.ts is left out of the count and named apart: it is
// the glue every route family shares (the request's environment in, the rendered answer out).
// Calls deeper down (a stage's helpers, such as the path grammar, the rule evaluator or the m3u8
// writer) are listed in the full trace but are not part of the walk. The script exits 1 when the
// walk is not the README's list, in the README's order, or when a walk file is entered twice.
import { register } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DIST = join(ROOT, 'dist');
export const URL_PATH = '/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8';
const ROUTE_FILE = 'routes/play-manifest.ts';
const SHARED_GLUE = new Set(['routes/http.ts']);
/** Functions whose calls make the walk, besides the route's handler (the first call recorded in its file). */
const PIPELINE_FILE = 'src/playback.ts';
const CACHE_WRAPPER = { file: 'src/cache/manifest-cache.ts', fn: 'cachedAnswer' };

register('./request-walk-hooks.mjs', import.meta.url);
// stack frames name the built files (a parent's --enable-source-maps would name the .ts ones; both are read)
process.setSourceMapsEnabled?.(false);

/** dist/src/x.js → src/x.ts; a source-mapped frame already names src/x.ts */
const sourceOf = (file) => (file.startsWith(DIST + '/') ? relative(DIST, file).replace(/\.js$/, '.ts') : relative(ROOT, file));
const FRAME = /^\s*at (?:async )?(?:(.+?) \()?(?:file:\/\/)?([^():]+\.[jt]s):\d+:\d+\)?$/;
const PROJECT = [join(DIST, 'src/'), join(DIST, 'routes/'), join(ROOT, 'src/'), join(ROOT, 'routes/')];

function projectFrames(stack) {
  const out = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (!m || !PROJECT.some((dir) => m[2].startsWith(dir))) continue;
    const name = (m[1] ?? '<anonymous>').replace(/^.*\./, '');
    out.push({ fn: name, file: sourceOf(m[2]) });
  }
  return out;
}

export async function walkRequest() {
  const calls = [];
  let recording = false;
  Error.stackTraceLimit = 200;
  globalThis.__kdWalk = (fn) => {
    if (!recording) return;
    // the reporting function, then its callers (this function is not in dist/)
    const frames = projectFrames(new Error().stack);
    const [self, ...callers] = frames;
    if (!self) return;
    calls.push({ fn, file: self.file, caller: callers[0] ?? null, depth: callers.length });
  };

  const { loadConfig } = await import(join(DIST, 'src/config.js'));
  const { buildServer } = await import(join(DIST, 'src/server.js'));
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-walk-'));
  const app = await buildServer({ config: loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' }) });
  let status;
  try {
    await app.ready();
    recording = true;
    const r = await app.inject({ method: 'GET', url: URL_PATH });
    recording = false;
    status = r.statusCode;
  } finally {
    recording = false;
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { status, calls, ...walkOf(calls) };
}

/** The walk (see the header) from the recorded calls. */
export function walkOf(calls) {
  const root = calls.find((c) => c.file === ROUTE_FILE && c.caller === null);
  const isSpine = (f) => f && ((root && f.file === root.file && f.fn === root.fn)
    || (f.file === CACHE_WRAPPER.file && f.fn === CACHE_WRAPPER.fn) || f.file === PIPELINE_FILE);
  const entered = [ROUTE_FILE];
  const steps = [];
  for (const c of calls) {
    if (!isSpine(c.caller) || c.file === c.caller.file) continue;
    steps.push(`${c.caller.file} ${c.caller.fn} → ${c.file} ${c.fn}`);
    if (SHARED_GLUE.has(c.file)) continue;
    if (entered[entered.length - 1] !== c.file) entered.push(c.file);
  }
  const walk = [...new Set(entered)];
  const reentered = entered.filter((f, i) => entered.indexOf(f) !== i);
  return { walk, steps, reentered, glue: [...SHARED_GLUE] };
}

/** The numbered files of the README's "How a playManifest request flows". */
export function readmeWalk(readme = readFileSync(join(ROOT, 'README.md'), 'utf8')) {
  const at = readme.indexOf('## How a playManifest request flows');
  const section = readme.slice(at, readme.indexOf('\n## ', at + 3));
  return [...section.matchAll(/^\d+\. `([^`]+)`/gm)].map((m) => m[1]);
}

/** What is wrong with a walk against the README's list (empty: nothing). */
export function problemsOf(result, readme) {
  const problems = [];
  if (result.status !== 200) problems.push(`the request answered ${result.status}, not 200`);
  if (result.walk.length > 8) problems.push(`the walk has ${result.walk.length} files (at most 8)`);
  if (JSON.stringify(result.walk) !== JSON.stringify(readme)) problems.push(`the walk ${result.walk.join(', ')} is not the README's list ${readme.join(', ')}`);
  if (result.reentered.length) problems.push(`files entered twice: ${result.reentered.join(', ')}`);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await walkRequest();
  const readme = readmeWalk();
  const problems = problemsOf(result, readme);
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ ...result, readme, problems }, null, 1) + '\n');
  } else {
    console.log(`GET ${URL_PATH} → ${result.status}\n\nEvery project function that ran, in order (indented by nesting):`);
    // a run of the same call (the catalog freezing a record's fields) is one line with its count
    for (let i = 0; i < result.calls.length;) {
      const c = result.calls[i];
      let n = 1;
      while (i + n < result.calls.length && ['fn', 'file', 'depth'].every((k) => result.calls[i + n][k] === c[k])) n++;
      console.log(`${'  '.repeat(Math.min(c.depth, 30))}${c.file} ${c.fn}${n > 1 ? ` ×${n}` : ''}`);
      i += n;
    }
    console.log('\nThe walk: calls made by the route handler, the answer cache wrapper and src/playback.ts:');
    for (const s of result.steps) console.log(`  ${s}`);
    console.log(`\nFiles, in order (${result.glue.join(', ')} named apart as shared glue):`);
    result.walk.forEach((f, i) => console.log(`  ${i + 1}. ${f}`));
    for (const p of problems) console.log(`PROBLEM: ${p}`);
  }
  process.exitCode = problems.length ? 1 : 0;
}
