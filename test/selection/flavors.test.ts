// Flavor selection against Kaltura's rules (src/selection/flavors.ts), one table of cases per rule, over the sample
// library's real flavor records (and built flavors only where the library has no such case).
import t from 'tap';
import type { FlavorAsset } from '../../src/catalog/types.js';
import {
  defaultTagGroups, dropRedundant, keepFirst, ONE_FLAVOR_FORMATS, selectFlavors, type Selection, type SelectionInput,
} from '../../src/selection/flavors.js';
import { flavor, sampleCatalog } from './fixtures/sample-catalog.js';

const catalog = await sampleCatalog(t);
const rcit = await catalog.listFlavors('1_rcit0qgs');
const alt = await catalog.listFlavors('1_alt0audi');
const audio = await catalog.listFlavors('1_audio001');
const converting = await catalog.listFlavors('1_convert0');
const flavlim = await catalog.listFlavors('1_flavlim0');

const input = (flavors: readonly FlavorAsset[], over: Partial<SelectionInput> = {}): SelectionInput => ({
  flavors, format: 'applehttp', flavorIds: null, flavorParamIds: null, tags: null, minBitrate: null, maxBitrate: null,
  mediaPlaylist: false, limitFlavors: null, downloadAssetIds: [], ...over,
});
const ids = (s: Selection | readonly FlavorAsset[]) => ('flavors' in s ? s.flavors : s).map((f) => f.id);

t.test('the sample library has the records these cases assume', async (t) => {
  t.same(ids(rcit), ['1_f4rcit00', '1_f1rcit00', '1_f2rcit00', '1_f0rcit00', '1_f3rcit00'], 'ascending bitrate: 3gp 136, 240p 378, 360p 630, source 1136, 720p 1335');
  t.same(rcit.map((f) => f.bitrate), [136, 378, 630, 1136, 1335]);
  t.same(ids(alt), ['1_a1alt000', '1_a2alt000', '1_f1alt000', '1_f2alt000'], 'equal bitrates keep insertion order');
  t.same(converting.map((f) => f.status), [1, 1, 1, 1]);
});

t.test('candidates: READY flavors only', async (t) => {
  const notReady = rcit.map((f) => (f.id === '1_f2rcit00' ? { ...f, status: 1 } : f));
  const cases: [string, SelectionInput, string[]][] = [
    ['all READY', input(rcit), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['one converting', input(notReady), ['1_f1rcit00', '1_f3rcit00']],
    ['nothing READY (1_convert0)', input(converting), []],
    ['nothing READY, explicit source', input(converting, { flavorParamIds: [0] }), []],
    ['deleted (3) and error (-1) are not READY', input(rcit.map((f, i) => ({ ...f, status: i % 2 ? 3 : -1 }))), []],
  ];
  for (const [name, inp, want] of cases) t.same(ids(selectFlavors(inp)), want, name);
  const sel = selectFlavors(input(notReady));
  t.same(sel.dropped.find((d) => d.id === '1_f2rcit00'), { id: '1_f2rcit00', reason: 'not READY' }, 'the drop is recorded');
});

t.test('a flavor whose file the packager refuses is left out of the packaged formats only', async (t) => {
  const cut = flavor('0_cut00000', { bitrate: 300, packagingRefusal: 'track 1: its last chunk starts past the file' });
  const good = flavor('0_good0000', { bitrate: 600 });
  for (const format of ['applehttp', 'mpegdash', 'sl']) {
    const sel = selectFlavors(input([cut, good], { format, tags: [['mbr']] }));
    t.same(ids(sel), ['0_good0000'], format);
    t.same(sel.dropped, [{ id: '0_cut00000', reason: 'the packager refuses its file: track 1: its last chunk starts past the file' }], `${format}: said why`);
  }
  for (const format of ['url', 'http', 'download', 'hdnetworkmanifest']) {
    t.same(ids(selectFlavors(input([cut, good], { format, tags: [['mbr']] }))), ['0_cut00000', '0_good0000'], `${format}: a file still`);
  }
});

t.test('explicit ids, with the silent fallback to tags', async (t) => {
  const cases: [string, Partial<SelectionInput>, string[]][] = [
    ['one asset id', { flavorIds: ['1_f3rcit00'] }, ['1_f3rcit00']],
    ['asset ids keep bitrate order, not request order', { flavorIds: ['1_f3rcit00', '1_f1rcit00'] }, ['1_f1rcit00', '1_f3rcit00']],
    ['the source by asset id', { flavorIds: ['1_f0rcit00'] }, ['1_f0rcit00']],
    ['the 3gp by asset id', { flavorIds: ['1_f4rcit00'] }, ['1_f4rcit00']],
    ['one params id', { flavorParamIds: [301971] }, ['1_f3rcit00']],
    ['params id 0 is the source', { flavorParamIds: [0] }, ['1_f0rcit00']],
    ['several params ids', { flavorParamIds: [301961, 301991] }, ['1_f4rcit00', '1_f1rcit00']],
    ['asset ids win; params ids are not read', { flavorIds: ['1_f1rcit00'], flavorParamIds: [301971] }, ['1_f1rcit00']],
    ['unknown asset id falls back to the default tags', { flavorIds: ['1_nosuch00'] }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['another entry\'s asset falls back', { flavorIds: ['1_f1alt000'] }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['unknown params id falls back', { flavorParamIds: [999999] }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['unknown params id falls back to explicit tags', { flavorParamIds: [999999], tags: [['mobile']] }, ['1_f4rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['some ids match: only those', { flavorIds: ['1_nosuch00', '1_f2rcit00'] }, ['1_f2rcit00']],
    ['asset ids ignore tags', { flavorIds: ['1_f0rcit00'], tags: [['mbr']] }, ['1_f0rcit00']],
  ];
  for (const [name, over, want] of cases) t.same(ids(selectFlavors(input(rcit, over))), want, name);

  const fallback = selectFlavors(input(rcit, { flavorIds: ['1_nosuch00'] }));
  t.match(fallback.chosenBy, /^flavorIds matched nothing; fell back to tags \[applembr\]$/);
  t.equal(selectFlavors(input(rcit, { flavorParamIds: [0] })).chosenBy, 'flavorParamIds');
  const nonReady = rcit.map((f) => (f.id === '1_f3rcit00' ? { ...f, status: 1 } : f));
  t.same(ids(selectFlavors(input(nonReady, { flavorIds: ['1_f3rcit00'] }))), ['1_f1rcit00', '1_f2rcit00'], 'a non-READY id falls back too');
});

t.test('default tag groups by format', async (t) => {
  const applembr = [['applembr'], ['ipadnew', 'iphonenew'], ['ipad', 'iphone']];
  const mbrWeb = [['mbr'], ['web']];
  const cases: [string, string[][]][] = [
    ['applehttp', applembr], ['hds', applembr], ['mpegdash', [['dash'], ['ipadnew', 'iphonenew'], ['ipad', 'iphone']]],
    ['sl', [['ipadnew', 'iphonenew']]], ['http', mbrWeb], ['url', mbrWeb], ['download', mbrWeb],
    ['hdnetworkmanifest', mbrWeb], ['hdnetwork', mbrWeb], ['rtmp', mbrWeb], ['rtsp', mbrWeb], ['hls', mbrWeb], ['auto', mbrWeb],
  ];
  for (const [format, want] of cases) t.same(defaultTagGroups(format, rcit), want, format);
  t.same(defaultTagGroups('sl', [...rcit, flavor('1_ism', { tags: ['ism'] })]), [['ism']], 'sl with an ISM flavor');
});

t.test('tag selection: the first group any flavor carries wins, exact tags, bitrate order', async (t) => {
  const ipadOnly = [flavor('v1', { bitrate: 300, tags: ['ipad'] }), flavor('v2', { bitrate: 500, tags: ['iphone'] }), flavor('v3', { bitrate: 900, tags: ['web'] })];
  const newOnly = [flavor('n1', { bitrate: 300, tags: ['iphonenew'] }), flavor('n2', { bitrate: 500, tags: ['ipad'] }), flavor('n3', { bitrate: 900, tags: ['ipadnew'] })];
  const webOnly = [flavor('w1', { bitrate: 300, tags: ['web'] }), flavor('w2', { bitrate: 500, tags: ['webm', 'mbr2'] })];
  const ism = [flavor('i1', { bitrate: 300, tags: ['ism'] }), flavor('i2', { bitrate: 500, tags: ['iphonenew'] })];
  const cases: [string, SelectionInput, string[]][] = [
    ['applehttp on the sample: applembr', input(rcit), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['mpegdash on the sample: dash', input(rcit, { format: 'mpegdash' }), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['url on the sample: mbr (the 3gp and the source have no mbr)', input(rcit, { format: 'url' }), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['sl on the sample: ipadnew/iphonenew', input(rcit, { format: 'sl' }), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['explicit tags: mobile', input(rcit, { tags: [['mobile']] }), ['1_f4rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['explicit tags: source', input(rcit, { tags: [['source']] }), ['1_f0rcit00']],
    ['explicit tags: the first group with a match wins', input(rcit, { tags: [['nosuch'], ['ipad'], ['mbr']] }), ['1_f3rcit00']],
    ['explicit tags: nothing matches', input(rcit, { tags: [['nosuch'], ['other']] }), []],
    ['applehttp: third group when only ipad/iphone', input(ipadOnly), ['v1', 'v2']],
    ['applehttp: second group is any of ipadnew, iphonenew', input(newOnly), ['n1', 'n3']],
    ['url: web when nothing has mbr; tags match exactly (webm, mbr2 are not web, mbr)', input(webOnly, { format: 'url' }), ['w1']],
    ['sl with an ISM flavor: only ism', input(ism, { format: 'sl' }), ['i1']],
    ['sl without: ipadnew/iphonenew', input(ism.slice(1), { format: 'sl' }), ['i2']],
    ['http on the audio entry: mbr', input(audio, { format: 'http' }), ['1_f1audio0']],
    ['applehttp on the alt-audio entry: applembr, then alt audio appended', input(alt), ['1_f1alt000', '1_f2alt000', '1_a1alt000', '1_a2alt000']],
  ];
  for (const [name, inp, want] of cases) t.same(ids(selectFlavors(inp)), want, name);
  t.equal(selectFlavors(input(rcit)).chosenBy, 'tags [applembr]');
  t.match(selectFlavors(input(rcit, { tags: [['nosuch']] })).chosenBy, /none matched/);
  const notChosen = selectFlavors(input(rcit)).dropped.map((d) => d.id).sort();
  t.same(notChosen, ['1_f0rcit00', '1_f4rcit00'], 'the source and the 3gp are recorded as not chosen');
});

t.test('alt audio joins applehttp, mpegdash and sl only, and not in media-playlist mode', async (t) => {
  const video = ['1_f1alt000', '1_f2alt000'];
  const withAudio = [...video, '1_a1alt000', '1_a2alt000'];
  const cases: [string, Partial<SelectionInput>, string[]][] = [
    ['applehttp', { format: 'applehttp' }, withAudio],
    ['mpegdash', { format: 'mpegdash' }, withAudio],
    ['sl', { format: 'sl' }, withAudio],
    ['applehttp, type/media', { format: 'applehttp', mediaPlaylist: true }, video],
    ['url', { format: 'url' }, video],
    ['http', { format: 'http' }, video],
    ['hdnetworkmanifest', { format: 'hdnetworkmanifest' }, video],
    ['rtmp', { format: 'rtmp' }, video],
    ['after explicit ids too', { format: 'applehttp', flavorIds: ['1_f2alt000'] }, ['1_f2alt000', '1_a1alt000', '1_a2alt000']],
    ['an alt audio asked by id is not repeated', { format: 'applehttp', flavorIds: ['1_f1alt000', '1_a2alt000'] }, ['1_a2alt000', '1_f1alt000', '1_a1alt000']],
    ['after explicit tags too', { format: 'mpegdash', tags: [['mobile']] }, ['1_f2alt000', '1_a1alt000', '1_a2alt000']],
  ];
  for (const [name, over, want] of cases) t.same(ids(selectFlavors(input(alt, over))), want, name);
  const sel = selectFlavors(input(alt));
  t.same(sel.dropped, [], 'appended alt audio is no longer listed as dropped');
  const notReadyAudio = alt.map((f) => (f.id === '1_a2alt000' ? { ...f, status: 1 } : f));
  t.same(ids(selectFlavors(input(notReadyAudio))), ['1_f1alt000', '1_f2alt000', '1_a1alt000'], 'only READY alt audio');
});

t.test('bitrate filters, audio never dropped, keep-if-empty', async (t) => {
  const cases: [string, readonly FlavorAsset[], Partial<SelectionInput>, string[]][] = [
    ['max 700', rcit, { maxBitrate: 700 }, ['1_f1rcit00', '1_f2rcit00']],
    ['max equal to a bitrate keeps it', rcit, { maxBitrate: 630 }, ['1_f1rcit00', '1_f2rcit00']],
    ['max just under', rcit, { maxBitrate: 629 }, ['1_f1rcit00']],
    ['min 500', rcit, { minBitrate: 500 }, ['1_f2rcit00', '1_f3rcit00']],
    ['min equal to a bitrate keeps it', rcit, { minBitrate: 1335 }, ['1_f3rcit00']],
    ['min 400 max 700', rcit, { minBitrate: 400, maxBitrate: 700 }, ['1_f2rcit00']],
    ['max below everything: unfiltered', rcit, { maxBitrate: 100 }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['min above everything: unfiltered', rcit, { minBitrate: 5000 }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['empty window: unfiltered', rcit, { minBitrate: 700, maxBitrate: 800 }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['filters run after id selection', rcit, { flavorIds: ['1_f1rcit00', '1_f3rcit00'], maxBitrate: 1000 }, ['1_f1rcit00']],
    ['alt audio stays below min', alt, { minBitrate: 500 }, ['1_f2alt000', '1_a1alt000', '1_a2alt000']],
    ['alt audio stays above max', alt, { maxBitrate: 400 }, ['1_f1alt000', '1_a1alt000', '1_a2alt000']],
    ['audio_only stays above max', audio, { format: 'applehttp', maxBitrate: 50 }, ['1_f1audio0']],
    ['audio_only stays below min', audio, { format: 'applehttp', minBitrate: 500 }, ['1_f1audio0']],
  ];
  for (const [name, flavors, over, want] of cases) t.same(ids(selectFlavors(input(flavors, over))), want, name);
  const sel = selectFlavors(input(rcit, { maxBitrate: 700 }));
  t.same(sel.dropped.find((d) => d.id === '1_f3rcit00'), { id: '1_f3rcit00', reason: 'bitrate 1335 outside 0-700 kbit/s' });
  t.equal(selectFlavors(input(rcit, { maxBitrate: 100 })).dropped.some((d) => d.reason.startsWith('bitrate')), false, 'a filter not applied drops nothing');
});

t.test('access control LIMIT_FLAVORS, and downloadasset overriding it', async (t) => {
  const allow240 = { flavorParamsIds: [301961], isBlockedList: false };
  const block240 = { flavorParamsIds: [301961], isBlockedList: true };
  const cases: [string, readonly FlavorAsset[], Partial<SelectionInput>, string[]][] = [
    ['allow-list (1_flavlim0, applehttp)', flavlim, { limitFlavors: allow240 }, ['1_f1flim00']],
    ['allow-list, url', flavlim, { format: 'url', limitFlavors: allow240 }, ['1_f1flim00']],
    ['allow-list, asked for 720p by params id: falls back to tags within the allowed', flavlim, { limitFlavors: allow240, flavorParamIds: [301971] }, ['1_f1flim00']],
    ['allow-list, source by params id 0: falls back', flavlim, { limitFlavors: allow240, flavorParamIds: [0] }, ['1_f1flim00']],
    ['block-list', rcit, { limitFlavors: block240 }, ['1_f2rcit00', '1_f3rcit00']],
    ['allow-list of nothing usable', rcit, { limitFlavors: { flavorParamsIds: [0], isBlockedList: false } }, []],
    ['allow-list of the source, asked by tag source', rcit, { limitFlavors: { flavorParamsIds: [0], isBlockedList: false }, tags: [['source']] }, ['1_f0rcit00']],
    ['downloadasset lets its asset through', flavlim, { limitFlavors: allow240, downloadAssetIds: ['1_f3flim00'] }, ['1_f1flim00', '1_f3flim00']],
    ['downloadasset through a block-list', rcit, { limitFlavors: block240, downloadAssetIds: ['1_f1rcit00'] }, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
  ];
  for (const [name, flavors, over, want] of cases) t.same(ids(selectFlavors(input(flavors, over))), want, name);
});

t.test('one-flavor formats keep the first (lowest-bitrate mbr, else web) flavor', async (t) => {
  t.same([...ONE_FLAVOR_FORMATS].sort(), ['download', 'http', 'rtsp', 'url']);
  const cases: [string, readonly FlavorAsset[], Partial<SelectionInput>, string[]][] = [
    ['url, default tags', rcit, { format: 'url' }, ['1_f1rcit00']],
    ['download, params id', rcit, { format: 'download', flavorParamIds: [301971] }, ['1_f3rcit00']],
    ['http, two asset ids', rcit, { format: 'http', flavorIds: ['1_f3rcit00', '1_f2rcit00'] }, ['1_f2rcit00']],
    ['url, min bitrate', rcit, { format: 'url', minBitrate: 500 }, ['1_f2rcit00']],
    ['url, the audio entry', audio, { format: 'url' }, ['1_f1audio0']],
    ['rtsp, web fallback', [flavor('w1', { bitrate: 900, tags: ['web'] }), flavor('w2', { bitrate: 1900, tags: ['web'] })], { format: 'rtsp' }, ['w1']],
  ];
  for (const [name, flavors, over, want] of cases) t.same(ids(keepFirst(selectFlavors(input(flavors, over)))), want, name);
  const kept = keepFirst(selectFlavors(input(rcit, { format: 'url' })));
  t.same(kept.dropped.filter((d) => d.reason === 'format delivers one flavor').map((d) => d.id), ['1_f2rcit00', '1_f3rcit00']);
  const one = selectFlavors(input(rcit, { flavorIds: ['1_f1rcit00'] }));
  t.equal(keepFirst(one), one, 'a single flavor is returned as it is');
});

t.test('redundant-flavor optimisation', async (t) => {
  const v = (id: string, w: number, h: number, bitrate: number, tags: string[] = ['mbr']) => flavor(id, { width: w, height: h, bitrate, tags });
  const sel = (flavors: readonly FlavorAsset[]): Selection => ({ flavors: [...flavors], dropped: [], chosenBy: 'test' });
  const cases: [string, readonly FlavorAsset[], string[]][] = [
    ['the sample ladder: nothing redundant', selectFlavors(input(rcit)).flavors, ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']],
    ['the source vs the 720p (1136 vs 1335: 15 %)', [rcit[3], rcit[4]], ['1_f0rcit00', '1_f3rcit00']],
    ['same size, within 5 %', [v('a', 640, 360, 600), v('b', 640, 360, 620)], ['b']],
    ['same size, exactly 5 % of the larger', [v('a', 640, 360, 950), v('b', 640, 360, 1000)], ['b']],
    ['same size, just over 5 %', [v('a', 640, 360, 949), v('b', 640, 360, 1000)], ['a', 'b']],
    ['larger frame, within 5 %', [v('a', 640, 360, 600), v('b', 1280, 720, 610)], ['b']],
    ['larger frame but lower bitrate', [v('a', 640, 360, 610), v('b', 1280, 720, 600)], ['a', 'b']],
    ['smaller frame, higher bitrate within 5 %', [v('a', 1280, 720, 600), v('b', 640, 360, 610)], ['a', 'b']],
    ['twins: the later (higher id) stays', [v('a', 640, 360, 600), v('b', 640, 360, 600)], ['b']],
    ['a chain drops all but the top', [v('a', 640, 360, 600), v('b', 640, 360, 620), v('c', 640, 360, 640)], ['c']],
    ['audio (0x0) is never dropped', [v('x', 0, 0, 96, ['alt_audio']), v('y', 0, 0, 96, ['alt_audio']), v('z', 0, 0, 97, ['audio_only'])], ['x', 'y', 'z']],
    ['watermark is never dropped', [v('a', 640, 360, 600, ['mbr', 'watermark']), v('b', 640, 360, 620)], ['a', 'b']],
    ['the output keeps the input order', [v('big', 1280, 720, 2000), v('a', 640, 360, 600), v('b', 640, 360, 620)], ['big', 'b']],
    ['one flavor', [v('a', 640, 360, 600)], ['a']],
    ['alt-audio entry: audio stays, video distinct', selectFlavors(input(alt)).flavors, ['1_f1alt000', '1_f2alt000', '1_a1alt000', '1_a2alt000']],
  ];
  for (const [name, flavors, want] of cases) t.same(ids(dropRedundant(sel(flavors))), want, name);
  const twins = [v('a', 640, 360, 600), v('b', 640, 360, 620)];
  t.same(ids(dropRedundant(sel(twins), true)), ['a', 'b'], 'disabled by the partner feature');
  t.same(dropRedundant(sel(twins)).dropped, [{ id: 'a', reason: 'redundant: a larger flavor is within 5 % of its bitrate' }]);
});
