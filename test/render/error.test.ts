// Delivery errors as rendered for every route (src/errors.ts): the
// reference's X-Kaltura and X-Kaltura-App headers, the product's 400/403/404, one plain line.
import t from 'tap';
import { DeliveryError, type ErrorName } from '../../src/errors.js';
import { renderError } from '../../src/render/error.js';

const NOW = 1_700_000_000;

t.test('headers, status and body per code', async (t) => {
  // name, code, status, X-Kaltura-App text after "exiting on error N - "
  const cases: [ErrorName, string, number, number, string][] = [
    ['ENTRY_NOT_FOUND', '', 1, 404, 'requested entry not found'],
    ['NOT_SCHEDULED_NOW', '', 2, 403, 'entry restricted due to scheduling'],
    ['ACCESS_CONTROL_RESTRICTED', '', 3, 403, 'entry restricted due to access-control'],
    ['FILE_NOT_FOUND', '', 5, 404, 'required file was not found'],
    ['FLAVOR_NOT_FOUND', '', 6, 404, 'requested flavor was not found'],
    ['INVALID_KS', ', Invalid session [-1]', 7, 403, 'ks is not valid, Invalid session [-1]'],
    ['ENTRY_MODERATION_ERROR', '', 13, 403, 'entry is restricted due to invalid moderation status'],
    ['INVALID_MAX_BITRATE', '', 19, 400, 'max bitrate is not valid'],
    ['BAD_QUERY', ', This format is unsupported', 25, 400, 'wrong query attributes, This format is unsupported'],
    ['INVALID_TOKEN', '', 27, 403, 'invalid token'],
    ['EXPIRED_TOKEN', '', 28, 403, 'expired token'],
    ['KS_EXPIRED', ', This URL is expired', 31, 403, 'The given KS has expired, This URL is expired'],
    ['INVALID_PARTNER', '', 32, 403, 'invalid partner'],
    ['INVALID_MIN_BITRATE', '', 49, 400, 'min bitrate is not valid'],
    ['INVALID_KS_SRT', '', 4, 403, 'ks is an invalid string'],
    ['INVALID_ENTRY_TYPE', ', media type 2 cannot be played', 12, 404, 'requested entry type is invalid for the requested format, media type 2 cannot be played'],
    ['PARTNER_NOT_FOUND', '', 14, 404, 'partner not found'],
    ['PARTNER_NOT_ACTIVE', '', 15, 403, 'partner not active'],
    ['IP_COUNTRY_BLOCKED', '', 16, 403, ''],
    ['MISSING_PARAMETER', '', 20, 400, 'Request parameter [%s] is missing'],
    ['EXCEEDED_RESTRICTED_IP', '', 34, 403, 'exceeded restricted IP'],
  ];
  t.equal(new Set(cases.map((c) => c[0])).size, 21, 'every kind in src/errors.ts');
  for (const [name, extra, code, status, text] of cases) {
    const r = renderError(new DeliveryError(name, extra), 'GET', NOW);
    t.equal(r.status, status, name);
    t.same(r.headers['X-Kaltura'], [`error-${code}`], name);
    t.equal(r.headers['X-Kaltura-App'], `exiting on error ${code} - ${text}`, name);
    t.equal(r.body, `error ${code} ${name}: ${text}\n`, name);
    t.equal(r.headers['Content-Type'], 'text/plain; charset=UTF-8', name);
  }
});

t.test('a deleted entry names ENTRY_DELETED_MODERATED', async (t) => {
  const r = renderError(new DeliveryError('ENTRY_NOT_FOUND', ', ENTRY_DELETED_MODERATED: the entry is deleted'), 'GET', NOW);
  t.equal(r.status, 404);
  t.equal(r.headers['X-Kaltura-App'], 'exiting on error 1 - requested entry not found, ENTRY_DELETED_MODERATED: the entry is deleted');
  t.match(r.body, /ENTRY_DELETED_MODERATED/);
});

t.test('caching: GET errors are cached 60 s except codes 3, 16, 53; other methods never', async (t) => {
  const cached = renderError(new DeliveryError('FLAVOR_NOT_FOUND'), 'GET', NOW).headers;
  t.match(cached, { 'Cache-Control': 'private, max-age=60, max-stale=0', Expires: 'Tue, 14 Nov 2023 22:14:20 GMT', 'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT' });
  for (const name of ['ACCESS_CONTROL_RESTRICTED', 'IP_COUNTRY_BLOCKED'] as const) {
    const h = renderError(new DeliveryError(name), 'GET', NOW).headers;
    t.equal(h['Cache-Control'], 'no-store', name);
    t.equal(h.Expires, undefined, name);
  }
  t.equal(renderError(new DeliveryError('FLAVOR_NOT_FOUND'), 'HEAD', NOW).headers['Cache-Control'], 'no-store');
  t.equal(renderError(new DeliveryError('FLAVOR_NOT_FOUND'), 'POST', NOW).headers['Cache-Control'], 'no-store');
});

t.test('extra X-Kaltura values come before error-N; a status override is honoured', async (t) => {
  const r = renderError(new DeliveryError('ACCESS_CONTROL_RESTRICTED', '', { headers: ['access-control: Only example.com'] }), 'GET', NOW);
  t.same(r.headers['X-Kaltura'], ['access-control: Only example.com', 'error-3']);
  t.equal(renderError(new DeliveryError('FILE_NOT_FOUND', '', { httpStatus: 200 }), 'GET', NOW).status, 200);
});

t.test('CR/LF never reach a header or split the body', async (t) => {
  const r = renderError(new DeliveryError('ACCESS_CONTROL_RESTRICTED', ', bad\r\nSet-Cookie: x=1', { headers: ['access-control: a\r\nX-Evil: 1'] }), 'GET', NOW);
  for (const v of [r.headers['X-Kaltura-App'], ...(r.headers['X-Kaltura'] as string[])]) t.notMatch(v, /[\r\n]/);
  t.equal(r.headers['X-Kaltura-App'], 'exiting on error 3 - entry restricted due to access-control, bad Set-Cookie: x=1');
  t.equal(r.body.split('\n').length, 2, 'one line and the final newline');
});

t.test('browsers may read why: CORS exposes the error headers', async (t) => {
  const h = renderError(new DeliveryError('ENTRY_NOT_FOUND'), 'GET', NOW).headers;
  t.equal(h['Access-Control-Allow-Origin'], '*');
  t.same(String(h['Access-Control-Expose-Headers']).split(','), ['X-Kaltura', 'X-Kaltura-App']);
});

t.test('MISSING_PARAMETER names the parameter in its description, as the reference formats it', async (t) => {
  const r = renderError(new DeliveryError('MISSING_PARAMETER', ', entry_id'), 'GET', NOW);
  t.equal(r.headers['X-Kaltura-App'], 'exiting on error 20 - Request parameter [entry_id] is missing');
  t.equal(r.body, 'error 20 MISSING_PARAMETER: Request parameter [entry_id] is missing\n');
  const ks = renderError(new DeliveryError('MISSING_PARAMETER', ', ks user'), 'GET', NOW);
  t.equal(ks.headers['X-Kaltura-App'], 'exiting on error 20 - Request parameter [ks user] is missing');
});

t.test('X-Kaltura-ACP: on a refusal marked after an evaluation, on a copy, the first mark kept', async (t) => {
  const { withAcp } = await import('../../src/errors.js');
  const { acpHeader } = await import('../../src/access/evaluate.js');
  t.equal(acpHeader(5, { firedRules: [0, 2] }), '5 0,2', 'the profile, a space, the rules fulfilled');
  t.equal(acpHeader(5, { firedRules: [] }), '5', 'none fulfilled: the profile alone (PHP drops the trailing space)');
  t.equal(acpHeader(null, { firedRules: [0] }), null, 'no profile: none');
  t.equal(acpHeader(5, null), null, 'no evaluation: none');

  const shared = new DeliveryError('ACCESS_CONTROL_RESTRICTED', ', blocked', { headers: ['access-control: blocked'] });
  const marked = withAcp(shared, '5 0');
  t.equal(marked.acp, '5 0');
  t.equal(shared.acp, null, 'a refusal thrown to several requests is not changed');
  t.ok(marked instanceof DeliveryError);
  t.equal(marked.message, shared.message);
  t.equal(withAcp(marked, '7 1').acp, '5 0', 'the evaluation nearest the refusal wins');
  t.equal(withAcp(shared, null), shared, 'no evaluation: the refusal as it is');
  t.equal(renderError(marked, 'GET', NOW).headers['X-Kaltura-ACP'], '5 0', 'rendered');
  t.notOk('X-Kaltura-ACP' in renderError(shared, 'GET', NOW).headers, 'an unmarked refusal has none');
});
