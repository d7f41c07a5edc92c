// What the load benchmarks share: their command-line options and the median they report.
import { parseArgs } from 'node:util';

/**
 * --connections, --duration, --rounds and --no-build, with this benchmark's defaults; --pipelining
 * only where the benchmark has a default for it (its load generator can pipeline).
 */
export function loadOptions({ connections, duration = 10, rounds = 3, pipelining }) {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: String(connections) },
      ...(pipelining === undefined ? {} : { pipelining: { type: 'string', default: String(pipelining) } }),
      duration: { type: 'string', default: String(duration) },
      rounds: { type: 'string', default: String(rounds) },
      'no-build': { type: 'boolean', default: false },
    },
  });
  return {
    connections: Number(values.connections),
    pipelining: Number(values.pipelining ?? 1),
    duration: Number(values.duration),
    rounds: Number(values.rounds),
    build: !values['no-build'],
  };
}

/** The middle value (the lower of the two middle ones for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
