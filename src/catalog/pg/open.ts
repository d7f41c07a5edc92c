// Opening the PostgreSQL catalog as the server and the command-line tools do (src/catalog/open.ts
// chooses it when KDELIVER_DATABASE_URL is set): migrated under the advisory lock, listening for
// other nodes' changes, and seeded with the sample library when configured and the catalog is
// empty. Several nodes may start at once: one seeds, under a lock, and the others find it done.
import { openPgCatalog, type PgCatalog, type PgCatalogOptions } from './catalog.js';

/** The advisory lock of seeding ('kdls'). */
const SEED_LOCK = 0x6b646c73;

export async function openPostgresCatalog(
  url: string,
  seed: ((catalog: PgCatalog) => Promise<unknown>) | null,
  opts: PgCatalogOptions = {},
): Promise<PgCatalog> {
  const catalog = await openPgCatalog(url, opts);
  if (!seed) return catalog;
  try {
    const client = await catalog.db.connect({ waits: true });
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SEED_LOCK]);
      if (await catalog.isEmpty()) await seed(catalog);
    } finally {
      await client.end().catch(() => {});
    }
  } catch (e) {
    await catalog.close();
    throw e;
  }
  return catalog;
}
