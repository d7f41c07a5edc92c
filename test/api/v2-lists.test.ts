// API v2's lists against a real server and the sample library, with 1_moderat0 rejected by a
// moderator (README "The legacy API v2"):
// - listentries / listmyentries: `count` is the number of entries the filter matches and `entries`
//   the page of them, from the same list (`count` is the total, as in Kaltura, whose listentries
//   leaves out only deleted entries unless a status filter or display_deleted asks for them, and
//   lists moderation-rejected ones, as the KMC's moderation queue needs). A rejected entry used to
//   be counted but left out of `entries`, so that a client paging by `count` waited for entries
//   that never came; a deleted one asked for with filter__eq_status=3 the same. display_deleted was
//   ignored: it lists deleted entries among the others (when no status filter narrows them).
// - getentries: the entries of the ids asked for, unknown ids silently skipped, INVALID_ENTRY_IDS
//   when none is found. Kaltura reads them with the entry table's default filter, which leaves out
//   deleted entries only: a rejected entry is listed, where getentry answers INVALID_ENTRY_ID for
//   it. It used to be skipped by getentries too, so a client asking for it got INVALID_ENTRY_IDS.
import t, { type Test } from 'tap';
import { startServer } from '../helpers/server.js';

interface V2Answer { result?: { count?: number; entries?: Record<string, { id: string }>; entry?: { id: string } }; error?: Record<string, { code: string }> }

/** A server whose 1_moderat0 a moderator rejected, and a v2 call with its admin KS. */
async function withRejectedEntry(t: Test): Promise<(action: string, query: string) => Promise<V2Answer>> {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const ks = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2&userId=admin`)).text()) as string;
  const rejected = await (await fetch(`${api}/service/baseEntry/action/reject?format=1&ks=${ks}&entryId=1_moderat0`)).text();
  t.notMatch(rejected, /KalturaAPIException/, 'a moderator rejects 1_moderat0');
  return async (action, query) => {
    const r = await fetch(`${s.url}/index.php/partnerservices2/${action}?format=1&ks=${ks}&${query}`);
    t.equal(r.status, 200);
    return (await r.json()) as V2Answer;
  };
}

t.test('listentries: count and entries agree', async (t) => {
  const call = await withRejectedEntry(t);
  const v2 = async (action: string, query: string) => {
    const body = await call(action, query);
    t.notOk(body.error, `${action} ${query}: no error`);
    // an empty value (a count of 0, no entries) is left out of the answer, as Kaltura's v2 does (src/api/v2/render.ts)
    return { count: Number(body.result!.count ?? 0), ids: Object.values(body.result!.entries ?? {}).map((e) => e.id) };
  };

  const all = await v2('listentries', 'page_size=30');
  t.ok(all.count > 0 && all.count <= 30, `the sample library fits one page (${all.count})`);
  t.equal(all.ids.length, all.count, 'every entry counted is listed');
  t.ok(all.ids.includes('1_moderat0'), 'the rejected entry among them, as in Kaltura');
  t.notOk(all.ids.includes('1_deleted0'), 'a deleted entry is neither counted nor listed');

  // pages of 4: together they list each counted entry once
  const paged: string[] = [];
  for (let page = 1; page <= Math.ceil(all.count / 4); page++) {
    const p = await v2('listentries', `page_size=4&page=${page}`);
    t.equal(p.count, all.count, `page ${page}: the same count`);
    paged.push(...p.ids);
  }
  t.same([...paged].sort(), [...all.ids].sort(), 'the pages list exactly the counted entries');

  const deleted = await v2('listentries', 'filter__eq_status=3');
  t.same(deleted, { count: 1, ids: ['1_deleted0'] }, 'asked for by its status, a deleted entry is counted and listed');

  // display_deleted (the reference's listentries: deleted entries are no longer left out; a status
  // filter still applies; "false", "0" and empty are off)
  const withDeleted = await v2('listentries', 'page_size=30&display_deleted=1');
  t.equal(withDeleted.count, all.count + 1, 'display_deleted: the deleted entry is counted too');
  t.same([...withDeleted.ids].sort(), [...all.ids, '1_deleted0'].sort(), 'display_deleted: every entry and the deleted one are listed');
  for (const off of ['false', '0', '']) t.same(await v2('listentries', `page_size=30&display_deleted=${off}`), all, `display_deleted=${off} is off`);
  const readyOnly = await v2('listentries', 'page_size=30&filter__eq_status=2');
  t.same(await v2('listentries', 'page_size=30&filter__eq_status=2&display_deleted=true'), readyOnly, 'display_deleted with a status filter: the filter decides');
  t.same(await v2('listentries', 'filter__in_status=2,3&filter__eq_id=1_deleted0'), { count: 1, ids: ['1_deleted0'] }, 'a status list that names 3 lists it without display_deleted');

  const mine = await v2('listmyentries', '');
  t.equal(mine.ids.length, mine.count, 'listmyentries: count and entries agree too');
});

t.test('getentries lists a rejected entry, skips a deleted one; getentry refuses both', async (t) => {
  const v2 = await withRejectedEntry(t);
  const both = await v2('getentries', 'entry_ids=1_rcit0qgs,1_moderat0,1_deleted0,1_nosuch00');
  t.notOk(both.error);
  t.same(Object.values(both.result?.entries ?? {}).map((e) => e.id).sort(), ['1_moderat0', '1_rcit0qgs'], 'the rejected entry is listed; the deleted and unknown ones are skipped');

  const onlyRejected = await v2('getentries', 'entry_ids=1_moderat0');
  t.same(Object.values(onlyRejected.result?.entries ?? {}).map((e) => e.id), ['1_moderat0'], 'a rejected entry alone is found');

  const onlyDeleted = await v2('getentries', 'entry_ids=1_deleted0');
  t.equal(onlyDeleted.error?.['0']?.code, 'INVALID_ENTRY_IDS', 'a deleted entry alone is none found');

  for (const id of ['1_moderat0', '1_deleted0']) {
    t.equal((await v2('getentry', `entry_id=${id}`)).error?.['0']?.code, 'INVALID_ENTRY_ID', `getentry ${id}: refused`);
  }
});
