// The benchmarks' command lines (node:util parseArgs). A mistake in one (an unknown flag, a flag
// without its value, an argument the script does not take, a count that is not one) is told in
// one line naming it, then the script's usage, exit status 2: before anything is built, started
// or measured, and never as a stack trace.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

/** The script as a person runs it: `bench/api.mjs`. */
const script = () => `bench/${basename(process.argv[1] ?? 'bench')}`;

/** `usage: node bench/x.mjs [--flag default]…`, from the options themselves. */
export function usageOf(options) {
  const parts = Object.entries(options).map(([k, o]) => (o.type === 'boolean' ? `[--${k}]` : `[--${k} ${o.default || 'VALUE'}]`));
  return `usage: node ${script()} ${parts.join(' ')}`;
}

/** Says what is wrong and the usage on stderr, and exits 2. */
export function usageError(problem, usage) {
  process.stderr.write(`${script()}: ${problem}\n${usage}\n`);
  process.exit(2);
}

/** parseArgs(config), with its errors told as usage errors (usage: the script's, else made from the options). */
export function benchArgs(config, usage = usageOf(config.options ?? {})) {
  // --help or -h anywhere: the usage on stdout, exit 0, nothing started (as kdeliver's commands)
  if ((config.args ?? process.argv.slice(2)).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (e) {
    if (!String(e?.code).startsWith('ERR_PARSE_ARGS_')) throw e;
    // one line: node's advice on arguments that start with '-' is not for here
    return usageError(e.message.split('\n')[0].replace(/\. To specify a positional argument.*$/, ''), usage);
  }
}

/** The value of a --flag that counts something: a whole number from `min`, else a usage error. */
export function wholeNumber(flag, value, usage, min = 1) {
  if (!/^\d+$/.test(String(value)) || Number(value) < min) usageError(`--${flag} ${JSON.stringify(value)}: expected a whole number from ${min}`, usage);
  return Number(value);
}

/** The value of a --flag that is a length of time or the like: a number above 0, else a usage error. */
export function positiveNumber(flag, value, usage) {
  const n = Number(value);
  if (String(value).trim() === '' || !Number.isFinite(n) || n <= 0) usageError(`--${flag} ${JSON.stringify(value)}: expected a number above 0`, usage);
  return n;
}
