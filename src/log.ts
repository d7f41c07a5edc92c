// Secrets travel inside delivery URLs (ks, kt, signatures); logs get a redacted copy.
const SECRET_PATH_KEYS = ['ks', 'kt', 'sig', 'hdnts', 'hdnea', 'token', '__gda__', 'Signature', 'Policy', 'Key-Pair-Id', 'hashes'];
const pathRe = new RegExp(`/(${SECRET_PATH_KEYS.join('|')})/[^/?]+`, 'g');
const queryRe = new RegExp(`([?&](?:${SECRET_PATH_KEYS.join('|')}|secret|adminSecret|userSecret)=)[^&]*`, 'gi');

/** A URL with every secret-bearing path pair and query value replaced by "[redacted]". */
export function redactUrl(url: string): string {
  return url.replace(pathRe, '/$1/[redacted]').replace(queryRe, '$1[redacted]');
}
