// `kdeliver copy-catalog`: moving a library's catalog from the data directory's SQLite file into
// the PostgreSQL catalog named by KDELIVER_DATABASE_URL: every row of every table (partners with
// their secrets, entries, flavors, profiles, jobs, KS revocations...), in one transaction
// (src/catalog/pg/copy.ts). Media are not touched: a catalog path is the same key under every
// media backend, so they move with any copy tool (README, "Moving a library").
import { existsSync } from 'node:fs';
import { configuredDataDir, loadConfig } from '../config.js';
import { catalogFile } from '../data-dir.js';
import { copyCatalogFile } from '../catalog/pg/copy.js';
import { withoutCredentials } from '../log.js';
import { commandLine } from './usage.js';

const USAGE = 'usage: KDELIVER_DATA_DIR=<dir> KDELIVER_DATABASE_URL=postgres://... kdeliver copy-catalog\n' +
  '  copies {data dir}/catalog.sqlite into the PostgreSQL catalog (rows with the same key are replaced)\n';

export async function main(args: string[]): Promise<number> {
  const cli = commandLine('copy-catalog', USAGE);
  const parsed = cli.parse(args, {});
  if (typeof parsed === 'number') return parsed;
  // looked for before the configuration is read: reading it makes a data directory's secrets, and
  // a wrong KDELIVER_DATA_DIR would be left holding new ones
  const dbFile = catalogFile(configuredDataDir());
  if (!existsSync(dbFile)) {
    process.stderr.write(`kdeliver copy-catalog: no SQLite catalog at ${dbFile} (set KDELIVER_DATA_DIR to the library's data directory)\n`);
    return 2;
  }
  // the sample library is never seeded by this command: it copies what is there
  const config = loadConfig({ ...process.env, KDELIVER_SAMPLE_LIBRARY: 'false' });
  if (!config.databaseUrl) return cli.error('KDELIVER_DATABASE_URL is not set: it names the PostgreSQL catalog to copy into');
  const counts = await copyCatalogFile(config.dbFile, config.databaseUrl);
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  const listed = Object.entries(counts).filter(([, n]) => n > 0).map(([table, n]) => `${table} ${n}`).join(', ');
  process.stdout.write(`copied ${rows} rows from ${config.dbFile} to ${withoutCredentials(config.databaseUrl)}: ${listed}\n`);
  return 0;
}
