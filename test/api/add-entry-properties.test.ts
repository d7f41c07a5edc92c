// media.add and addFromUploadedFile apply every property of the entry object they are sent, with
// the checks baseEntry.update makes (lengths, the access-control profile, the schedule), or refuse
// it: an entry meant to be behind a rule must never be made without it. A refusal makes no entry
// and leaves the upload token as it was.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';


t.test('the entry object of media.add and addFromUploadedFile', async (t) => {
  const srv = await startServer(t);
  const { call, refusal } = await sampleAdminClient(srv.url, 'uploader');
  const count = async () => Number((await call(kaltura.services.baseEntry.listAction(null, new kaltura.objects.FilterPager({ pageSize: 1 })))).totalCount);

  const rule = await call(kaltura.services.accessControlProfile.add(new kaltura.objects.AccessControlProfile({
    name: 'Requires a KS',
    rules: [new kaltura.objects.Rule({
      contexts: [new kaltura.objects.AccessControlContextTypeHolder({ type: kaltura.enums.ContextType.PLAY })],
      conditions: [new kaltura.objects.AuthenticatedCondition({ not: true, privileges: [new kaltura.objects.StringValue({ value: 'sview' })] })],
      actions: [new kaltura.objects.AccessControlBlockAction()],
    })],
  })));

  await t.test('every property is kept', async (t) => {
    const added = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({
      name: 'protected from the start', description: 'd', tags: 'a,b', adminTags: 'adm', referenceId: 'ref-1', partnerData: 'pd',
      accessControlId: rule.id, startDate: 1_700_000_000, endDate: 4_000_000_000, userId: 'owner-1', mediaType: kaltura.enums.MediaType.VIDEO,
    })));
    const got = await call(kaltura.services.media.get(added.id));
    for (const e of [added, got]) {
      t.same(
        [e.name, e.description, e.tags, e.adminTags, e.referenceId, e.partnerData, e.accessControlId, e.startDate, e.endDate, e.userId, Number(e.status)],
        ['protected from the start', 'd', 'a,b', 'adm', 'ref-1', 'pd', rule.id, 1_700_000_000, 4_000_000_000, 'owner-1', 7],
      );
    }
  });

  await t.test('a property that cannot be applied makes no entry', async (t) => {
    const before = await count();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['an unknown access-control profile', { accessControlId: 99999 }, 'ACCESS_CONTROL_ID_NOT_FOUND'],
      ['a name too long', { name: 'x'.repeat(257) }, 'PROPERTY_VALIDATION_MAX_LENGTH'],
      ['a schedule that ends before it starts', { startDate: 2_000_000_000, endDate: 1_000_000_000 }, 'INVALID_ENTRY_SCHEDULE_DATES'],
      ['a property this server does not keep', { categories: 'news' }, 'PROPERTY_IS_NOT_DEFINED'],
      ['a read-only property', { status: 2 }, 'PROPERTY_VALIDATION_NOT_UPDATABLE'],
      ['an entry type other than a media clip', { type: kaltura.enums.EntryType.DOCUMENT }, 'ENTRY_TYPE_NOT_SUPPORTED'],
      ['an unknown conversion profile', { conversionProfileId: 999 }, 'CONVERSION_PROFILE_ID_NOT_FOUND'],
      ['an owner id too long', { userId: 'x'.repeat(101) }, 'PROPERTY_VALIDATION_MAX_LENGTH'],
    ];
    for (const [what, props, code] of cases) {
      const err = await refusal(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'refused', mediaType: 1, ...props })));
      t.equal(err?.code, code, what);
      // the type named is the one sent, not its base type
      if (code === 'PROPERTY_IS_NOT_DEFINED') t.match(err?.message, /"categories" is not defined on type "KalturaMediaEntry"/);
    }
    t.equal(await count(), before, 'no entry was made');
  });

  await t.test('a conversion profile is kept for addContent (test/api/add-content.test.ts transcodes with one)', async (t) => {
    const added = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'default ladder', mediaType: 1, conversionProfileId: 1 })));
    t.same([Number(added.status), added.conversionProfileId], [7, 1]);
  });

  await t.test('addFromUploadedFile: the entry is checked before the upload is used', async (t) => {
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'x.mp4' })));
    await call(kaltura.services.uploadToken.upload(token.id, Buffer.from('bytes')));
    const before = await count();
    const err = await refusal(kaltura.services.media.addFromUploadedFile(new kaltura.objects.MediaEntry({ name: 'x', mediaType: 1, accessControlId: 99999 }), token.id));
    t.equal(err?.code, 'ACCESS_CONTROL_ID_NOT_FOUND');
    t.equal(await count(), before, 'no entry was made');
    t.equal(Number((await call(kaltura.services.uploadToken.get(token.id))).status), 2, 'the token is still FULL_UPLOAD');
  });
});
