// The SQL of a page of entries (Catalog.listEntries), the same text on SQLite and PostgreSQL.
import type { EntryOrder } from './store.js';

/** The SQL order of each EntryOrder; ties by id, so every order is total. */
export const ENTRY_ORDERS: Record<EntryOrder, string> = {
  '+createdAt': 'created_at ASC, id', '-createdAt': 'created_at DESC, id',
  '+updatedAt': 'updated_at ASC, id', '-updatedAt': 'updated_at DESC, id',
  '+name': 'name ASC, id', '-name': 'name DESC, id',
  '+duration': 'duration ASC, id', '-duration': 'duration DESC, id',
};

/**
 * The ids of one page of the entries matching `where` (over bare column names of entries), in
 * `order`. Ids first and only the page's rows read whole: SQLite reads every row an OFFSET skips,
 * and page 100 of a partner's list would read 3,000 rows to keep 30, where the ids alone come from
 * the entries_list index (migration 12).
 */
export function pageIdsSql(where: string, order: EntryOrder, size: number, offset: number): string {
  return `SELECT id FROM entries WHERE ${where} ORDER BY ${ENTRY_ORDERS[order]} LIMIT ${size} OFFSET ${offset}`;
}

/** The same page read whole in one statement (where a second statement costs a round trip). */
export function pageSql(where: string, order: EntryOrder, size: number, offset: number): string {
  const by = ENTRY_ORDERS[order];
  return `SELECT entries.* FROM (SELECT id AS page_id FROM entries WHERE ${where} ORDER BY ${by} LIMIT ${size} OFFSET ${offset}) AS page
    JOIN entries ON entries.id = page.page_id ORDER BY ${by}`;
}
