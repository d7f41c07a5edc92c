// `kdeliver import-kaltura --service-url` refuses a URL with credentials, a query or a fragment
// (the admin secret goes in --admin-secret, the session is made by the command). The refusal
// repeated the URL as given, so a password in it (http://user:password@host) or a session in its
// query (?ks=…) went to stderr, and from there to a CI log. The line now names what is wrong
// without repeating those parts (shown as `***`, as KDELIVER_MEDIA_URL's refusals show them).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-url-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const env = { KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' };

const cases: [string, string, RegExp][] = [
  ['a password', 'http://editor:pw-s3cr3t-4242@127.0.0.1:1/', /--service-url "http:\/\/editor:\*\*\*@127\.0\.0\.1:1\/": expected an http\(s\) URL without query, fragment or credentials\n$/],
  ['a user name alone', 'https://name-s3cr3t-4242@kaltura.example/', /--service-url "https:\/\/\*\*\*@kaltura\.example\/": expected/],
  ['a session in the query', 'http://127.0.0.1:1/api_v3?ks=djJ8s3cr3t-4242', /--service-url "http:\/\/127\.0\.0\.1:1\/api_v3\?\*\*\*": expected/],
  ['a fragment', 'http://127.0.0.1:1/#s3cr3t-4242', /--service-url "http:\/\/127\.0\.0\.1:1\/#\*\*\*": expected/],
  ['not http', 'ftp://u:pw-s3cr3t-4242@127.0.0.1/', /--service-url "ftp:\/\/u:\*\*\*@127\.0\.0\.1\/": expected/],
];
for (const [what, url, line] of cases) {
  t.test(what, async (t) => {
    const r = await cmd.kdeliver(['import-kaltura', '--service-url', url, '--partner-id', '309', '--admin-secret', 'x', '--all'], env);
    t.equal(r.code, 1, r.stderr);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^kdeliver import-kaltura: /);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.match(r.stderr, line, 'it says what is wrong');
    t.notMatch(r.stderr, 's3cr3t-4242', 'without repeating the credentials, query or fragment');
  });
}

t.test('a URL that does not parse', async (t) => {
  const r = await cmd.kdeliver(['import-kaltura', '--service-url', 'http://editor:pw-s3cr3t-4242@[bad', '--partner-id', '309', '--admin-secret', 'x', '--all'], env);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, /^kdeliver import-kaltura: --service-url "http:\/\/editor:\*\*\*@\[bad": expected an http\(s\) URL such as https:\/\/www\.kaltura\.com\n$/);
  t.notMatch(r.stderr, 's3cr3t-4242');
});
