// Deleting an entry: the catalog first (status DELETED, its assets and jobs gone, in one
// transaction), then the files it named, so a crash in between leaves unused files, never a
// catalog pointing at missing ones.
import { readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/store.js';
import { EntryStatus } from '../catalog/types.js';
import { thumbnailCacheDir } from '../storage/paths.js';
import { localMediaWriter, MediaWriteError, type MediaWriter } from '../storage/media-writer.js';

export interface DeleteEnv {
  catalog: Catalog;
  dataDir: string;
  mediaRoot: string;
  /**
   * The media store's writer (KDELIVER_MEDIA_URL); local disk under mediaRoot when absent
   * (undefined); null for a store that takes no writes (an HTTP origin), whose files are left there.
   */
  media?: MediaWriter | null;
  now: number;
}

/** What deleting an entry did to its files (keys relative to the media root). */
export interface DeleteOutcome {
  /** The files the store removed. */
  removed: string[];
  /** The files the store could not remove, with why (they stay, unused; the entry is deleted all the same). */
  failed: { file: string; reason: string }[];
  /** The files left on a store that takes no writes (an HTTP origin): removing them is the origin's owner's to do. */
  leftReadOnly: string[];
}

/** Deletes an entry; says which of its files were removed, and which were not. */
export async function deleteEntry(env: DeleteEnv, entryId: string): Promise<DeleteOutcome> {
  const { catalog } = env;
  const out: DeleteOutcome = { removed: [], failed: [], leftReadOnly: [] };
  const entry = await catalog.getEntry(entryId);
  if (!entry || entry.status === EntryStatus.DELETED) return out;
  const files = new Set<string>();
  for (const f of await catalog.listFlavors(entryId)) files.add(f.filePath);
  for (const c of await catalog.listCaptions(entryId)) files.add(c.filePath);
  for (const t of await catalog.listThumbAssets(entryId)) files.add(t.filePath);
  if (entry.dataFile) files.add(entry.dataFile);
  if (entry.thumbnailFile) files.add(entry.thumbnailFile);
  // one transaction: its assets (thumbnails included) and jobs go, the entry stays as DELETED
  await catalog.ingest.markEntryDeleted(entryId, env.now);
  // Only files in the entry's own folder: another entry's (or a library's) files are not ours to remove
  const own = `${entry.partnerId}/${entry.id}/`;
  // A store that takes no writes keeps them all: nothing is removed, neither there nor from the
  // local media folder, which is not where this configuration's media is (it may be what the origin serves)
  const writer = env.media === null ? null : (env.media ?? localMediaWriter(env.mediaRoot));
  for (const f of files) {
    if (!f || !f.startsWith(own) || f.includes('..')) continue;
    if (!writer) {
      out.leftReadOnly.push(f);
      continue;
    }
    try {
      await writer.remove(f);
      out.removed.push(f);
    } catch (e) {
      out.failed.push({ file: f, reason: e instanceof MediaWriteError ? e.shown : (e as Error).message });
    }
  }
  if (writer) {
    const dir = join(env.mediaRoot, String(entry.partnerId), entry.id);
    try {
      for (const name of readdirSync(dir)) if (name.endsWith('.part')) rmSync(join(dir, name), { force: true });
      rmdirSync(dir);
    } catch { /* not empty (files of a running job) or already gone */ }
  }
  rmSync(thumbnailCacheDir(env.dataDir, entry.partnerId, entry.id), { recursive: true, force: true });
  return out;
}
