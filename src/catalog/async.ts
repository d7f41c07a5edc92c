// The SQLite stores run synchronously inside (better-sqlite3); the interfaces of src/catalog/store.ts
// answer promises. This turns an object of synchronous methods into the asynchronous same.

export type AsyncOf<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<R> : never };

/** The same methods, each answering a promise; a throw becomes a rejection. */
export function asyncMethods<T extends Record<string, (...a: any[]) => unknown>>(o: T): AsyncOf<T> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(o)) out[k] = async (...a: unknown[]) => f(...a);
  return out as AsyncOf<T>;
}
