// A bound on work that runs at once (ffmpeg frame grabs, downloads): at most `limit` tasks run,
// the others wait in the order they came. Used by the thumbnail renderer and the Kaltura importer.

/** A queue of tasks of which at most `limit` (given per call, read when a task would start) run at once. */
export function limiter(): <T>(limit: number, task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function limited<T>(limit: number, task: () => Promise<T>): Promise<T> {
    while (running >= limit) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
