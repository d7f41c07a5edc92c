// API v2 getentries (the API v2 facts §4.2): the entries of the ids asked for, unknown ids silently
// skipped, INVALID_ENTRY_IDS when none is found. Kaltura's getentries reads them with the entry
// table's default filter, which leaves out deleted entries only: a moderation-rejected entry is
// listed (as listentries lists it), where getentry (§4.1) answers INVALID_ENTRY_ID for it. It used to
// be skipped by getentries too, so that a client asking for its rejected entry got INVALID_ENTRY_IDS.
import t from 'tap';
import { startServer } from '../helpers/server.js';

t.test('getentries lists a rejected entry, skips a deleted one; getentry refuses both', async (t) => {
  const s = await startServer(t);
  const P = `${s.url}/index.php/partnerservices2`;
  const api = `${s.url}/api_v3`;
  const ks = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2&userId=admin`)).text()) as string;
  const v2 = async (action: string, query: string) => {
    const r = await fetch(`${P}/${action}?format=1&ks=${ks}&${query}`);
    t.equal(r.status, 200);
    return (await r.json()) as { result?: { entries?: Record<string, { id: string }>; entry?: { id: string } }; error?: Record<string, { code: string }> };
  };
  const rejected = await (await fetch(`${api}/service/baseEntry/action/reject?format=1&ks=${ks}&entryId=1_moderat0`)).text();
  t.notMatch(rejected, /KalturaAPIException/, 'a moderator rejects 1_moderat0');

  const both = await v2('getentries', 'entry_ids=1_rcit0qgs,1_moderat0,1_deleted0,1_nosuch00');
  t.notOk(both.error);
  t.same(Object.values(both.result?.entries ?? {}).map((e) => e.id).sort(), ['1_moderat0', '1_rcit0qgs'], 'the rejected entry is listed; the deleted and unknown ones are skipped');

  const onlyRejected = await v2('getentries', 'entry_ids=1_moderat0');
  t.same(Object.values(onlyRejected.result?.entries ?? {}).map((e) => e.id), ['1_moderat0'], 'a rejected entry alone is found');

  const onlyDeleted = await v2('getentries', 'entry_ids=1_deleted0');
  t.equal(onlyDeleted.error?.['0']?.code, 'INVALID_ENTRY_IDS', 'a deleted entry alone is none found');

  for (const id of ['1_moderat0', '1_deleted0']) {
    t.equal((await v2('getentry', `entry_id=${id}`)).error?.['0']?.code, 'INVALID_ENTRY_ID', `getentry ${id}: refused (§4.1)`);
  }
});
