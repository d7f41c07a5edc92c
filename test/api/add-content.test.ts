// media.addContent only fills an entry that has no content yet (NO_CONTENT), as Kaltura's
// MediaService::addContentAction does: any other entry answers ENTRY_ALREADY_WITH_CONTENT, and
// an entry that is not a media clip is not found. A client that sends addContent again after a
// timeout relies on that code; the refusal changes nothing, and the upload token stays usable.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startServer } from '../helpers/server.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';
import { sampleFlavorFile } from '../helpers/media-tools.js';
import { importLibrary } from '../../src/catalog/library.js';


t.test('media.addContent refuses an entry that already has content', async (t) => {
  const srv = await startServer(t);
  const { call, refusal } = await sampleAdminClient(srv.url);

  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'again.mp4' })));
  await call(kaltura.services.uploadToken.upload(token.id, Buffer.from('some bytes of a second file')));
  const resource = new kaltura.objects.UploadedFileTokenResource({ token: token.id });

  const flavorsBefore = await srv.app.catalog.listFlavors('1_rcit0qgs');
  for (const entryId of ['1_rcit0qgs', '1_convert0']) {
    const before = await call(kaltura.services.media.get(entryId));
    const err = await refusal(kaltura.services.media.addContent(entryId, resource));
    t.equal(err?.code, 'ENTRY_ALREADY_WITH_CONTENT', `${entryId} (status ${before.status})`);
    t.equal(err?.message, 'Entry already associated with content');
    const after = await call(kaltura.services.media.get(entryId));
    t.same([after.status, after.version, after.updatedAt], [before.status, before.version, before.updatedAt], `${entryId} unchanged`);
  }
  t.same(await srv.app.catalog.listFlavors('1_rcit0qgs'), flavorsBefore, 'the READY entry keeps its flavors');

  // not a media clip (a document entry, a deleted one): not found, as in Kaltura
  for (const entryId of ['1_document', '1_deleted0']) {
    const err = await refusal(kaltura.services.media.addContent(entryId, resource));
    t.equal(err?.code, 'ENTRY_ID_NOT_FOUND', entryId);
  }

  // the status is checked before the resource, as Kaltura does: a resend with any resource gets the same answer
  const urlResource = await refusal(kaltura.services.media.addContent('1_rcit0qgs', new kaltura.objects.UrlResource({ url: 'http://127.0.0.1:1/x.mp4' })));
  t.equal(urlResource?.code, 'ENTRY_ALREADY_WITH_CONTENT');

  const kept = await call(kaltura.services.uploadToken.get(token.id));
  t.equal(Number(kept.status), 2, 'the upload token is still FULL_UPLOAD, for the entry it was meant for');
});

t.test('an entry whose first content was not media may be given content again', async (t) => {
  const srv = await startServer(t);
  const { call, refusal } = await sampleAdminClient(srv.url);
  const upload = async (name: string, bytes: Buffer) => {
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: name })));
    await call(kaltura.services.uploadToken.upload(token.id, bytes));
    return new kaltura.objects.UploadedFileTokenResource({ token: token.id });
  };

  const entry = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'second try', mediaType: 1 })));
  const first = await refusal(kaltura.services.media.addContent(entry.id, await upload('notes.mp4', Buffer.from('not a video at all'))));
  t.equal(first?.code, 'INGEST_FAILED', 'bytes that are not media fail the ingest');
  t.equal(Number((await call(kaltura.services.media.get(entry.id))).status), -2, 'the entry is ERROR_IMPORTING, with no source');
  const video = readFileSync(sampleFlavorFile('1_rcit0qgs', '1_f1rcit00'));
  const second = await call(kaltura.services.media.addContent(entry.id, await upload('movie.mp4', video)));
  t.not(Number(second.status), -2, 'the same entry takes the real file (Kaltura would need updateContent, which is not here)');
  t.ok((await srv.app.catalog.listFlavors(entry.id)).some((f) => f.isOriginal), 'its source is kept');
  const third = await refusal(kaltura.services.media.addContent(entry.id, await upload('again.mp4', video)));
  t.equal(third?.code, 'ENTRY_ALREADY_WITH_CONTENT', 'and once it has content, no more');
});

t.test('the conversion profile media.add names is the one addContent transcodes with', async (t) => {
  const srv = await startServer(t);
  const { call, refusal } = await sampleAdminClient(srv.url);
  // a second ladder for partner 309: the source and the small rendition only
  await importLibrary(srv.app.catalog, { version: 1, conversionProfiles: [{ id: 77, partnerId: 309, name: 'small only', flavorParamsIds: [0, 301961] }] }, srv.dataDir, srv.app.config.mediaRoot);
  const entry = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'small ladder', mediaType: 1, conversionProfileId: 77 })));
  t.equal(entry.conversionProfileId, 77, 'media.add answers the profile');
  t.equal((await call(kaltura.services.media.get(entry.id))).conversionProfileId, 77, 'and keeps it on the entry');

  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4' })));
  await call(kaltura.services.uploadToken.upload(token.id, readFileSync(sampleFlavorFile('1_rcit0qgs', '1_f1rcit00'))));
  await call(kaltura.services.media.addContent(entry.id, new kaltura.objects.UploadedFileTokenResource({ token: token.id })));
  let status = 1;
  for (const until = Date.now() + 120_000; Date.now() < until && (status === 1 || status === 4); await new Promise((r) => setTimeout(r, 250))) {
    status = Number((await call(kaltura.services.media.get(entry.id))).status);
  }
  t.equal(status, 2, 'READY');
  const flavors = await srv.app.catalog.listFlavors(entry.id);
  t.same(flavors.map((f) => f.flavorParamsId).sort((a, b) => a - b), [0, 301961], 'the profile\'s ladder, not the default one');

  // an entry made without one transcodes with the partner's default (the sample's ladder) and says none
  const plain = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'default ladder', mediaType: 1 })));
  t.equal(plain.conversionProfileId, undefined);
  const unknown = await refusal(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'x', mediaType: 1, conversionProfileId: 999 })));
  t.equal(unknown?.code, 'CONVERSION_PROFILE_ID_NOT_FOUND');
});

t.test('addContent sent several times at once to one entry: one takes it, the others change nothing', async (t) => {
  // A client retrying on a timeout, or two editors at once: each request found the entry empty,
  // used up its token and queued a source; the jobs then removed each other's files, the entry
  // showed an error status in between (-2, ERROR_IMPORTING, as a source ffmpeg cannot read sets
  // it; ERROR_CONVERTING is -1), and every caller was told it had worked.
  const srv = await startServer(t);
  const { call, refusal } = await sampleAdminClient(srv.url);
  const video = readFileSync(sampleFlavorFile('1_rcit0qgs', '1_f1rcit00'));
  const tokens: string[] = [];
  for (let i = 0; i < 3; i++) {
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: `take-${i}.mp4` })));
    await call(kaltura.services.uploadToken.upload(token.id, video));
    tokens.push(token.id);
  }
  const entry = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'one content', mediaType: 1 })));
  const answers = await Promise.all(tokens.map((token) => refusal(kaltura.services.media.addContent(entry.id, new kaltura.objects.UploadedFileTokenResource({ token })))));
  t.equal(answers.filter((a) => a === null).length, 1, 'one request gives the entry its content');
  t.same(answers.filter((a) => a !== null).map((a) => a!.code), ['ENTRY_ALREADY_WITH_CONTENT', 'ENTRY_ALREADY_WITH_CONTENT'], 'the others are told it has some');
  const statuses = [];
  for (const token of tokens) statuses.push(Number((await call(kaltura.services.uploadToken.get(token))).status));
  t.same(statuses.sort(), [2, 2, 3], 'one token used; the others still FULL_UPLOAD, for another entry');

  const seen = new Set<number>();
  let status = 1;
  for (const until = Date.now() + 120_000; Date.now() < until && (status === 1 || status === 4); await new Promise((r) => setTimeout(r, 100))) {
    status = Number((await call(kaltura.services.media.get(entry.id))).status);
    seen.add(status);
  }
  t.equal(status, 2, 'READY');
  t.notOk(seen.has(-1), 'never ERROR_CONVERTING (-1) on the way');
  t.notOk(seen.has(-2), 'never ERROR_IMPORTING (-2) on the way');
  const flavors = await srv.app.catalog.listFlavors(entry.id);
  t.equal(flavors.filter((f) => f.isOriginal).length, 1, 'one source');
  const other = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'the other take', mediaType: 1 })));
  const refusedToken = (await Promise.all(tokens.map(async (token) => ({ token, status: Number((await call(kaltura.services.uploadToken.get(token))).status) })))).find((x) => x.status === 2)!.token;
  t.match(await call(kaltura.services.media.addContent(other.id, new kaltura.objects.UploadedFileTokenResource({ token: refusedToken }))), { status: 1 }, 'a refused token still gives another entry its content');
});
