// api_v3 reads PHP-style bracket names (`filter[entryIdEqual]`) as the nested objects Kaltura gets
// from them, in query strings, form bodies, multipart bodies and multirequests, and a filter or
// pager property the server does not apply is refused rather than skipped: a skipped filter would
// answer with more than was asked for. The Content Delivery guide's curl lines run as written.
import t from 'tap';
import { propertiesOf, INPUT_CLASSES } from '../../src/api/filters.js';
import { startServer } from '../helpers/server.js';
import { rawRequest, runShell } from '../helpers/raw-http.js';
import { requireCommands } from '../helpers/system.js';
import { sqliteDb } from '../helpers/sqlite.js';

const ENTRY = '1_rcit0qgs';
const ENTRY_FLAVORS = ['1_f0rcit00', '1_f1rcit00', '1_f2rcit00', '1_f3rcit00', '1_f4rcit00'];

t.test('bracket keys and closed filters over HTTP', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const ks = JSON.parse((await rawRequest(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).body.toString()) as string;
  const form = (path: string, body: string) => rawRequest(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    .then((r) => JSON.parse(r.body.toString()));
  const get = (query: string) => rawRequest(`${api}/index.php?${query}`).then((r) => JSON.parse(r.body.toString()));
  const ksq = `ks=${encodeURIComponent(ks)}`;
  const ids = (list: { objects: { id: string }[] }) => list.objects.map((o) => o.id).sort();

  // the partner has flavors of other entries too, so an ignored filter shows
  const everyFlavor = await form('/service/flavorAsset/action/list', `${ksq}&format=1&pager[pageSize]=500`);
  t.ok(everyFlavor.totalCount > ENTRY_FLAVORS.length, `the partner has ${everyFlavor.totalCount} flavors`);

  await t.test('the Content Delivery guide, section 6, as curl runs it', async (t) => {
    requireCommands(t, ['curl'], 'curl');
    const vars = { SERVICE_URL: api, KS: ks, ENTRY_ID: ENTRY, FLAVOR_ASSET_ID: '1_f1rcit00' };
    // 6.2, exactly as printed
    const list = JSON.parse(await runShell(`curl -X POST "$SERVICE_URL/service/flavorAsset/action/list" \\
  -d "ks=$KS" \\
  -d "format=1" \\
  -d "filter[entryIdEqual]=$ENTRY_ID"`, vars));
    t.equal(list.objectType, 'KalturaFlavorAssetListResponse');
    t.equal(list.totalCount, ENTRY_FLAVORS.length, 'only the flavors of the entry');
    t.same(ids(list), ENTRY_FLAVORS);
    for (const f of list.objects) t.equal(f.entryId, ENTRY);
    // 6.1 and 6.3, exactly as printed
    const url = JSON.parse(await runShell(`curl -X POST "$SERVICE_URL/service/flavorAsset/action/getUrl" \\
  -d "ks=$KS" \\
  -d "format=1" \\
  -d "id=$FLAVOR_ASSET_ID"`, vars));
    t.match(url, `/playManifest/entryId/${ENTRY}/flavorId/1_f1rcit00/`);
    const withParams = JSON.parse(await runShell(`curl -X POST "$SERVICE_URL/service/flavorAsset/action/getFlavorAssetsWithParams" \\
  -d "ks=$KS" \\
  -d "format=1" \\
  -d "entryId=$ENTRY_ID"`, vars));
    t.same(withParams.map((x: { flavorAsset: { id: string } }) => x.flavorAsset.id).sort(), ENTRY_FLAVORS);
  });

  await t.test('every spelling names the same nested object', async (t) => {
    const expect = (list: { totalCount: number; objects: { id: string }[] }, what: string) => {
      t.equal(list.totalCount, ENTRY_FLAVORS.length, what);
      t.same(ids(list), ENTRY_FLAVORS, what);
    };
    expect(await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter:entryIdEqual=${ENTRY}`), 'a:b (Kaltura\'s own form)');
    expect(await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter%5BentryIdEqual%5D=${ENTRY}`), 'percent-encoded brackets in a form body');
    expect(await get(`service=flavorAsset&action=list&${ksq}&format=1&filter[entryIdEqual]=${ENTRY}`), 'brackets in a query string');
    expect(await get(`service=flavorAsset&action=list&${ksq}&format=1&filter%5BentryIdEqual%5D=${ENTRY}`), 'percent-encoded brackets in a query string');
    expect(await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdIn]=${ENTRY},1_audio001&filter[entryIdEqual]=${ENTRY}`), 'two properties of one object');
    const b = 'xYz123';
    const multipart = [`--${b}`, 'Content-Disposition: form-data; name="ks"', '', ks, `--${b}`, 'Content-Disposition: form-data; name="format"', '', '1',
      `--${b}`, 'Content-Disposition: form-data; name="filter[entryIdEqual]"', '', ENTRY, `--${b}--`, ''].join('\r\n');
    expect(JSON.parse((await rawRequest(`${api}/service/flavorAsset/action/list`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${b}` }, body: multipart })).body.toString()),
      'a multipart field');
    const first = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdEqual]=${ENTRY}&filter:entryIdEqual=1_audio001`);
    expect(first, 'a name given twice in two spellings: the first wins, as for a repeated name');
    const pager = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdEqual]=${ENTRY}&pager[pageSize]=2&pager[pageIndex]=2`);
    t.equal(pager.totalCount, ENTRY_FLAVORS.length);
    t.equal(pager.objects.length, 2, 'the pager too');
  });

  await t.test('multirequest', async (t) => {
    const body = `${ksq}&format=1&1[service]=flavorAsset&1[action]=list&1[filter][entryIdEqual]=${ENTRY}`
      + '&2[service]=baseEntry&2[action]=list&2[filter][idEqual]=1_audio001'
      + '&3[service]=flavorAsset&3[action]=list&3[filter][entryIdEqual]={2:result:objects:0:id}';
    const out = await form('/service/multirequest', body);
    t.equal(out.length, 3);
    t.same(ids(out[0]), ENTRY_FLAVORS, '1[filter][entryIdEqual]');
    t.same(ids(out[1]), ['1_audio001'], '2[filter][idEqual]');
    t.ok(out[2].totalCount > 0 && out[2].objects.every((f: { entryId: string }) => f.entryId === '1_audio001'), 'with a dependency token');
    const inQuery = await get(`service=multirequest&${ksq}&format=1&1[service]=flavorAsset&1[action]=list&1[filter][entryIdEqual]=${ENTRY}&1[pager][pageSize]=1`);
    t.equal(inQuery[0].totalCount, ENTRY_FLAVORS.length, 'in a query string');
    t.equal(inQuery[0].objects.length, 1);
    const mixed = await form('/service/multirequest', `${ksq}&format=1&1:service=flavorAsset&1[action]=list&1:filter[entryIdEqual]=${ENTRY}`);
    t.same(ids(mixed[0]), ENTRY_FLAVORS, 'both spellings in one name');
  });

  await t.test('a property the server does not apply is refused, never skipped', async (t) => {
    const typo = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdEqul]=${ENTRY}`);
    t.same(typo, {
      code: 'PROPERTY_IS_NOT_DEFINED', message: 'The property "entryIdEqul" is not defined on type "KalturaFlavorAssetFilter"',
      objectType: 'KalturaAPIException', args: { PROP: 'entryIdEqul', TYPE: 'KalturaFlavorAssetFilter' },
    }, 'a mistyped filter property');
    t.match(await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[tagsLike]=x`), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'tagsLike', TYPE: 'KalturaBaseEntryFilter' } }, 'a Kaltura property this server does not implement');
    t.match(await form('/service/media/action/list', `${ksq}&format=1&filter[categoriesIdsMatchAnd]=1`), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'categoriesIdsMatchAnd' } }, 'categories (none are kept)');
    t.match(await form('/service/baseEntry/action/list', `${ksq}&format=1&pager[pageSiz]=1`), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'pageSiz', TYPE: 'KalturaFilterPager' } }, 'a pager property');
    t.match(await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[advancedSearch][objectType]=KalturaSearchOperator`), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'advancedSearch' } }, 'a nested search object');
    t.match(await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[nope__null]=`), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'nope' } }, 'an unknown property set to null');
    const ok = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[objectType]=KalturaAssetFilter&filter[entryIdEqual]=${ENTRY}&filter[idIn__null]=`);
    t.equal(ok.totalCount, ENTRY_FLAVORS.length, 'objectType and a known property set to null are fine');
    const batch = await form('/service/multirequest', `${ksq}&format=1&1[service]=flavorAsset&1[action]=list&1[filter][entryIdEqul]=${ENTRY}&2[service]=system&2[action]=ping`);
    t.match(batch[0], { code: 'PROPERTY_IS_NOT_DEFINED', objectType: 'KalturaAPIException' }, 'in a multirequest the error takes its slot');
    t.equal(batch[1], true);
    const json = await rawRequest(`${api}/service/baseEntry/action/list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks, format: 1, filter: { objectType: 'KalturaBaseEntryFilter', idEqualz: ENTRY } }) });
    t.match(JSON.parse(json.body.toString()), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'idEqualz' } }, 'in a JSON body');
  });

  await t.test('a name that starts like a filter but does not parse is refused, never ignored', async (t) => {
    // before, each of these was a top-level name no action reads: the filter went unset and the
    // list answered with every flavor of the partner
    for (const [name, how] of [
      ['filter.entryIdEqual', 'a dot instead of a colon'],
      ['filter[entryIdEqual', 'an unclosed bracket'],
      ['filter%5BentryIdEqual', 'an unclosed bracket, percent-encoded'],
      ['pager.pageSize', 'the pager, with a dot'],
    ]) {
      const r = await form('/service/flavorAsset/action/list', `${ksq}&format=1&${name}=${ENTRY}`);
      const sent = decodeURIComponent(name);
      t.same(r, {
        code: 'PROPERTY_IS_NOT_DEFINED', message: `The property "${sent}" is not defined on type "${sent.startsWith('pager') ? 'KalturaFilterPager' : 'KalturaFlavorAssetFilter'}"`,
        objectType: 'KalturaAPIException', args: { PROP: sent, TYPE: sent.startsWith('pager') ? 'KalturaFilterPager' : 'KalturaFlavorAssetFilter' },
      }, `${how}: ${sent}`);
    }
    t.match(await get(`service=flavorAsset&action=list&${ksq}&format=1&filter.entryIdEqual=${ENTRY}`), { code: 'PROPERTY_IS_NOT_DEFINED' }, 'in a query string');
    const json = await rawRequest(`${api}/service/flavorAsset/action/list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks, format: 1, 'filter.entryIdEqual': ENTRY }) });
    t.match(JSON.parse(json.body.toString()), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'filter.entryIdEqual' } }, 'in a JSON body');
    const batch = await form('/service/multirequest', `${ksq}&format=1&1[service]=flavorAsset&1[action]=list&1[filter.entryIdEqual]=${ENTRY}&2[service]=system&2[action]=ping`);
    t.match(batch[0], { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'filter.entryIdEqual' } }, 'in a multirequest');
    t.equal(batch[1], true);
    // names that only share a prefix with the parameter are other names, ignored as Kaltura ignores unknown parameters
    const other = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filterX=1&filter[entryIdEqual]=${ENTRY}`);
    t.equal(other.totalCount, ENTRY_FLAVORS.length, 'filterX is not the filter');
  });

  // every property each list action accepts, given a value that matches nothing, must empty the
  // list: a property that is accepted and then ignored would leave it full
  const LISTS: { service: string; filter: string; unfiltered: boolean }[] = [
    { service: 'baseEntry', filter: 'KalturaBaseEntryFilter', unfiltered: true },
    { service: 'media', filter: 'KalturaMediaEntryFilter', unfiltered: true },
    { service: 'flavorAsset', filter: 'KalturaFlavorAssetFilter', unfiltered: true },
    { service: 'flavorParams', filter: 'KalturaFlavorParamsFilter', unfiltered: true },
    { service: 'caption_captionAsset', filter: 'KalturaAssetFilter', unfiltered: true },
    { service: 'conversionProfile', filter: 'KalturaConversionProfileFilter', unfiltered: true },
    { service: 'metadata_metadata', filter: 'KalturaMetadataFilter', unfiltered: false },
    { service: 'thumbAsset', filter: 'KalturaThumbAssetFilter', unfiltered: false },
    { service: 'accessControlProfile', filter: 'KalturaAccessControlProfileFilter', unfiltered: true },
    { service: 'deliveryProfile', filter: 'KalturaDeliveryProfileFilter', unfiltered: true },
  ];
  /** Properties that order rather than narrow (checked by the order they give, below). */
  const ORDERING = new Set(['orderBy']);
  const typeOf = (cls: string, prop: string): string => {
    const c = INPUT_CLASSES.find((x) => x.name === cls)!;
    const own = c.props.split(',').find((p) => p.startsWith(`${prop}:`));
    return own ? own.slice(prop.length + 1) : typeOf(c.base!, prop);
  };
  await t.test('every accepted filter property is applied', async (t) => {
    t.same(new Set(LISTS.map((l) => l.filter)), new Set(INPUT_CLASSES.map((c) => c.name).filter((n) => n.endsWith('Filter'))), 'every filter class is a list action\'s');
    for (const l of LISTS) {
      const all = await form(`/service/${l.service}/action/list`, `${ksq}&format=1`);
      t.equal(all.objectType?.endsWith('ListResponse'), true, `${l.service}.list answers a list`);
      if (l.unfiltered) t.ok(all.totalCount > 0, `${l.service}.list without a filter has something to narrow`);
      for (const prop of propertiesOf(l.filter)) {
        if (ORDERING.has(prop)) continue;
        const type = typeOf(l.filter, prop);
        const negated = /^(\w+?)Not(Equal|In)$/.exec(prop);
        if (negated) {
          // a "not" field, given the value of an object the list holds without it: that object, and
          // every other with the value, is left out
          const field = negated[1];
          const first = all.objects[0];
          const r = await form(`/service/${l.service}/action/list`, `${ksq}&format=1&filter[${prop}]=${first[field]}&pager[pageSize]=500`);
          t.ok(r.objects && !r.objects.some((o: Record<string, unknown>) => o[field] === first[field] || o.id === first.id), `${l.service}.list filter[${prop}]=${first[field]} leaves out every object with ${field} ${first[field]}`);
          continue;
        }
        // a time far in the future: every entry was created before it
        const value = type === 'string' ? 'zz-no-such-value' : type === 'time' ? '4102444800' : '999999';
        const r = await form(`/service/${l.service}/action/list`, `${ksq}&format=1&filter[${prop}]=${value}`);
        t.same({ totalCount: r.totalCount, objects: r.objects?.length }, { totalCount: 0, objects: 0 }, `${l.service}.list filter[${prop}]=${value} matches nothing`);
      }
      const far = await form(`/service/${l.service}/action/list`, `${ksq}&format=1&pager[pageSize]=1&pager[pageIndex]=999`);
      t.equal(far.objects?.length, 0, `${l.service}.list applies the pager`);
    }
  });

  await t.test('orderBy orders entries, and an order this server does not have is refused', async (t) => {
    const asc = await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[orderBy]=%2BcreatedAt&pager[pageSize]=500`);
    const desc = await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[orderBy]=-createdAt&pager[pageSize]=500`);
    const times = (l: { objects: { createdAt: number }[] }) => l.objects.map((o) => o.createdAt);
    t.same(times(asc), [...times(asc)].sort((a, b) => a - b), '+createdAt: oldest first');
    t.same(times(desc), [...times(desc)].sort((a, b) => b - a), '-createdAt: newest first');
    t.equal(asc.totalCount, desc.totalCount);
    const byName = await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[orderBy]=%2Bname&pager[pageSize]=500`);
    const names = byName.objects.map((o: { name: string }) => o.name);
    t.same(names, [...names].sort((a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)), '+name');
    t.match(await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[orderBy]=%2Bviews`), { code: 'INVALID_ENUM_VALUE', args: { PARAM_NAME: 'filter:orderBy' } }, 'an order not kept is refused');
  });

  await t.test('fields that apply together narrow together', async (t) => {
    const both = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdIn]=${ENTRY},1_audio001&filter[entryIdEqual]=1_audio001`);
    t.ok(both.totalCount > 0 && both.objects.every((f: { entryId: string }) => f.entryId === '1_audio001'), 'entryIdIn and entryIdEqual: both apply');
    const statuses = await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[statusEqual]=2&filter[statusIn]=7`);
    t.equal(statuses.totalCount, 0, 'statusEqual and statusIn: both apply');
    const tags = await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdEqual]=${ENTRY}&filter[tagsLike]=WEB,MBR`);
    const tagged = (await form('/service/flavorAsset/action/list', `${ksq}&format=1&filter[entryIdEqual]=${ENTRY}`)).objects
      .filter((f: { tags: string }) => f.tags.includes('web,mbr')).map((f: { id: string }) => f.id).sort();
    t.ok(tagged.length > 0 && tagged.length < ENTRY_FLAVORS.length, `${tagged.length} flavors have "web,mbr" in their tags`);
    t.same(ids(tags), tagged, 'tagsLike matches within the comma-joined tags, ignoring case');
  });

  await t.test('redirectFromEntryId: the entry, or the READY entry it redirects to', async (t) => {
    const db = sqliteDb(s.app.catalog);
    t.same(ids(await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[redirectFromEntryId]=${ENTRY}`)), [ENTRY]);
    db.prepare('UPDATE entries SET redirect_entry_id = ? WHERE id = ?').run('1_audio001', ENTRY);
    t.same(ids(await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[redirectFromEntryId]=${ENTRY}`)), ['1_audio001'], 'redirected');
    db.prepare('UPDATE entries SET status = 1 WHERE id = ?').run('1_audio001');
    t.same(ids(await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[redirectFromEntryId]=${ENTRY}`)), [ENTRY], 'not while the target is not READY');
    db.prepare('UPDATE entries SET status = 2 WHERE id = ?').run('1_audio001');
    db.prepare('UPDATE entries SET redirect_entry_id = NULL WHERE id = ?').run(ENTRY);
    t.same(ids(await form('/service/baseEntry/action/list', `${ksq}&format=1&filter[redirectFromEntryId]=1_secure01`)), [], 'another partner\'s entry is no entry');
  });
});
