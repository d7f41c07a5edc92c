// The SQL of a page of entries (Catalog.listEntries), the same text on SQLite and PostgreSQL but
// for the two words their dialects spell differently (EntryListDialect).
import type { EntryFilter, EntryOrder } from './store.js';

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

/** Where the two catalogs' SQL for an entry list differs: case-folding LIKE, and the false literal. */
export interface EntryListDialect { like: 'LIKE' | 'ILIKE'; falseLiteral: '0' | 'false' }
/** SQLite's LIKE folds ASCII case only; so does PostgreSQL's ILIKE over the COLLATE "C" text of its schema. */
export const SQLITE_ENTRY_LIST: EntryListDialect = { like: 'LIKE', falseLiteral: '0' };
export const POSTGRES_ENTRY_LIST: EntryListDialect = { like: 'ILIKE', falseLiteral: 'false' };

/** A LIKE pattern matching `s` anywhere, its own %, _ and \ taken literally under ESCAPE '\'. */
const contains = (s: string) => `%${s.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

/**
 * The WHERE (over bare column names of entries) and its named parameters for a filter; filters
 * are optional and combined. The text depends only on which filters are set and how many values
 * each list has, so the statements it makes stay few and are prepared once.
 */
export function entryWhere(f: EntryFilter, dialect: EntryListDialect): { where: string; params: Record<string, unknown> } {
  const where: string[] = ['partner_id = @partnerId'];
  const params: Record<string, unknown> = { partnerId: f.partnerId };
  // the placeholders of a list of values (their parameters set), or `empty` for none
  const list = (prefix: string, values: unknown[], empty: string) => {
    values.forEach((v, i) => (params[`${prefix}${i}`] = v));
    return values.map((_, i) => `@${prefix}${i}`).join(',') || empty;
  };
  if (f.idIn) where.push(`id IN (${list('id', f.idIn, "''")})`);
  if (f.referenceIdEqual !== undefined) { where.push('reference_id = @ref'); params.ref = f.referenceIdEqual; }
  if (f.nameLike !== undefined) { where.push(`name ${dialect.like} @name ESCAPE '\\'`); params.name = contains(f.nameLike); }
  if (f.statusIn) where.push(`status IN (${list('st', f.statusIn, 'NULL')})`);
  else if (!f.includeDeleted) where.push('status <> 3');
  if (f.statusNotIn?.length) where.push(`status NOT IN (${list('stn', f.statusNotIn, '')})`);
  if (f.moderationStatusIn) where.push(`moderation_status IN (${list('ms', f.moderationStatusIn, 'NULL')})`);
  if (f.moderationStatusNotIn?.length) where.push(`moderation_status NOT IN (${list('msn', f.moderationStatusNotIn, '')})`);
  if (f.mediaTypeEqual !== undefined) { where.push('media_type = @mt'); params.mt = f.mediaTypeEqual; }
  if (f.typeIn) where.push(`type IN (${list('ty', f.typeIn, 'NULL')})`);
  if (f.userIdEqual !== undefined) { where.push('user_id = @user'); params.user = f.userIdEqual; }
  if (f.mediaTypeIn) where.push(`media_type IN (${list('mti', f.mediaTypeIn, 'NULL')})`);
  if (f.tagsMultiLikeOr) {
    f.tagsMultiLikeOr.forEach((t, i) => (params[`tag${i}`] = contains(t)));
    where.push(`(${f.tagsMultiLikeOr.map((_, i) => `tags ${dialect.like} @tag${i} ESCAPE '\\'`).join(' OR ') || dialect.falseLiteral})`);
  }
  if (f.createdAtGreaterThanOrEqual !== undefined) { where.push('created_at >= @since'); params.since = f.createdAtGreaterThanOrEqual; }
  return { where: where.join(' AND '), params };
}

/** A page's size (1 to 500) and the rows before it, from any numbers: fractions cut off, NaN and anything below 1 read as 1. */
export function pageBounds(pageSize: number, pageIndex: number): { size: number; offset: number } {
  const size = Math.max(1, Math.min(500, Math.trunc(pageSize) || 1));
  return { size, offset: (Math.max(1, Math.trunc(pageIndex) || 1) - 1) * size };
}
