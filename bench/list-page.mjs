// Issue 17, target 5: what a baseEntry.list page of 30 costs in-process, by part, on a generated
// catalog that bench/catalog.mjs imported (its bench/.work/big-data-<entries>-<partners>): the
// page's entries (ids from the index, then the rows), its flavors one statement per entry (as
// before) and one for the page, the API objects, the JSON; cold (the read cache dropped, only the
// count kept) and kept. Random pages 2-100 of {mediaTypeEqual: 1} of a random partner. Reads a
// copy of the catalog file if you like: it drops the read cache with a no-op exec, writes nothing.
// Usage: node bench/list-page.mjs <catalog.sqlite> [pages=150]   (after npm run build)
import { createCatalog } from '../dist/src/catalog/catalog.js';
import { openDatabase } from '../dist/src/catalog/db.js';
import { entryApiObject, entryApiObjects } from '../dist/src/api/lookup.js';
import { toJson } from '../dist/src/api/serializers/json.js';
import { catalogShape } from '../scripts/make-big-library.mjs';
import { existsSync } from 'node:fs';
import { printMachine } from './lib/machine.mjs';
import { benchArgs, usageError, wholeNumber } from './lib/args.mjs';
const usage = 'usage: node bench/list-page.mjs <catalog.sqlite> [pages=150]';
const { positionals } = benchArgs({ allowPositionals: true, options: {} }, usage);
const [file, pages = '150'] = positionals;
if (!file || positionals.length > 2) usageError(file ? `unexpected argument ${JSON.stringify(positionals[2])}` : 'the catalog file is missing', usage);
// openDatabase would make an empty catalog of a path that names none
if (!existsSync(file)) usageError(`${file}: no such file`, usage);
const n = wholeNumber("pages", pages, usage);
printMachine();
const cat = createCatalog(openDatabase(file));
const shape = catalogShape(10);
const ctx = { catalog: cat, baseUrl: 'http://127.0.0.1:8080', http: { isHttps: false } };
const S = {}; const add = (k, v) => (S[k] ??= []).push(v);
const us = (t0) => Number(process.hrtime.bigint() - t0) / 1e3;
const forget = async () => cat.db.exec('SELECT 1'); // any exec drops the read cache
for (let i = 0; i < Number(n); i++) {
  const pid = shape.partnerIds[Math.floor(Math.random() * 10)];
  const f = { partnerId: pid, mediaTypeEqual: 1 };
  const page = 2 + Math.floor(Math.random() * 99);
  // cold: nothing kept but the count (asked with page 1 after the cache was dropped)
  await forget();
  await cat.listEntries(f, 30, 1);
  let t0 = process.hrtime.bigint();
  const { objects } = await cat.listEntries(f, 30, page);
  add('a cold page: listEntries (ids, then entries in one statement)', us(t0));
  t0 = process.hrtime.bigint();
  const together = await entryApiObjects(ctx, objects);
  add('a cold page: flavors in one statement + 30 entryObject', us(t0));
  // the same page cold again, its flavors one entry at a time (as before)
  await forget();
  await cat.listEntries(f, 30, 1);
  t0 = process.hrtime.bigint();
  const alone = [];
  for (const e of objects) alone.push(await entryApiObject(ctx, e));
  add('a cold page: flavors one entry at a time + 30 entryObject (before)', us(t0));
  await cat.listEntries(f, 30, page);
  t0 = process.hrtime.bigint();
  await cat.listEntries(f, 30, page);
  add('the page again (kept): listEntries', us(t0));
  t0 = process.hrtime.bigint();
  const again = await entryApiObjects(ctx, objects);
  add('the page again (kept): flavors + 30 entryObject', us(t0));
  t0 = process.hrtime.bigint();
  toJson({ objectType: 'KalturaBaseEntryListResponse', objects: again, totalCount: 1 });
  add('toJson of the 30-entry answer', us(t0));
  if (JSON.stringify(together) !== JSON.stringify(alone)) throw new Error(`page ${page} of ${pid}: the page read whole differs from the per-entry reads`);
}
for (const [k, v] of Object.entries(S)) { v.sort((a, b) => a - b); console.log(k.padEnd(70), 'p50', v[v.length >> 1].toFixed(0).padStart(5), 'p90', v[Math.floor(v.length * 0.9)].toFixed(0).padStart(5), 'us'); }
