// The api_v3 core on its own: parameter reading, argument checks, the multirequest runner,
// serializers, the error catalogue and the front controller, driven through a small registry of
// real service modules written for the test (the core is what is under test here).
import t from 'tap';
import { keyPath, mergeRequestParams, parseBody, pathPairs, queryParams, unflatten } from '../../src/api/params.js';
import { readArgs, readPager } from '../../src/api/args.js';
import { ApiError, API_ERRORS, defineApiErrors, fillTemplate, toExceptionObject } from '../../src/api/errors.js';
import { replaceTokens, resolvePath, runMultiRequest, subRequests } from '../../src/api/multirequest.js';
import { serialize } from '../../src/api/serializers/index.js';
import { phpSerialize } from '../../src/api/serializers/php.js';
import { createRegistry } from '../../src/api/dispatch.js';
import { handleApiRequest } from '../../src/api/front-controller.js';
import { apiSchemaXml } from '../../src/api/schema.js';
import type { ApiEnv, ServiceModule } from '../../src/api/types.js';

t.test('flattened keys, path pairs, precedence', async (t) => {
  t.same(unflatten({ 'filter:objectType': 'KalturaMediaEntryFilter', 'filter:idEqual': '0_abc', 'pager:pageSize': '10' }),
    { filter: { objectType: 'KalturaMediaEntryFilter', idEqual: '0_abc' }, pager: { pageSize: '10' } });
  t.same(unflatten({ '__proto__:x': '1', 'a:constructor:b': '2' }), { a: {} }, 'prototype keys are dropped');
  t.same(pathPairs('/index.php/service/baseEntry/action/get/entryId/1_x/a.m3u8'), { service: 'baseEntry', action: 'get', entryId: '1_x' });
  t.same(pathPairs('/service/multirequest'), { service: 'multirequest' });
  t.same(unflatten({ [Array(100).fill('a').join(':')]: 'deep', ok: '1' }), { ok: '1' }, 'keys deeper than any Kaltura object are dropped');
  const merged = mergeRequestParams(pathPairs('/service/s/action/a/format/1'), queryParams('format=2&x=q&f:a=1'), { format: '3', x: 'b', y: 'b', f: { b: '2' } });
  t.same(merged, { format: '1', x: 'q', y: 'b', f: { a: '1', b: '2' }, service: 's', action: 'a' }, 'path > query > body, objects merge');
});

t.test('PHP bracket names: the same paths as a:b:c', async (t) => {
  t.same(keyPath('filter[entryIdEqual]'), ['filter', 'entryIdEqual']);
  t.same(keyPath('1[filter][entryIdEqual]'), ['1', 'filter', 'entryIdEqual']);
  t.same(keyPath('1:filter[advancedSearch:items][0]'), ['1', 'filter', 'advancedSearch', 'items', '0'], 'mixed with colons');
  t.same(keyPath('a[b]junk[c]'), ['a', 'b'], 'after the last ], PHP ignores the rest');
  t.same(keyPath('a[b'), ['a[b'], 'an unclosed first [ leaves the name as it is');
  t.same(keyPath('a[b][c'), ['a', 'b'], 'an unclosed later [ ends the path');
  t.equal(keyPath('[a]'), null, 'no base name: dropped, as PHP drops it');
  t.same(queryParams('filter[entryIdEqual]=1_x&filter:entryIdEqual=2&ks=k'), { 'filter:entryIdEqual': '1_x', ks: 'k' }, 'one name in two spellings: the first wins');
  t.same(unflatten(queryParams('a[]=x&a[]=y&a[7]=z&a[]=w&b[c][]=1')), { a: { 0: 'x', 1: 'y', 7: 'z', 8: 'w' }, b: { c: { 0: '1' } } }, '[] appends after the largest index');
  t.same(parseBody('application/x-www-form-urlencoded', Buffer.from('1[service]=media&1[filter][nameLike]=my%20entry&format=1')).params,
    { 1: { service: 'media', filter: { nameLike: 'my entry' } }, format: '1' });
  t.same(pathPairs('/service/s/action/a/filter[idEqual]/0_x'), { service: 's', action: 'a', filter: { idEqual: '0_x' } });
  t.same(unflatten({ 'f[x]': 1, g: { 'h[i]': 2 } }), { f: { x: 1 }, g: { h: { i: 2 } } }, 'JSON keys too');
  t.same(unflatten(queryParams('__proto__[x]=1&a[constructor][b]=2&a[ok]=3')), { a: { ok: '3' } }, 'prototype keys are dropped');
  t.same(unflatten(queryParams(`${'a'}${'[a]'.repeat(100)}=deep&ok=1`)), { ok: '1' }, 'too deep: dropped');
});

t.test('bodies: JSON with charset, form, multipart json field', async (t) => {
  t.same(parseBody('application/json; charset=utf-8', Buffer.from('{"a":{"b":1}}')).params, { a: { b: 1 } });
  t.same(parseBody('application/json', Buffer.from('[1,2]')).params, {}, 'a JSON body must be an object');
  t.throws(() => parseBody('application/json', Buffer.from('{nope}')));
  t.same(parseBody('application/x-www-form-urlencoded', Buffer.from('1:service=media&1:filter:nameLike=my%20entry')).params,
    { 1: { service: 'media', filter: { nameLike: 'my entry' } } });
  const b = '----x';
  const body = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"entryId":"1_x","format":1}\r\n`
    + `--${b}\r\nContent-Disposition: form-data; name="fileData"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\nBYTES\r\n--${b}--\r\n`);
  const mp = parseBody(`multipart/form-data; boundary=${b}`, body);
  t.same(mp.params, { entryId: '1_x', format: 1 });
  t.equal(mp.files.length, 1);
  t.equal(mp.files[0].data.toString(), 'BYTES');
  t.equal(mp.files[0].fileName, 'a.bin');
});

t.test('arguments: types, enums, mandatory, null, lengths, objects', async (t) => {
  const spec = {
    returns: 'string', handler: () => null,
    params: {
      id: { type: 'string', required: true, maxLength: 5 },
      type: { type: 'int', enumValues: [0, 2], kalturaType: 'KalturaSessionType', default: 0 },
      flag: { type: 'bool', default: false },
      filter: { type: 'object' },
      items: { type: 'array' },
    },
  } as const;
  t.same(readArgs(spec as any, { id: 'ab', type: '2', flag: '1', filter: { idEqual: 'x', name__null: '' }, items: { 1: 'b', 0: 'a' }, unknown: 'ignored' }, []),
    { id: 'ab', type: 2, flag: true, filter: { idEqual: 'x', name: null }, items: ['a', 'b'] });
  t.same(readArgs(spec as any, { id: 'ab', type: 'false' }, []), { id: 'ab', type: 0, flag: false, filter: null, items: null }, 'false is 0 for an enum');
  const err = (params: Record<string, unknown>) => { try { readArgs(spec as any, params, []); return null; } catch (e) { return e as ApiError; } };
  t.equal(err({})?.code, 'MISSING_MANDATORY_PARAMETER');
  t.equal(err({})?.message, 'Missing parameter "id"');
  t.equal(err({ id: 'x', type: '7' })?.code, 'INVALID_ENUM_VALUE');
  t.match(err({ id: 'x', type: '7' })?.message, /Invalid enumeration value "7" for parameter "type", expecting enumeration type "KalturaSessionType"/);
  t.equal(err({ id: 'toolong' })?.code, 'PROPERTY_VALIDATION_MAX_LENGTH');
  t.equal(err({ id__null: '' })?.code, 'PROPERTY_VALIDATION_CANNOT_BE_NULL');
  t.equal(err({ id: 'x', filter: { objectType: '<bad>' } })?.code, 'INVALID_OBJECT_TYPE');
  t.equal(err({ id: 'x', filter: 'scalar' })?.code, 'INVALID_OBJECT_TYPE');
  const closed = { returns: 'string', handler: () => null, params: { filter: { type: 'object', kalturaType: 'KalturaThingFilter', properties: ['idEqual'] } } } as const;
  t.same(readArgs(closed as any, { filter: { objectType: 'KalturaThingFilter', idEqual: 'x', idEqual__null: '' } }, []), { filter: { objectType: 'KalturaThingFilter', idEqual: 'x' } });
  const refused = (() => { try { readArgs(closed as any, { filter: { idEqual: 'x', idEqul: 'y' } }, []); return null; } catch (e) { return e as ApiError; } })();
  t.same(toExceptionObject(refused!), { code: 'PROPERTY_IS_NOT_DEFINED', message: 'The property "idEqul" is not defined on type "KalturaThingFilter"', objectType: 'KalturaAPIException', args: { PROP: 'idEqul', TYPE: 'KalturaThingFilter' } }, 'a closed object refuses any other property');
  t.same(readPager({ pageSize: '9999', pageIndex: '0' }), { pageSize: 500, pageIndex: 1 });
  t.same(readPager(null), { pageSize: 30, pageIndex: 1 });
});

t.test('error catalogue: templates filled, args [] when empty', async (t) => {
  for (const [code, tpl] of Object.entries(API_ERRORS)) t.notOk(tpl.replace(/%[A-Z_]+%/g, '').includes('%'), `${code}: every placeholder is a closed %NAME%`);
  t.equal(fillTemplate('Entry id "%ENTRY_ID%" not found', { ENTRY_ID: '0_x' }), 'Entry id "0_x" not found');
  t.same(toExceptionObject(new ApiError('MISSING_KS')), { code: 'MISSING_KS', message: 'Missing KS, session not established', objectType: 'KalturaAPIException', args: [] });
  t.same(toExceptionObject(new ApiError('ACTION_DOES_NOT_EXISTS', { ACTION_NAME: 'x', SERVICE_NAME: 'y' })).args, { ACTION_NAME: 'x', SERVICE_NAME: 'y' });
  t.equal(new ApiError('INTERNAL_SERVERL_ERROR').code, 'INTERNAL_SERVERL_ERROR', 'the reference spelling');
  defineApiErrors({ TEST_THING_NOT_FOUND: 'Thing "%THING_ID%" not found' });
  t.same(toExceptionObject(new ApiError('TEST_THING_NOT_FOUND', { THING_ID: 'x' })), { code: 'TEST_THING_NOT_FOUND', message: 'Thing "x" not found', objectType: 'KalturaAPIException', args: { THING_ID: 'x' } }, 'a service defines its own code');
  t.throws(() => defineApiErrors({ MISSING_KS: 'another text' }), 'a core code keeps its template');
  t.match(apiSchemaXml([], 0), /<error name="TEST_THING_NOT_FOUND" message="Thing &quot;%THING_ID%&quot; not found">\s*<arg name="THING_ID"\/>/, 'and the schema lists it');
  t.equal(new ApiError('NEVER_DEFINED' as never).code, 'INTERNAL_SERVERL_ERROR', 'an undefined code is still a well-formed exception');
});

t.test('multirequest: indexing, tokens, _all, errors in place', async (t) => {
  t.equal(subRequests({ 0: { service: 'a', action: 'b' }, 1: { service: 'c', action: 'd' }, ks: 'x' }).length, 2, '0-based');
  t.equal(subRequests({ 1: { service: 'a', action: 'b' }, 2: { service: 'c', action: 'd' }, 4: { service: 'e', action: 'f' } }).length, 2, 'stops at the first gap');
  const results = [{ objectType: 'X', objects: [{ id: 'e1', n: 1 }, { id: 'e2' }], ok: true }, 'KS!', new ApiError('MISSING_KS')];
  t.equal(resolvePath(results[0], ['objects', '0', 'id']), 'e1');
  t.equal(resolvePath(results[0], ['objects', '_all', 'id']), 'e1,e2,');
  t.equal(resolvePath(results[0], ['missing', 'x']), '');
  t.equal(resolvePath(results[2], ['code']), 'MISSING_KS', 'an error result is its exception object');
  t.same(replaceTokens({ a: 'pre-{1:result:objects:1:id}-post', b: ['{2:result}'], c: '{9:result:x}', d: '{1:result:ok}' }, results),
    { a: 'pre-e2-post', b: ['KS!'], c: '{9:result:x}', d: '1' });
  const seen: Record<string, unknown>[] = [];
  const out = await runMultiRequest({
    ks: 'top', partnerId: 5, clientTag: 't', format: 1,
    1: { service: 's', action: 'one', format: 2 },
    2: { service: 's', action: 'two', x: '{1:result:id}', ks: 'own' },
  }, async (sub) => { seen.push(sub); return sub.action === 'one' ? new ApiError('MISSING_KS') : { objectType: 'Y', x: sub.x }; });
  if (out instanceof ApiError) throw out; // two sub-requests are within the limit: results, not an error
  t.equal(out.length, 2);
  t.ok(out[0] instanceof ApiError, 'the error stays in its slot and the next request runs');
  t.same(seen[0], { service: 's', action: 'one', ks: 'top', partnerId: 5, clientTag: 't' }, 'common params passed down, format dropped');
  t.equal(seen[1].ks, 'own', 'a sub-request keeps its own ks');
  t.same(out[1], { objectType: 'Y', x: '' }, 'a path into an error result is empty');
});

t.test('serializers', async (t) => {
  const obj = { objectType: 'KalturaThing', id: 'a"<b>', n: 2, ok: false, none: null, list: [{ objectType: 'KalturaItem', v: 1 }] };
  t.equal(serialize(obj, { format: 1, multi: false, executionTime: 0 }).body, '{"objectType":"KalturaThing","id":"a\\"<b>","n":2,"ok":false,"list":[{"objectType":"KalturaItem","v":1}]}');
  t.equal(serialize(null, { format: 1, multi: false, executionTime: 0 }).body, 'null');
  const xml = serialize(obj, { format: 2, multi: false, executionTime: 0.01 });
  t.equal(xml.contentType, 'text/xml; charset=utf-8');
  t.match(xml.body, /^<\?xml version="1\.0" encoding="utf-8"\?><xml><result><objectType>KalturaThing<\/objectType><id>a"&lt;b&gt;<\/id><n>2<\/n><ok>0<\/ok><none\/><list><item><objectType>KalturaItem<\/objectType><v>1<\/v><\/item><\/list><\/result><executionTime>0\.0100<\/executionTime><\/xml>$/);
  const xmlErr = serialize(new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: '0_x' }), { format: 2, multi: false, executionTime: 0 }).body;
  t.match(xmlErr, '<result><error><code>ENTRY_ID_NOT_FOUND</code><message>Entry id "0_x" not found</message><objectType>KalturaAPIException</objectType><args><item><objectType>KalturaApiExceptionArg</objectType><name>ENTRY_ID</name><value>0_x</value></item></args></error></result>');
  t.match(serialize(['a', new ApiError('MISSING_KS')], { format: 2, multi: true, executionTime: 0 }).body, '<result><item>a</item><item><error><code>MISSING_KS</code>');
  t.equal(phpSerialize({ objectType: 'K', s: 'é', n: 1, f: 1.5, b: true, a: [null] }), 'a:6:{s:10:"objectType";s:1:"K";s:1:"s";s:2:"é";s:1:"n";i:1;s:1:"f";d:1.5;s:1:"b";b:1;s:1:"a";a:1:{i:0;N;}}');
  t.equal(serialize({ objectType: 'K' }, { format: 9, multi: false, callback: 'cb.x_1', executionTime: 0 }).body, 'cb.x_1({"objectType":"K"});');
  const bad = serialize({ objectType: 'K' }, { format: 9, multi: false, callback: 'alert(1)', executionTime: 0 });
  t.equal(bad.contentType, 'application/json');
  t.same(JSON.parse(bad.body), { code: 'INVALID_FIELD_VALUE', message: 'value in field [callback] is not valid', objectType: 'KalturaAPIException', args: { FIELD_NAME: 'callback' } });
  t.notMatch(bad.body, 'alert', 'the rejected callback is not in the answer');
  t.match(JSON.parse(serialize({}, { format: 9, multi: false, callback: null, executionTime: 0 }).body), { code: 'MANDATORY_PARAMETER_MISSING', args: { PARAM_NAME: 'callback' } });
});

// a registry of services written for this test: the front controller and dispatcher are under test
const echo: ServiceModule = {
  name: 'testEcho',
  actions: {
    say: { auth: 'none', params: { word: { type: 'string', required: true }, times: { type: 'int', default: 1 } }, returns: 'KalturaEcho',
      handler: (_ctx, a) => ({ objectType: 'KalturaEcho', said: String(a.word).repeat(a.times), nothing: null }) },
    list: { auth: 'none', params: {}, returns: 'KalturaEchoListResponse',
      handler: () => ({ objectType: 'KalturaEchoListResponse', objects: [{ objectType: 'KalturaEcho', said: 'a', extra: 1 }], totalCount: 1 }) },
    secret: { params: {}, returns: 'string', handler: () => 'never' },
    boom: { auth: 'none', params: {}, returns: 'string', handler: () => { throw new Error('internal detail /etc/passwd'); } },
  },
};
const env = { catalog: { getPartner: () => undefined } as any, config: {} as any, now: 1_700_000_000, baseUrl: 'http://h', http: { method: 'POST', rawUrl: '/', headers: {}, clientIp: '127.0.0.1', isHttps: false } } as ApiEnv;
const registry = createRegistry([echo]);
const call = async (path: string, query = '', body?: unknown, contentType = 'application/json') => {
  const res = await handleApiRequest(registry, env, { path, query, contentType, body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });
  t.equal(res.status, 200, 'always HTTP 200');
  t.equal(res.headers['access-control-allow-origin'], '*');
  return res;
};
const json = async (path: string, query = '', body?: unknown, contentType?: string) => JSON.parse(String((await call(path, query, body, contentType)).body));

t.test('front controller: URL forms, case, errors, formats', async (t) => {
  t.same(await json('/service/testecho/action/SAY', 'format=1', { word: 'hi', times: 2 }), { objectType: 'KalturaEcho', said: 'hihi' }, 'case-insensitive, nulls omitted');
  t.same(await json('/index.php/service/testEcho/action/say/word/path/format/1', 'word=query', { word: 'body' }), { objectType: 'KalturaEcho', said: 'path' });
  t.same(await json('/index.php', 'service=testEcho&action=say&word=q&format=1'), { objectType: 'KalturaEcho', said: 'q' });
  t.same(await json('/service/testEcho/action/say', '', 'word=form&format=1', 'application/x-www-form-urlencoded'), { objectType: 'KalturaEcho', said: 'form' });
  t.match(await json('/service/nope/action/x', 'format=1'), { code: 'SERVICE_DOES_NOT_EXISTS', message: 'Service "nope" does not exists', objectType: 'KalturaAPIException', args: { SRV_NAME: 'nope' } });
  t.match(await json('/service/testEcho/action/nope', 'format=1'), { code: 'ACTION_DOES_NOT_EXISTS', args: { ACTION_NAME: 'nope', SERVICE_NAME: 'testEcho' } });
  t.match(await json('/index.php', 'format=1'), { code: 'SERVICE_NOT_SPECIFIED' });
  t.match(await json('/index.php', 'service=testEcho&format=1'), { code: 'ACTION_NOT_SPECIFIED' });
  t.match(await json('/service/testEcho/action/secret', 'format=1'), { code: 'MISSING_KS' });
  t.match(await json('/service/testEcho/action/secret', 'format=1', { ks: '' }), { code: 'MISSING_KS' }, 'ks "" is no KS');
  const boom = await json('/service/testEcho/action/boom', 'format=1');
  t.same(boom, { code: 'INTERNAL_SERVERL_ERROR', message: 'Internal server error occurred', objectType: 'KalturaAPIException', args: [] }, 'no detail leaks');
  t.match(await json('/service/testEcho/action/say', 'format=1', '{broken}', 'application/json'), { code: 'INVALID_REQUEST_BODY', message: 'The request body could not be read: the JSON body is not valid JSON', objectType: 'KalturaAPIException' });
  const xml = await call('/service/testEcho/action/say', 'word=x');
  t.match(String(xml.body), '<xml><result><objectType>KalturaEcho</objectType><said>x</said><nothing/></result><executionTime>', 'XML when format is absent');
  t.match(String((await call('/service/testEcho/action/say', 'word=x&format=3')).body), /^a:2:\{s:10:"objectType";s:11:"KalturaEcho";s:4:"said";s:1:"x";\}$/);
  t.equal(String((await call('/service/testEcho/action/say', 'word=x&format=9&callback=cb')).body), 'cb({"objectType":"KalturaEcho","said":"x"});');
  t.same(await json('/service/testEcho/action/list', 'format=1', { responseProfile: { type: 1, fields: 'said' } }),
    { objectType: 'KalturaEchoListResponse', objects: [{ objectType: 'KalturaEcho', said: 'a' }], totalCount: 1 }, 'responseProfile trims list objects');
});

t.test('front controller: multirequest', async (t) => {
  const out = await json('/service/multirequest', '', {
    format: 1,
    0: { service: 'testEcho', action: 'say', word: 'a' },
    1: { service: 'testEcho', action: 'nope' },
    2: { service: 'testEcho', action: 'say', word: 'x{1:result:said}y' },
  });
  t.same(out[0], { objectType: 'KalturaEcho', said: 'a' });
  t.match(out[1], { code: 'ACTION_DOES_NOT_EXISTS' });
  t.same(out[2], { objectType: 'KalturaEcho', said: 'xay' }, '1-based tokens with 0-based keys');
  const huge: Record<string, unknown> = { format: 1 };
  for (let i = 1; i <= 101; i++) huge[i] = { service: 'testEcho', action: 'say', word: 'w' };
  t.match(await json('/service/multirequest', '', huge), { code: 'MULTIREQUEST_TOO_LARGE', args: { MAX_REQUESTS: '100' } }, 'an oversized batch is refused whole');
  huge[101] = undefined;
  t.equal((await json('/service/multirequest', '', huge)).length, 100);
  const flat = await json('/index.php', 'service=multirequest&action=null', '1:service=testEcho&1:action=say&1:word=f&2:service=testEcho&2:action=say&2:word={1:result:said}&format=1', 'application/x-www-form-urlencoded');
  t.same(flat, [{ objectType: 'KalturaEcho', said: 'f' }, { objectType: 'KalturaEcho', said: 'f' }]);
  const xml = String((await call('/service/multirequest', '', { 1: { service: 'testEcho', action: 'say', word: 'a' } })).body);
  t.match(xml, '<result><item><objectType>KalturaEcho</objectType>');
});

t.test('schema lists what the registry serves', async (t) => {
  const xml = apiSchemaXml([{ ...echo, schema: { classes: [{ name: 'KalturaEcho', base: 'KalturaObjectBase', props: 'said:string,parts:array:KalturaEchoPart' }], enums: [{ name: 'KalturaEchoKind', enumType: 'int', values: { LOUD: 1 } }] } }], 1_700_000_000);
  t.match(xml, /<class name="KalturaEcho" base="KalturaObjectBase">\s*<property name="said" type="string"\/>\s*<property name="parts" type="array" arrayType="KalturaEchoPart"\/>/, 'a service declares its own classes');
  t.match(xml, /<enum name="KalturaEchoKind" enumType="int">\s*<const name="LOUD" value="1"\/>/);
  t.match(xml, /<xml apiVersion="[\d.]+" generatedDate="1700000000">/);
  t.match(xml, /<service id="testecho" name="testEcho">/);
  t.match(xml, /<param name="word" type="string" optional="0"\/>/);
  t.match(xml, /<param name="times" type="int" optional="1" default="1"\/>/);
  t.match(xml, /<class name="KalturaMediaEntry" base="KalturaPlayableEntry">/);
  t.match(xml, /<enum name="KalturaEntryType" enumType="string">/);
  t.match(xml, /<error name="ENTRY_ID_NOT_FOUND" message="Entry id &quot;%ENTRY_ID%&quot; not found">\s*<arg name="ENTRY_ID"\/>/);
});

