// The README's "How a playManifest request flows" is true: scripts/request-walk.mjs records every
// project function that runs for an anonymous applehttp playManifest (the built server, dist/,
// which `npm test` builds first), and the walk it derives from those calls is the README's list:
// at most eight files, in the README's order, each entered once, through stages named as the
// decision trace names them.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../helpers/repo.js';
import { cleanEnv } from '../helpers/command.js';
import { STAGES } from '../../src/types/playback.js';

interface Call { fn: string; file: string; caller: { fn: string; file: string } | null; depth: number }
interface Walk { status: number; calls: Call[]; walk: string[]; steps: string[]; reentered: string[]; readme: string[]; problems: string[] }

const run = promisify(execFile);
const { stdout } = await run(process.execPath, [join(projectRoot, 'scripts/request-walk.mjs'), '--json'], { cwd: projectRoot, env: cleanEnv, maxBuffer: 64 << 20 })
  .catch((e: { stdout?: string; stderr?: string }) => {
    // exit 1 still prints the JSON with its problems; anything else is a failure to run
    if (!e.stdout) throw new Error(`scripts/request-walk.mjs did not run: ${e.stderr}`);
    return { stdout: e.stdout };
  });
const w = JSON.parse(stdout) as Walk;

/** The numbered files of the README's section, read here independently of the script. */
function readmeList(): string[] {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const at = readme.indexOf('## How a playManifest request flows');
  t.ok(at >= 0, 'the README has the section');
  const section = readme.slice(at, readme.indexOf('\n## ', at + 3));
  return [...section.matchAll(/^\d+\. `([^`]+)`/gm)].map((m) => m[1]);
}

t.test('the request is answered and the calls are recorded', async (t) => {
  t.equal(w.status, 200);
  t.ok(w.calls.length > 20, `${w.calls.length} calls recorded`);
  t.same(w.calls[0] && { file: w.calls[0].file, caller: w.calls[0].caller }, { file: 'routes/play-manifest.ts', caller: null }, 'the first call is the route handler, called by Fastify');
});

t.test('the walk is the README list: at most 8 files, in order, each entered once', async (t) => {
  const listed = readmeList();
  t.ok(listed.length > 0 && listed.length <= 8, `the README names ${listed.length} files`);
  t.same(w.walk, listed);
  t.same(w.reentered, [], 'no file is entered twice');
  t.same(w.problems, [], 'the script finds nothing wrong');
  for (const f of listed) t.ok(w.calls.some((c) => c.file === f), `${f}: a function of it ran`);
});

t.test('the route makes one call, the cache wraps it, the pipeline runs parse → stages → render', async (t) => {
  const at = (re: RegExp) => w.steps.findIndex((s) => re.test(s));
  const order = [
    /handle → src\/cache\/manifest-cache\.ts cachedAnswer$/,
    /cachedAnswer → src\/playback\.ts answerPlayManifest$/,
    /answerPlayManifest → src\/request\/play-request\.ts readPlayRequest$/,
    /entryStage → src\/access\/entry-check\.ts initEntry$/,
    /accessStage → src\/access\/entry-check\.ts checkEntryAccess$/,
    /selectionStage → src\/selection\/flavors\.ts selectFlavors$/,
    /deliveryStage → src\/delivery\/index\.ts chooseProfile$/,
    /deliveryStage → src\/delivery\/index\.ts mediaUrls$/,
    /tokenizerStage → src\/delivery\/index\.ts signUrls$/,
    /answerPlayManifest → src\/render\/index\.ts renderPlayback$/,
  ].map(at);
  t.notOk(order.includes(-1), `every step is there: ${JSON.stringify(order)}`);
  t.same(order, [...order].sort((a, b) => a - b), 'in this order');
  t.equal(w.steps.filter((s) => /^routes\/play-manifest\.ts handle → src\//.test(s)).length, 1, 'the handler makes one call into src/');
  t.notOk(w.steps.some((s) => /^src\/cache\/.* → src\/(request|access|selection|delivery|render)\//.test(s)), 'the cache is not interleaved with the stages');
});

t.test('the pipeline stages are named as the decision trace names its stages', async (t) => {
  const stageFns = new Set(w.calls.filter((c) => c.file === 'src/playback.ts' && /Stage$/.test(c.fn)).map((c) => c.fn));
  t.ok(stageFns.size >= 5, [...stageFns].join(', '));
  for (const fn of stageFns) t.ok((STAGES as readonly string[]).includes(fn.replace(/Stage$/, '')), `${fn} is a trace stage`);
});
