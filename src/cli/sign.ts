// kdeliver sign <url> [--expiry <unix>]: prints the playManifest URL with a kt token (and the
// expiry it protects), signed with the server's URL-token secret (KDELIVER_URL_TOKEN_SECRET).
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { SignError, signPlayManifestUrl } from '../access/kt.js';
import type { CliIo } from './ks.js';

const USAGE = 'usage: kdeliver sign <playManifest URL or path> [--expiry <unix seconds>]\n';

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  let values: Record<string, string | boolean | undefined>, positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: { expiry: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true }));
  } catch (e) {
    err(`kdeliver sign: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) { out(USAGE); return 0; }
  if (positionals.length !== 1) { err(USAGE); return 2; }
  let expiry: number | undefined;
  if (values.expiry !== undefined) {
    expiry = Number(values.expiry);
    if (!/^\d+$/.test(String(values.expiry))) { err('kdeliver sign: --expiry must be Unix seconds\n'); return 2; }
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
