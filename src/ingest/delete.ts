// Deleting an entry: the catalog first (status DELETED, its assets and jobs gone, in one
// transaction), then the files it named, so a crash in between leaves unused files, never a
// catalog pointing at missing ones.
import { readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/store.js';
import { EntryStatus } from '../catalog/types.js';
import { thumbnailCacheDir } from '../storage/paths.js';
import { localMediaWriter, type MediaWriter } from '../storage/media-writer.js';

export interface DeleteEnv {
  catalog: Catalog;
  dataDir: string;
  mediaRoot: string;
  /** The media store's writer (KDELIVER_MEDIA_URL); local disk under mediaRoot when absent. */
  media?: MediaWriter | null;
  now: number;
}

/** Deletes an entry; returns the files removed (relative to the media root). */
export async function deleteEntry(env: DeleteEnv, entryId: string): Promise<{ removed: string[] }> {
  const { catalog } = env;
  const entry = await catalog.getEntry(entryId);
  if (!entry || entry.status === EntryStatus.DELETED) return { removed: [] };
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
  const removed: string[] = [];
  for (const f of files) {
    if (!f || !f.startsWith(own) || f.includes('..')) continue;
    await (env.media ?? localMediaWriter(env.mediaRoot)).remove(f).catch(() => undefined);
    removed.push(f);
  }
  const dir = join(env.mediaRoot, String(entry.partnerId), entry.id);
  try {
    for (const name of readdirSync(dir)) if (name.endsWith('.part')) rmSync(join(dir, name), { force: true });
    rmdirSync(dir);
  } catch { /* not empty (files of a running job) or already gone */ }
  rmSync(thumbnailCacheDir(env.dataDir, entry.partnerId, entry.id), { recursive: true, force: true });
  return { removed };
}
