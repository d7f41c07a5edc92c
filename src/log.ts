// Secrets travel inside delivery URLs (ks, kt, signatures); logs get a redacted copy.
const SECRET_PATH_KEYS = ['ks', 'kt', 'sig', 'hdnts', 'hdnea', 'token', '__gda__', 'Signature', 'Policy', 'Key-Pair-Id', 'hashes'];
const pathRe = new RegExp(`/(${SECRET_PATH_KEYS.join('|')})/[^/?]+`, 'g');
const queryRe = new RegExp(`([?&](?:${SECRET_PATH_KEYS.join('|')}|secret|adminSecret|userSecret)=)[^&]*`, 'gi');

// A secret's name with brackets (`ks[0]=…`, `ks%5B%5D=…`) or its `=` percent-encoded (`ks%3D…`):
// no name kdeliver reads, but a client's way of sending a KS all the same, so its value is hidden.
const looseQueryRe = new RegExp(`([?&](?:${SECRET_PATH_KEYS.join('|')}|secret|adminSecret|userSecret)(?:(?:\\[|%5B)[^=&]*=|%3D))[^&]*`, 'gi');

// The same secrets inside a percent-encoded URL carried as a parameter (the console's trace?url=...).
const encodedPathRe = new RegExp(`(%2F(?:${SECRET_PATH_KEYS.join('|')})%2F)(?:(?!%2F)[^&#/?])+`, 'gi');
const encodedQueryRe = new RegExp(`((?:%3F|%26)(?:${SECRET_PATH_KEYS.join('|')}|secret|adminSecret|userSecret)%3D)(?:(?!%26)[^&#])*`, 'gi');

// A name may arrive percent-encoded (`k%73` is `ks`); servers decode it, so the log must see the
// same name. Escapes of unreserved characters are decoded first: RFC 3986 (section 6.2.2.2) makes
// that spelling the same URL, and it never joins or splits a path segment or a query pair.
const unreservedEscape = /%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)/gi;

/** A URL with every secret-bearing path pair and query value replaced by "[redacted]". */
export function redactUrl(url: string): string {
  return url
    .replace(unreservedEscape, (e) => String.fromCharCode(parseInt(e.slice(1), 16)))
    .replace(pathRe, '/$1/[redacted]')
    .replace(queryRe, '$1[redacted]')
    .replace(looseQueryRe, '$1[redacted]')
    .replace(encodedPathRe, '$1[redacted]')
    .replace(encodedQueryRe, '$1[redacted]');
}

/**
 * A configured URL as messages may show it: the password (everything between the user name's `:`
 * and the last `@`, a password with `/` in it included) or, without a password, the whole user
 * information (a token), the query and the fragment are hidden, as any of them may hold a
 * credential. The user name stays: it tells an operator which account was refused. Works on text
 * that does not parse.
 */
export function withoutCredentials(raw: string): string {
  let shown = raw;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(shown);
  if (scheme) {
    const rest = shown.slice(scheme[0].length);
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const userInfo = rest.slice(0, at);
      const colon = userInfo.indexOf(':');
      shown = `${scheme[0]}${colon >= 0 ? `${userInfo.slice(0, colon)}:` : ''}***@${rest.slice(at + 1)}`;
    }
  }
  return shown.replace(/([?#])[\s\S]*$/, '$1***');
}

/** A request's id on its log lines (Fastify's genReqId, and answers given before routing). */
export const requestId = (): string => Math.random().toString(36).slice(2, 10);

/**
 * Why a JSON file could not be read, as a message may say it: node's JSON.parse errors may quote
 * the text around the mistake (`..."adminSecret": "abc12"... is not valid JSON`), and a
 * configuration or library file holds secrets there, so a syntax error is said without that text:
 * where it is (line and column, given the file's `text` and an error that names the position) and
 * what kind of mistake it is; a read error (no such file, not readable) is said as it is.
 */
export function jsonReadProblem(e: unknown, text?: string): string {
  if (!(e instanceof SyntaxError)) return e instanceof Error ? e.message : String(e);
  const at = / at position (\d+)/.exec(e.message);
  if (at && text !== undefined) {
    const before = text.slice(0, Number(at[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return `not valid JSON: ${e.message.replace(/ in JSON at position \d+.*$/, '').replace(/^./, (c) => c.toLowerCase())} at line ${line}, column ${column}`;
  }
  if (/^Unexpected end of JSON input/.test(e.message)) return 'not valid JSON: it ends before its last value is closed';
  // the character itself is not named: it may be the first of an unquoted secret
  if (/^Unexpected token /.test(e.message)) return 'not valid JSON: a value that is not JSON where one is expected (a text without its quotes?)';
  return 'not valid JSON';
}
