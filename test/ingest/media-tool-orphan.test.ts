// A media tool (ffmpeg, ffprobe) never outlives the kdeliver process that started it: a node
// killed with SIGKILL mid-transcode must not leave its ffmpeg running beside the attempt that
// takes its job over (test/multinode/ingest-takeover.test.ts shows it across two servers).
// Here: a real child process starts a long-running tool through runMediaTool and is killed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runnableArgs, runnableModule } from '../helpers/repo.js';

// a duration no other process on the machine sleeps for: how the tool is found in /proc
const MARK = `${600 + (process.pid % 1000) / 1000}`;
const toolPids = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try {
    return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${MARK}\0`;
  } catch {
    return false;
  }
}).map(Number);

t.test('the tool dies with the process that started it', async (t) => {
  // kdeliver's targets (Debian, its Docker image) are Linux; parent-death signals and /proc are too
  if (process.platform !== 'linux' || !existsSync('/usr/bin/setpriv')) {
    t.fail(`needs Linux with util-linux's /usr/bin/setpriv (as root: apt-get install -y util-linux); this is ${process.platform}`);
    return;
  }
  const module = runnableModule('src/ffmpeg/media-tool.ts');
  const script = `import(${JSON.stringify(module)}).then((m) => { m.runMediaTool('sleep', [${JSON.stringify(MARK)}]); })`;
  const child = spawn(process.execPath, [...runnableArgs, '--input-type=module', '-e', script], { stdio: 'ignore' });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const p of toolPids()) process.kill(p, 'SIGKILL');
  });
  let pids: number[] = [];
  for (const end = Date.now() + 30_000; pids.length === 0 && Date.now() < end; await sleep(50)) pids = toolPids();
  t.equal(pids.length, 1, 'the tool runs');
  child.kill('SIGKILL');
  for (const end = Date.now() + 5000; pids.some((p) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ')) && Date.now() < end;) await sleep(50);
  t.same(toolPids(), [], 'the tool is gone once its parent was killed');
});
