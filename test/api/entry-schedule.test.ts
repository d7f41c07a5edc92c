// baseEntry.update's startDate and endDate (admin KS) are what playManifest checks on the very next
// request: a start in the future or an end in the past refuses the entry (error 2, scheduling),
// clearing them plays it again; and the answer cache never keeps an answer past the change.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const ENTRY = '1_rcit0qgs';

t.test('an entry scheduled through the API is refused and played at once', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const ks = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).text()) as string;
  const update = async (baseEntry: Record<string, unknown>) => JSON.parse(await (await fetch(`${api}/service/baseentry/action/update`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks, format: 1, entryId: ENTRY, baseEntry }),
  })).text());
  const play = () => fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${ENTRY}/format/url/a.mp4`, { redirect: 'manual' });
  const now = Math.floor(Date.now() / 1000);

  t.equal((await play()).status, 302, 'plays');
  t.equal((await play()).status, 302, 'twice: the answer is kept');
  t.match(await update({ startDate: now + 86400 }), { startDate: now + 86400 });
  const early = await play();
  t.equal(early.status, 403, 'a start tomorrow: refused by the next request');
  t.match(early.headers.get('x-kaltura'), /error-2/);
  t.match(await early.text(), /has not started/);

  t.match(await update({ startDate: null, endDate: now - 60 }), { endDate: now - 60 });
  const ended = await play();
  t.equal(ended.status, 403, 'an end a minute ago: refused');
  t.match(await ended.text(), /ended/);

  const cleared = await update({ endDate: null });
  t.notOk(cleared.startDate ?? cleared.endDate, 'both cleared');
  t.equal((await play()).status, 302, 'plays again at once');

  t.match(await update({ startDate: now - 60, endDate: now + 3600 }), { startDate: now - 60, endDate: now + 3600 });
  t.equal((await play()).status, 302, 'inside its window: plays');
  const list = JSON.parse(await (await fetch(`${api}/service/baseentry/action/list?format=1&ks=${ks}&filter:idEqual=${ENTRY}`)).text());
  t.match(list.objects[0], { startDate: now - 60, endDate: now + 3600 }, 'the list reads the dates back');
});
