// What the load benchmarks share: their command-line options and the median they report.
import { benchArgs, usageOf, wholeNumber } from './args.mjs';

/**
 * --connections, --duration, --rounds and --no-build, with this benchmark's defaults; --pipelining
 * only where the benchmark has a default for it (its load generator can pipeline); --with-nvm
 * (build nginx-vod-module when it is missing) is accepted by every benchmark, so `npm run bench
 * -- --with-nvm` can pass it to all. `extra` adds a benchmark's own options (parseArgs form);
 * their values come back under `extra`.
 */
export function loadOptions({ connections, duration = 10, rounds = 3, pipelining }, extra = {}) {
  const options = {
    connections: { type: 'string', default: String(connections) },
    ...(pipelining === undefined ? {} : { pipelining: { type: 'string', default: String(pipelining) } }),
    duration: { type: 'string', default: String(duration) },
    rounds: { type: 'string', default: String(rounds) },
    'no-build': { type: 'boolean', default: false },
    'with-nvm': { type: 'boolean', default: false },
    ...extra,
  };
  // a mistake is one line and the usage, exit 2 (./args.mjs)
  const usage = usageOf(options);
  const { values } = benchArgs({ options }, usage);
  return {
    connections: wholeNumber('connections', values.connections, usage),
    pipelining: values.pipelining === undefined ? 1 : wholeNumber('pipelining', values.pipelining, usage),
    duration: wholeNumber('duration', values.duration, usage),
    rounds: wholeNumber('rounds', values.rounds, usage),
    build: !values['no-build'],
    withNvm: values['with-nvm'] || process.env.KDELIVER_BENCH_NVM === '1',
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, values[k]])),
  };
}

/** The middle value (the lower of the two middle ones for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** The p-th percentile (0-100) of a list of numbers, nearest rank. */
export function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
