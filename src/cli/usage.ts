// The one convention of every `kdeliver` command for its usage and its argument errors, so that
// each command answers a person the same way:
// - `--help` or `-h` anywhere: the command's usage on stdout, exit 0, nothing else done;
// - an unknown option, a missing or extra argument, a bad value: one line on stderr,
//   `kdeliver <command>: <the problem>`, then the usage, exit 2, before anything is opened or written.
import { parseArgs } from 'node:util';

export interface Streams {
  out: (s: string) => void;
  err: (s: string) => void;
}

const processStreams: Streams = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

export type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** What a command takes besides its options: the names of its arguments, as its usage writes them. */
export interface Arguments {
  required?: string[];
  optional?: string[];
}

export const USAGE_ERROR = 2;

/** The largest partner id (Kaltura's partner ids are signed 32-bit integers). */
export const MAX_PARTNER_ID = 2 ** 31 - 1;

/** --help or -h among the arguments (before a `--`, after which everything is an argument). */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export interface CommandLine {
  /** The usage on stdout: exit 0. */
  help(): number;
  /** `kdeliver <command>: <problem>` and the usage on stderr: exit 2. */
  error(problem: string): number;
  /**
   * The options and arguments, or the exit status when there is nothing more to do (help was
   * asked for, or the command line is wrong and was answered).
   */
  parse(args: string[], options: OptionSpec, takes?: Arguments): Parsed | number;
}

export function commandLine(command: string, usage: string, io: Streams = processStreams): CommandLine {
  const text = usage.endsWith('\n') ? usage : `${usage}\n`;
  const help = () => {
    io.out(text);
    return 0;
  };
  const error = (problem: string) => {
    io.err(`kdeliver ${command}: ${problem}\n${text}`);
    return USAGE_ERROR;
  };
  const parse = (args: string[], options: OptionSpec, takes: Arguments = {}): Parsed | number => {
    if (asksForHelp(args)) return help();
    let parsed: Parsed;
    try {
      parsed = parseArgs({ args: withNegativeValues(args, options), options, strict: true, allowPositionals: true }) as Parsed;
    } catch (e) {
      return error(parseProblem(e as Error & { code?: string }));
    }
    const required = takes.required ?? [];
    const most = required.length + (takes.optional?.length ?? 0);
    if (parsed.positionals.length < required.length) return error(`missing ${required[parsed.positionals.length]}`);
    if (parsed.positionals.length > most) {
      const extra = parsed.positionals[most];
      return error(`unexpected argument ${JSON.stringify(extra)}${most === 0 ? ' (it takes none besides its options)' : ''}`);
    }
    return parsed;
  };
  return { help, error, parse };
}

/**
 * `--jobs -1` or `--partner -5`: node's parseArgs takes a value starting with "-" for an option and
 * refuses it as ambiguous; a person meant the number, whose own check then says what is expected.
 */
function withNegativeValues(args: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (a === '--') return [...out, ...args.slice(i)];
    if (a.startsWith('--') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** node's parseArgs messages, made one line that names the option. */
function parseProblem(e: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) return `unknown option ${quoted}`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted) {
    const flag = quoted.split(' ')[0];
    if (/argument missing|ambiguous/.test(e.message)) return `${flag} needs a value`;
    if (/does not take an argument/.test(e.message)) return `${flag} takes no value`;
  }
  return e.message.split('\n')[0];
}

/** A partner id given as `flag value`: the number, or the problem to report. */
export function partnerIdArg(flag: string, value: string): number | { problem: string } {
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= 1 && n <= MAX_PARTNER_ID) return n;
  return { problem: `${flag} ${value}: expected a partner id, a whole number from 1 to ${MAX_PARTNER_ID}` };
}

/** A whole number from min to max given as `flag value`: the number, or the problem to report. */
export function wholeNumberArg(flag: string, value: string, min: number, max: number, meaning: string): number | { problem: string } {
  const n = Number(value);
  if (/^-?\d+$/.test(value) && n >= min && n <= max) return n;
  return { problem: `${flag} ${value}: expected ${meaning}` };
}

/** The first line of `input`, trimmed (`--admin-secret -`, `--secret -`: a secret kept out of the process list). */
export async function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0].trim();
}

/**
 * The command as the person who ran this one types it, for a "next, run …" hint: started by npm
 * (`npx kdeliver`, `npm start` in a checkout; npm sets npm_command) the command is not on their
 * PATH, so the hint says `npx kdeliver`; otherwise (a global install, npm link, the Docker image)
 * `kdeliver`.
 */
export const typedCommand = (env: NodeJS.ProcessEnv = process.env): string => (env.npm_command ? 'npx kdeliver' : 'kdeliver');
