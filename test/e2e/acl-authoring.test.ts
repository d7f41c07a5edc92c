// A partner administrator authoring access-control profiles with the official Node client
// (npm kaltura-client), assigning them to an entry and checking what a viewer then gets from
// playManifest and getPlaybackContext: rule values Kaltura accepts are accepted and enforced as
// written, and the actions a rule carries reach the player as Kaltura hands them over.
import t from 'tap';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';
import { startServer } from '../helpers/server.js';
import { regexStepsTaken } from '../../src/access/regex.js';

const ENTRY = '1_rcit0qgs';
const { objects } = kaltura;
const value = (v: string) => new objects.StringValue({ value: v });

t.test('access-control profiles authored through kaltura-client', async (t) => {
  const s = await startServer(t);
  const admin = await sampleAdminClient(s.url);
  const guard = async (rules: unknown[]) => {
    const p = await admin.call(kaltura.services.accessControlProfile.add(new objects.AccessControlProfile({ name: `p${Math.random()}`, rules })));
    await admin.call(kaltura.services.baseEntry.update(ENTRY, new objects.BaseEntry({ accessControlId: p.id })));
    return p;
  };
  const manifest = (tail: string, init: RequestInit = {}) =>
    fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${ENTRY}/${tail}`, { redirect: 'manual', ...init });

  await t.test('an IP value holding several comma-separated ranges, as Kaltura reads it', async (t) => {
    // the test client comes from 127.0.0.1: the second range of the value names it
    const p = await guard([new objects.Rule({
      conditions: [new objects.IpAddressCondition({ values: [value('10.0.0.0/8, 127.0.0.1-127.0.0.9')] })],
      actions: [new objects.AccessControlBlockAction()],
    })]);
    t.same(p.rules[0].conditions[0].values.map((v: { value: string }) => v.value), ['10.0.0.0/8, 127.0.0.1-127.0.0.9'], 'kept as written');
    const res = await manifest('format/applehttp/protocol/http/a.m3u8');
    t.equal(res.status, 403, 'the viewer inside the second range is blocked');
    t.equal(res.headers.get('x-kaltura'), 'error-3');
    const bad = await admin.refusal(kaltura.services.accessControlProfile.update(p.id, new objects.AccessControlProfile({
      rules: [new objects.Rule({ conditions: [new objects.IpAddressCondition({ values: [value('10.0.0.0/8,10.1.2.300')] })], actions: [new objects.AccessControlBlockAction()] })],
    })));
    t.match(bad, { code: 'PROPERTY_VALIDATION_WRONG_FORMAT' }, 'a list with one range that is none is still refused');
  });

  await t.test('a limit-delivery-profiles allow list naming a profile that is no default', async (t) => {
    // 1006 (the packager's HLS master by redirect) and 2001 (HLS on a CDN) are partner 0's
    // applehttp profiles that no request gets by default: an allow list is what picks them
    await guard([new objects.Rule({ actions: [new objects.AccessControlLimitDeliveryProfilesAction({ deliveryProfileIds: '2001' })] })]);
    const json = await manifest('format/applehttp/protocol/http/responseFormat/json');
    t.equal(json.status, 200, 'plays');
    const body = await json.text();
    const flavors: { url: string }[] = json.status === 200 ? JSON.parse(body).flavors : [];
    t.ok(flavors.length > 0 && flavors.every((f) => /^https?:\/\/cdn\.example\.com\/hls\//.test(f.url)), 'on the allowed profile 2001');
    await guard([new objects.Rule({ actions: [new objects.AccessControlLimitDeliveryProfilesAction({ deliveryProfileIds: '1001', isBlockedList: true })] })]);
    const blocked = await manifest('format/applehttp/protocol/http/a.m3u8');
    t.equal(blocked.headers.get('x-kaltura'), 'error-25', 'a block list of the only default leaves no profile (error 25)');
  });

  await t.test('a request-host-regex action reaches the player in the playback context', async (t) => {
    // the action exists only for clients: the player's providers rewrite the media, caption and
    // poster URLs with it (pinging the new host first when checkAliveTimeoutMs is above 0)
    const p = await guard([new objects.Rule({
      actions: [new objects.AccessControlModifyRequestHostRegexAction({ pattern: '^https?://[^/]+/(.*)$', replacement: 'https://ecdn.example.net/$1', checkAliveTimeoutMs: 1500 })],
    })]);
    t.match(p.rules[0].actions[0], { pattern: '^https?://[^/]+/(.*)$', replacement: 'https://ecdn.example.net/$1', checkAliveTimeoutMs: 1500 }, 'kept as written');
    const widget = await admin.call(kaltura.services.session.startWidgetSession('_309'));
    const viewer = new kaltura.Client(Object.assign(new kaltura.Configuration(), { serviceUrl: s.url }));
    viewer.setKs(widget.ks);
    const ctx = await kaltura.services.baseEntry.getPlaybackContext(ENTRY, new objects.PlaybackContextOptions({})).execute(viewer);
    t.ok(ctx.sources.length > 0, 'plays');
    // type 7 as a number: the player compares it with ===
    const regex = ctx.actions.find((a: { type: unknown }) => a.type === 7);
    t.match(regex, { objectType: 'KalturaAccessControlModifyRequestHostRegexAction', pattern: '^https?://[^/]+/(.*)$', replacement: 'https://ecdn.example.net/$1', checkAliveTimeoutMs: 1500 });
    await admin.call(kaltura.services.accessControlProfile.update(p.id, new objects.AccessControlProfile({
      rules: [new objects.Rule({ actions: [new objects.AccessControlLimitDeliveryProfilesAction({ deliveryProfileIds: '1001', isBlockedList: true })] })],
    })));
    const limited = await kaltura.services.baseEntry.getPlaybackContext(ENTRY, new objects.PlaybackContextOptions({})).execute(viewer);
    t.notOk(limited.actions.some((a: { type: unknown }) => a.type === 7), 'gone with the rule that held it');
    t.match(limited.actions.find((a: { type: unknown }) => a.type === 5), { deliveryProfileIds: '1001', isBlockedList: true }, 'the limit-delivery-profiles action is listed as Kaltura lists every fulfilled action');
    t.notOk(limited.sources.some((x: { deliveryProfileId: string }) => x.deliveryProfileId === '1001'), 'and applied');
  });

  await t.test('user-agent patterns a long user agent would make costly: refused at once, never a stalled server', async (t) => {
    // each pattern keeps 900 states active at every character: over an 8 KB user agent, twenty of
    // them were some 5 s of the event loop for one anonymous request
    const values = Array.from({ length: 20 }, (_, i) => value(`[a-z]{0,900}q${i}`));
    await guard([new objects.Rule({ conditions: [new objects.UserAgentCondition({ values })], actions: [new objects.AccessControlBlockAction()] })]);
    const ordinary = await manifest('format/applehttp/protocol/http/a.m3u8', { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } });
    t.equal(ordinary.status, 200, 'an ordinary user agent is judged and plays');
    const t0 = Date.now();
    const long = await manifest('format/applehttp/protocol/http/a.m3u8', { headers: { 'user-agent': 'a'.repeat(8000) } });
    const ms = Date.now() - t0;
    t.equal(long.status, 403, 'too costly to judge: refused (fail closed), as a broken rule is');
    t.match(long.headers.get('x-kaltura-app') ?? '', /^exiting on error 3 - /);
    t.match(long.headers.get('x-kaltura') ?? '', /access-control: the request is too long for the access-control rules to judge/);
    t.ok(ms < 1500, `answered in ${ms} ms`);
  });
  await t.test('a multirequest of playback contexts spends one regex budget in all, not one per evaluation', async (t) => {
    // each getPlaybackContext evaluates the rules once per format and for THUMBNAIL: with a budget
    // per evaluation, 100 of them in one multirequest were some 44 s of the event loop
    const values = Array.from({ length: 20 }, (_, i) => value(`[a-z]{0,900}q${i}`));
    await guard([new objects.Rule({ conditions: [new objects.UserAgentCondition({ values })], actions: [new objects.AccessControlBlockAction()] })]);
    const widget = await admin.call(kaltura.services.session.startWidgetSession('_309'));
    const body: Record<string, unknown> = { format: 1, ks: widget.ks };
    const calls = 25;
    for (let i = 1; i <= calls; i++) body[i] = { service: 'baseEntry', action: 'getPlaybackContext', entryId: ENTRY, contextDataParams: { objectType: 'KalturaPlaybackContextOptions' } };
    const before = regexStepsTaken();
    const res = await fetch(`${s.url}/api_v3/service/multirequest`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'a'.repeat(8000) }, body: JSON.stringify(body),
    });
    const steps = regexStepsTaken() - before;
    t.equal(res.status, 200);
    const results = await res.json() as { sources?: unknown[]; messages?: { message: string }[] }[];
    t.equal(results.length, calls);
    t.ok(results.every((r) => r.sources?.length === 0 && r.messages?.some((m) => /too long for the access-control rules to judge/.test(m.message))),
      'every sub-request refused, as a broken rule is');
    // one budget (src/access/evaluate.ts REGEX_WORK, 2 000 000 steps) and the last row of states
    // that went past it (at most 2000 states of a pattern)
    t.ok(steps <= 2_000_000 + 2_001, `${steps} NFA steps for the whole multirequest`);
  });

  await t.test('a list of 3000 bot names: ordinary browsers play on every request, a bot is blocked', async (t) => {
    // compiled once with the kept profile: compiling the list again on every request, charged to
    // the request, refused every viewer whose user agent was of an ordinary length
    const values = Array.from({ length: 3000 }, (_, i) => value(`crawler${i}bot`));
    await guard([new objects.Rule({ conditions: [new objects.UserAgentCondition({ values })], actions: [new objects.AccessControlBlockAction()] })]);
    const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51';
    t.equal(chrome.length, 129);
    for (let i = 0; i < 5; i++) {
      const res = await manifest('format/applehttp/protocol/http/a.m3u8', { headers: { 'user-agent': chrome } });
      t.equal(res.status, 200, `request ${i + 1} plays`);
    }
    const widget = await admin.call(kaltura.services.session.startWidgetSession('_309'));
    const ctx = await fetch(`${s.url}/api_v3/service/baseEntry/action/getPlaybackContext?format=1`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': chrome },
      body: JSON.stringify({ ks: widget.ks, entryId: ENTRY, contextDataParams: { objectType: 'KalturaPlaybackContextOptions' } }),
    });
    const played = await ctx.json() as { sources?: unknown[] };
    t.ok((played.sources?.length ?? 0) > 0, 'the playback context lists sources');
    const bot = await manifest('format/applehttp/protocol/http/a.m3u8', { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Crawler2999Bot/1.0)' } });
    t.equal(bot.status, 403, 'a listed bot is blocked');
    t.equal(bot.headers.get('x-kaltura'), 'error-3');
  });

  await t.test('a rule message in any language: the viewer still gets an answer', async (t) => {
    // the message goes into X-Kaltura headers: text past ASCII (or a line break) there made Node
    // refuse the header and the request got no answer at all
    await guard([new objects.Rule({ message: 'Доступ запрещён — café', code: 'SITE_RESTRICTED', actions: [new objects.AccessControlBlockAction()] })]);
    const refused = await manifest('format/applehttp/protocol/http/a.m3u8', { signal: AbortSignal.timeout(10_000) });
    t.equal(refused.status, 403);
    t.same(refused.headers.get('x-kaltura')?.split(', '), ['access-control: %D0%94%D0%BE%D1%81%D1%82%D1%83%D0%BF %D0%B7%D0%B0%D0%BF%D1%80%D0%B5%D1%89%D1%91%D0%BD %E2%80%94 caf%C3%A9', 'error-3'], 'percent-encoded UTF-8 in the headers');
    t.match(await refused.text(), 'Доступ запрещён — café', 'as written in the body');
    await guard([new objects.Rule({ message: 'HD only for members\r\nSet-Cookie: x=1', actions: [new objects.AccessControlLimitFlavorsAction({ flavorParamsIds: '301961' })] })]);
    const limited = await manifest('format/applehttp/protocol/http/a.m3u8', { signal: AbortSignal.timeout(10_000) });
    t.equal(limited.status, 200, 'a message on a rule that does not block rides on the answer too');
    t.equal(limited.headers.get('x-kaltura'), 'access-control: HD only for members Set-Cookie: x=1', 'a line break is a space');
    t.equal(limited.headers.get('set-cookie'), null);
  });
  await t.test('a refusal in the playback context names each rule by its own code', async (t) => {
    // the player's BLOCK_ACTION error carries these codes (SESSION_RESTRICTED, SITE_RESTRICTED, ...)
    const widget = await admin.call(kaltura.services.session.startWidgetSession('_309'));
    const viewer = new kaltura.Client(Object.assign(new kaltura.Configuration(), { serviceUrl: s.url }));
    viewer.setKs(widget.ks);
    const messages = async (rules: unknown[]) => {
      await guard(rules);
      const ctx = await kaltura.services.baseEntry.getPlaybackContext(ENTRY, new objects.PlaybackContextOptions({})).execute(viewer);
      t.equal(ctx.sources.length, 0, 'blocked');
      return ctx.messages.map(({ code, message }: { code: string; message: string }) => ({ code, message }));
    };
    t.same(await messages([new objects.Rule({ code: 'SESSION_RESTRICTED', actions: [new objects.AccessControlBlockAction()] })]),
      [{ code: 'SESSION_RESTRICTED', message: '' }], 'a rule with a code and no message');
    t.same(await messages([
      new objects.Rule({ code: 'SITE_RESTRICTED', message: 'not here', actions: [new objects.AccessControlBlockAction()] }),
      new objects.Rule({ code: 'IP_RESTRICTED', message: 'not here' }),
    ]), [{ code: 'SITE_RESTRICTED', message: 'not here' }, { code: 'IP_RESTRICTED', message: 'not here' }], 'two rules with the same message keep their own codes');
    const long = 'Sorry, this video is not available '.repeat(20);
    t.same(await messages([new objects.Rule({ code: 'COUNTRY_RESTRICTED', message: long, actions: [new objects.AccessControlBlockAction()] })]),
      [{ code: 'COUNTRY_RESTRICTED', message: long }], 'a long message whole, with its code');
  });
  await t.test('an IP block list longer than the values a condition tests is refused, not cut', async (t) => {
    const list = (n: number) => [...Array.from({ length: n - 1 }, (_, i) => value(`10.${(i >> 8) & 255}.${i & 255}.1`)), value('127.0.0.1')];
    const block = (n: number) => new objects.Rule({ conditions: [new objects.IpAddressCondition({ values: list(n) })], actions: [new objects.AccessControlBlockAction()] });
    // the client (127.0.0.1) is the last value: with 10 001 values it was stored, echoed, and never tested
    const refused = await admin.refusal(kaltura.services.accessControlProfile.add(new objects.AccessControlProfile({ name: 'too long', rules: [block(10_001)] })));
    t.match(refused, { code: 'PROPERTY_VALIDATION_MAX_ITEMS', message: 'The property "rules:0:conditions:0:values" cannot have more than 10000 items' });
    await guard([block(10_000)]);
    t.equal((await manifest('format/applehttp/protocol/http/a.m3u8')).status, 403, 'the last of 10 000 values is tested');
  });
  await t.test('a number a rule needs and was not given is named as missing', async (t) => {
    const add = (rule: unknown) => admin.refusal(kaltura.services.accessControlProfile.add(new objects.AccessControlProfile({ name: 'incomplete', rules: [rule] })));
    t.match(await add(new objects.Rule({ actions: [new objects.AccessControlPreviewAction({})] })),
      { code: 'PROPERTY_VALIDATION_CANNOT_BE_NULL', message: 'The property "rules:0:actions:0:limit" cannot be null' }, 'a preview without its limit');
    t.match(await add(new objects.Rule({ conditions: [new objects.FieldCompareCondition({ field: new objects.TimeContextField(), comparison: 2 })], actions: [new objects.AccessControlBlockAction()] })),
      { code: 'PROPERTY_VALIDATION_CANNOT_BE_NULL', message: 'The property "rules:0:conditions:0:value" cannot be null' }, 'a time condition without its time');
    t.match(await add(new objects.Rule({ conditions: [new objects.SessionTypeCondition({})], actions: [new objects.AccessControlBlockAction()] })),
      { code: 'PROPERTY_VALIDATION_CANNOT_BE_NULL' }, 'a session-type condition without its type');
  });
  await t.test("a condition's description is kept as the partner wrote it", async (t) => {
    const p = await guard([new objects.Rule({
      description: 'office only',
      conditions: [new objects.OrCondition({ description: 'either office', conditions: [new objects.IpAddressCondition({ description: 'Paris', not: true, values: [value('192.0.2.0/24')] })] })],
      actions: [new objects.AccessControlBlockAction()],
    })]);
    const got = await admin.call(kaltura.services.accessControlProfile.get(p.id));
    t.equal(got.rules[0].description, 'office only');
    t.equal(got.rules[0].conditions[0].description, 'either office');
    t.equal(got.rules[0].conditions[0].conditions[0].description, 'Paris', 'inside an or condition too');
    t.equal((await manifest('format/applehttp/protocol/http/a.m3u8')).status, 403, 'and the rule is what it was');
  });
});

t.test('behind a trusted proxy, an IP allow list with acceptInternalIps is not fooled by X-Forwarded-For', async (t) => {
  const s = await startServer(t, { env: { KDELIVER_TRUST_PROXY: 'true' } });
  const admin = await sampleAdminClient(s.url);
  // only the office network may play; acceptInternalIps (private addresses accepted) names no header
  const p = await admin.call(kaltura.services.accessControlProfile.add(new objects.AccessControlProfile({
    name: 'office only',
    rules: [new objects.Rule({
      conditions: [new objects.IpAddressCondition({ not: true, acceptInternalIps: true, values: [value('10.0.0.0/8')] })],
      actions: [new objects.AccessControlBlockAction()],
    })],
  })));
  await admin.call(kaltura.services.baseEntry.update(ENTRY, new objects.BaseEntry({ accessControlId: p.id })));
  const play = (xff: string) => fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${ENTRY}/format/applehttp/protocol/http/a.m3u8`, { headers: { 'x-forwarded-for': xff } });
  // the proxy appends the address it saw (8.8.8.8); what is left of it is whatever the client sent
  const forged = await play('10.1.1.1, 8.8.8.8');
  t.equal(forged.status, 403, 'a client writing an office address into X-Forwarded-For is still outside');
  t.equal(forged.headers.get('x-kaltura'), 'error-3');
  t.equal((await play('8.8.8.8')).status, 403, 'and so is one that does not');
});

t.test("a new entry is behind the partner's default profile, as in Kaltura", async (t) => {
  const s = await startServer(t);
  const admin = await sampleAdminClient(s.url);
  const add = () => admin.call(kaltura.services.media.add(new objects.MediaEntry({ name: 'next upload', mediaType: kaltura.enums.MediaType.VIDEO })));
  t.equal((await add()).accessControlId, undefined, 'no default profile: none');
  const needsKs = await admin.call(kaltura.services.accessControlProfile.add(new objects.AccessControlProfile({
    name: 'KS required', isDefault: 1,
    rules: [new objects.Rule({ conditions: [new objects.AuthenticatedCondition({ not: true })], actions: [new objects.AccessControlBlockAction()] })],
  })));
  const made = await add();
  t.equal(made.accessControlId, needsKs.id, 'the default, rules and all');
  t.equal((await admin.call(kaltura.services.baseEntry.get(made.id))).accessControlId, needsKs.id, 'read back');
  const open = await admin.call(kaltura.services.accessControlProfile.add(new objects.AccessControlProfile({ name: 'open' })));
  const chosen = await admin.call(kaltura.services.media.add(new objects.MediaEntry({ name: 'public', mediaType: kaltura.enums.MediaType.VIDEO, accessControlId: open.id })));
  t.equal(chosen.accessControlId, open.id, 'an accessControlId given wins');
});
