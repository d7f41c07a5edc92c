// A country condition on a server without a country database (no KDELIVER_GEOIP_FILE). Kaltura
// always has its geocoder; kdeliver without one cannot tell a viewer's country, and answering
// "unknown" let everyone past a block list ("not in the US") while an allow list refused everyone.
// Now the condition is taken as fulfilled, whichever way it is written: the rule applies its own
// actions (a block list and an allow list both block; a preview rule previews, it does not block),
// on every route that evaluates it; the server says at start which profiles have such conditions.
// A rule whose other conditions already fail is not affected (its AND cannot hold), and entries
// without country rules play as before.
import t from 'tap';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';
import { startLoggingServer, startServer } from '../helpers/server.js';

const s = await startServer(t);
const { call } = await sampleAdminClient(s.url);

const countryRule = (not: boolean, extra: object[] = []) => new kaltura.objects.Rule({
  message: not ? 'only in the US' : 'not in the US',
  conditions: [...extra, new kaltura.objects.CountryCondition({ not, values: [new kaltura.objects.StringValue({ value: 'US' })] })],
  actions: [new kaltura.objects.AccessControlBlockAction()],
});
const profile = async (name: string, rules: unknown[]) =>
  (await call(kaltura.services.accessControlProfile.add(new kaltura.objects.AccessControlProfile({ name, rules })))).id as number;
const blockList = await profile('block the US', [countryRule(false)]);
const previewInDe = await profile('a preview in Germany', [new kaltura.objects.Rule({
  conditions: [new kaltura.objects.CountryCondition({ not: false, values: [new kaltura.objects.StringValue({ value: 'DE' })] })],
  actions: [new kaltura.objects.AccessControlPreviewAction({ limit: 5 })],
})]);
const allowList = await profile('only the US', [countryRule(true)]);
// an AND whose first condition fails for an anonymous viewer: never fires, country or not
const adminsInUs = await profile('admins in the US', [countryRule(false, [new kaltura.objects.AuthenticatedCondition({ not: false })])]);

const playManifest = async (entryId: string) => {
  const r = await fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/${entryId}/format/applehttp/protocol/http/a.m3u8`);
  await r.arrayBuffer();
  return { status: r.status, error: r.headers.get('x-kaltura'), app: r.headers.get('x-kaltura-app') };
};
// as the player asks it: under a widget session (an admin KS skips the rules)
const api = async (service: string, action: string, params: Record<string, unknown>): Promise<any> =>
  (await fetch(`${s.url}/api_v3/service/${service}/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }),
  })).json();
const widgetKs: string = (await api('session', 'startWidgetSession', { widgetId: '_309' })).ks;
const playbackContext = (entryId: string) =>
  api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId, contextDataParams: { objectType: 'KalturaContextDataParams' } });
const setProfile = (entryId: string, accessControlId: number) =>
  call(kaltura.services.media.update(entryId, new kaltura.objects.MediaEntry({ accessControlId })));

t.test('a block list and an allow list of countries both block, with their messages', async (t) => {
  for (const [id, says] of [[blockList, 'not in the US'], [allowList, 'only in the US']] as const) {
    await setProfile('1_rcit0qgs', id);
    const r = await playManifest('1_rcit0qgs');
    t.equal(r.status, 403, `profile ${id}: refused`);
    t.match(r.error, /error-3$/, 'ACCESS_CONTROL_RESTRICTED');
    t.match(r.app, says);
    const pc = await playbackContext('1_rcit0qgs');
    t.same(pc.sources, [], 'getPlaybackContext: no sources');
    t.ok(pc.messages.some((m: { message: string }) => m.message === says), 'getPlaybackContext gives the rule\'s message');
  }
});

t.test('a preview rule on a country previews, it does not block', async (t) => {
  await setProfile('1_rcit0qgs', previewInDe);
  t.equal((await playManifest('1_rcit0qgs')).status, 200, 'playManifest plays');
  const pc = await playbackContext('1_rcit0qgs');
  t.ok(pc.sources.length > 0, 'getPlaybackContext has sources');
  t.ok(pc.actions.some((a: { type: number; limit?: number }) => a.type === 2 && a.limit === 5), 'and the preview action');
});

t.test("a rule whose other condition fails does not fire; entries without country rules play", async (t) => {
  await setProfile('1_rcit0qgs', adminsInUs);
  t.equal((await playManifest('1_rcit0qgs')).status, 200, 'an anonymous viewer: the AND fails at its first condition');
  t.equal((await playManifest('1_audio001')).status, 200, 'another entry');
});

t.test('the server names the profiles at start', async (t) => {
  const again = await startLoggingServer(t, { dataDir: s.dataDir });
  let line = '';
  for (let i = 0; i < 100 && !line; i++) {
    line = again.log().split('\n').find((l) => l.includes('no country database is configured')) ?? '';
    if (!line) await new Promise((r) => setTimeout(r, 20));
  }
  const entry = JSON.parse(line || '{}');
  t.equal(entry.level, 40, 'a warning');
  for (const id of [blockList, allowList, adminsInUs, previewInDe]) t.ok(entry.accessControlProfiles?.includes(`${id} (partner 309)`), `profile ${id} named`);
  t.match(entry.msg, /KDELIVER_GEOIP_FILE/);
});
