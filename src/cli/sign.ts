// kdeliver sign <url> [--expiry <unix>]: prints the playManifest URL with a kt token (and the
// expiry it protects), signed with the server's URL-token secret (KDELIVER_URL_TOKEN_SECRET).
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { SignError, signPlayManifestUrl } from '../access/kt.js';
import type { CliIo } from './ks.js';
import { commandLine, wholeNumberArg } from './usage.js';

const USAGE = 'usage: kdeliver sign <playManifest URL or path> [--expiry <unix seconds>]\n';

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  const cli = commandLine('sign', USAGE, { out, err });
  const parsed = cli.parse(argv, { expiry: { type: 'string' } }, { required: ['<playManifest URL or path>'] });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  let expiry: number | undefined;
  if (values.expiry !== undefined) {
    const given = wholeNumberArg('--expiry', String(values.expiry), 0, Number.MAX_SAFE_INTEGER, 'a time in Unix seconds');
    if (typeof given !== 'number') return cli.error(given.problem);
    expiry = given;
  }
  const config = loadConfig(io.env ?? process.env);
  // the sample secrets sign only for the sample library: the catalog gives the same verdict here
  // as to the server (SampleCatalogError otherwise, answered by ./main.ts)
  if (config.sampleSecrets) await (await openConfiguredCatalog(config)).close();
  try {
    out(`${signPlayManifestUrl(positionals[0], config.urlTokenSecret, expiry)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof SignError) { err(`kdeliver sign: ${e.message}\n`); return 2; }
    throw e;
  }
}
