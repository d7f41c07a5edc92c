// Which video an entry's pictures come from, and the storyboard layout of an entry: shared by the
// thumbnail service, the storyboard route and the packager's thumbnail tracks, so that every
// manifest and the sheets agree. No pictures are made here (image.ts does, with sharp).
import type { Catalog } from '../catalog/store.js';
import { AssetStatus, DEFAULT_STORYBOARD, MediaType, type Entry, type FlavorAsset } from '../catalog/types.js';
import { storyboardLayout, type StoryboardLayout } from './storyboard.js';

/** The video file frames are taken from: the source if it is READY, else the largest READY video flavor. */
export async function frameSourceOf(catalog: Pick<Catalog, 'listFlavors'>, entry: Entry): Promise<FlavorAsset | null> {
  const ready = (await catalog.listFlavors(entry.id)).filter((f) => f.status === AssetStatus.READY && f.width > 0 && f.height > 0);
  return ready.find((f) => f.isOriginal) ?? ready.sort((a, b) => b.width * b.height - a.width * a.height)[0] ?? null;
}

/** The entry's storyboard (with its partner's settings), or null when it has no video to take frames from. */
export async function entryStoryboard(catalog: Pick<Catalog, 'listFlavors' | 'getPartner'>, entry: Entry): Promise<{ layout: StoryboardLayout; video: FlavorAsset } | null> {
  if (entry.mediaType === MediaType.IMAGE) return null;
  const video = await frameSourceOf(catalog, entry);
  if (!video) return null;
  const durationMs = video.durationMs || Math.round(entry.duration * 1000);
  if (!(durationMs > 0)) return null;
  const cfg = { ...DEFAULT_STORYBOARD, ...(await catalog.getPartner(entry.partnerId))?.storyboard };
  return { layout: storyboardLayout(cfg, video, durationMs), video };
}
