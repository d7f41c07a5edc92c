// A Map whose oldest key is found at once, for kdeliver's bounded memos and caches (the catalog's
// read memo, the verified KSs, playManifest's answers and decisions, api_v3's answers), which
// forget their oldest key when full.
// Why not a plain Map's `keys().next()`: V8 keeps a deleted key's slot until the Map is rebuilt,
// and a new iterator walks every such slot before the first live key. A Map that forgets its
// oldest key on every new one (or moves a key asked again to its end) piles those slots up at its
// start, so finding the oldest costs a walk over thousands of them: 8 µs per new key at 10,000
// keys, 20 µs at 50,000, on the benchmark machine (bench/README.md, target 5, session 8).
// Here the order is a queue of (key, stamp) beside the Map: a key set again gets a new stamp, a
// deleted key leaves a stale queue slot, and the oldest is the first queue slot whose stamp is
// still its key's. The queue is rebuilt from the live keys when stale slots outnumber them, so
// each operation costs O(1) on average and the queue never holds more than about twice the keys.

export class OrderedMap<V> {
  private readonly values = new Map<string, { value: V; stamp: number }>();
  private keys: string[] = [];
  private stamps: number[] = [];
  private head = 0;
  private next = 0;

  get size(): number {
    return this.values.size;
  }

  get(key: string): V | undefined {
    return this.values.get(key)?.value;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Sets the value, and makes the key the newest (a key set again moves to the end). */
  set(key: string, value: V): void {
    const stamp = this.next++;
    this.values.set(key, { value, stamp });
    this.keys.push(key);
    this.stamps.push(stamp);
    this.compactIfStale();
  }

  /**
   * Sets the value as set does, first forgetting the oldest keys until a new key fits within
   * `max` (a key kept already only moves to the end); with `max` 0 or less, keeps nothing.
   */
  setWithin(key: string, value: V, max: number): void {
    if (max <= 0) return;
    if (!this.values.has(key)) while (this.values.size >= max) this.deleteOldest();
    this.set(key, value);
  }

  delete(key: string): boolean {
    return this.values.delete(key);
  }

  clear(): void {
    this.values.clear();
    this.keys = [];
    this.stamps = [];
    this.head = 0;
  }

  /** The oldest key, or undefined when empty. */
  oldest(): string | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head];
      if (this.values.get(key)?.stamp === this.stamps[this.head]) return key;
      this.head++;
    }
    return undefined;
  }

  /** Deletes the oldest key; its key, or undefined when empty. */
  deleteOldest(): string | undefined {
    const key = this.oldest();
    if (key !== undefined) {
      this.values.delete(key);
      this.head++;
      this.compactIfStale();
    }
    return key;
  }

  /**
   * Deletes every entry `drop` picks, telling `dropped` of each: one walk over the map, for a
   * change that ends most of its entries at once (a catalog change ends every kept answer).
   */
  deleteWhere(drop: (value: V) => boolean, dropped: (key: string, value: V) => void): void {
    for (const [key, value] of this.entries()) {
      if (!drop(value)) continue;
      this.values.delete(key);
      dropped(key, value);
    }
    this.compactIfStale();
  }

  /** Live keys, oldest first. */
  *entries(): IterableIterator<[string, V]> {
    for (let i = this.head; i < this.keys.length; i++) {
      const e = this.values.get(this.keys[i]);
      if (e && e.stamp === this.stamps[i]) yield [this.keys[i], e.value];
    }
  }

  private compactIfStale(): void {
    // rebuilt when the slots before the head (gone) or the stale ones after it outnumber the keys
    const slots = this.keys.length - this.head;
    if (this.keys.length < 64 || (this.head <= slots && slots <= 2 * this.values.size)) return;
    const keys: string[] = [];
    const stamps: number[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      if (this.values.get(this.keys[i])?.stamp === this.stamps[i]) {
        keys.push(this.keys[i]);
        stamps.push(this.stamps[i]);
      }
    }
    this.keys = keys;
    this.stamps = stamps;
    this.head = 0;
  }
}
