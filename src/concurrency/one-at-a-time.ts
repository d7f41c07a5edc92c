// Tasks that must not overlap per key (the chunk writes of one upload file, the content of one
// entry), run one after another in the order they came; tasks of other keys run freely. Within
// this process only: what must hold across processes or nodes is decided in the catalog.

/** A queue per key: `run(key, task)` starts `task` once every earlier task of `key` has settled. */
export function oneAtATime(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return function run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(() => undefined, () => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}
