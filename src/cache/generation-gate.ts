// A catalog change ends every answer kept before it. The stores of playManifest's kept answers
// (src/cache/manifest-cache.ts, src/cache/session-answers.ts) each keep a value with the catalog
// generation it was made under; this gate is where a store sees the generation move on and drops
// what it kept under older ones, all at once.

/**
 * The newest catalog generation a store of kept answers has been asked or given one under. A
 * catalog change ends every answer kept before it; seeing a newer generation, the gate has `drop`
 * take them all at once, so the store's size in /metrics counts only what may still be sent (a
 * store that dropped each stale answer only when its key was asked again counted them until then),
 * and it says whether an answer of `generation` may be kept or sent: not one made under a
 * generation older than one the store has seen.
 */
export function generationGate(drop: (newest: number) => void): (generation: number) => boolean {
  let newest = -Infinity;
  return (generation) => {
    if (generation > newest) {
      newest = generation;
      drop(generation);
    }
    return generation === newest;
  };
}
