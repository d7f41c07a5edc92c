// Loaded into every test process by tap (package.json's `tap.node-arg`), after tap's own
// @tapjs/processinfo. processinfo hooks every module a process loads (for coverage and
// `tap --changed`), and puts the same hooks into every node process a test starts: it patches
// child_process (the process-on-spawn package) to add its `--import` to each child's NODE_OPTIONS,
// and the test process's own NODE_OPTIONS carries it to children spawned with process.env.
// Coverage is off here (package.json's `tap.disable-coverage`) and `--changed` is not used, and a
// child with the hooks spends much longer starting: `kdeliver --help` 0.8 s of CPU against 0.3, a
// server's modules 1.9 s against 0.8. The suite starts several hundred such children (the
// `kdeliver` commands and servers the tests run), so they start without them.
// test/architecture/test-runner.test.ts fails if a child still gets them.
const SPAWN_HOOKS = Symbol.for('process-on-spawn@*:singletonId');

const spawnHooks = (globalThis as Record<symbol, { listeners?: unknown[] } | undefined>)[SPAWN_HOOKS];
if (Array.isArray(spawnHooks?.listeners)) spawnHooks.listeners.length = 0;

if (process.env.NODE_OPTIONS) {
  // options are separated by spaces; one holding a space is in double quotes (a checkout's path)
  const options = process.env.NODE_OPTIONS.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  process.env.NODE_OPTIONS = options.filter((o) => !o.includes('@tapjs/processinfo')).join(' ');
  if (!process.env.NODE_OPTIONS) delete process.env.NODE_OPTIONS;
}

export {};
