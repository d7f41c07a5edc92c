// responseProfile trims an answer to the fields it names (type 1) or without them (type 2). One
// this server cannot apply (another type, a stored profile by id or systemName, related profiles)
// is refused before the action runs, rather than answering every field as if none were sent.
import t from 'tap';
import { startServer } from '../helpers/server.js';

t.test('responseProfile', async (t) => {
  const srv = await startServer(t);
  const api = async (body: Record<string, unknown>) => {
    const r = await fetch(`${srv.url}/api_v3/service/${body.service ?? 'multirequest'}/action/${body.action ?? ''}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...body }),
    });
    t.equal(r.status, 200);
    return r.json() as Promise<any>;
  };
  const ks: string = await api({ service: 'session', action: 'start', secret: 'sample-admin-secret-309', partnerId: 309, type: 2 });
  const get = (responseProfile: unknown) => api({ service: 'baseEntry', action: 'get', ks, entryId: '1_audio001', responseProfile });

  t.same(Object.keys(await get({ type: 1, fields: 'id,name' })).sort(), ['id', 'name', 'objectType'], 'type 1 includes');
  t.notOk('description' in await get({ objectType: 'KalturaDetachedResponseProfile', type: 2, fields: 'description' }), 'type 2 excludes');

  for (const [what, profile, code] of [
    ['another type', { type: 7, fields: 'id' }, 'INVALID_ENUM_VALUE'],
    ['a type that is no number', { type: 'include', fields: 'id' }, 'INVALID_ENUM_VALUE'],
    ['a stored profile by id', { id: 5 }, 'PROPERTY_IS_NOT_DEFINED'],
    ['a stored profile by system name', { systemName: 'mine' }, 'PROPERTY_IS_NOT_DEFINED'],
    ['related profiles', { type: 1, fields: 'id', relatedProfiles: [{ type: 1, fields: 'id' }] }, 'PROPERTY_IS_NOT_DEFINED'],
  ] as const) {
    t.equal((await get(profile)).code, code, what);
  }

  // refused before the action runs: the update is not made
  const refused = await api({ service: 'baseEntry', action: 'update', ks, entryId: '1_audio001', baseEntry: { name: 'not applied' }, responseProfile: { type: 9, fields: 'id' } });
  t.equal(refused.code, 'INVALID_ENUM_VALUE');
  t.not((await get({ type: 1, fields: 'name' })).name, 'not applied', 'the update was not made');

  // in a multirequest, each request's own profile
  const multi = await api({ ks, 1: { service: 'baseEntry', action: 'get', entryId: '1_audio001', responseProfile: { type: 1, fields: 'id' } }, 2: { service: 'baseEntry', action: 'get', entryId: '1_audio001', responseProfile: { type: 3, fields: 'id' } } });
  t.same(multi[0], { objectType: 'KalturaMediaEntry', id: '1_audio001' });
  t.equal(multi[1].code, 'INVALID_ENUM_VALUE');
});
