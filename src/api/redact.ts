// What of an api_v3 request URL may be logged. Besides the delivery secrets src/log.ts already
// hides, api_v3 carries secrets as path pairs (/secret/…, /ks/…, /1:ks/…) and as flattened multirequest
// keys (?1:ks=…, ?1%3Aks=…, ?1[ks]=…, ?1%5Bks%5D=…), which are hidden here too.
import { redactUrl } from '../log.js';

// Kaltura's clients also send passwords (user.loginByLoginId's password, partner.getSecrets'
// cmsPassword): hidden though kdeliver has neither action, as the URL is logged before the answer.
// session.get's `session` is a whole KS too (the session to describe). In a path, the service of
// that name (/service/session/..., /1:service/session/...) is a value, not a pair's name.
const API_SECRET_NAMES = 'ks|secret|adminSecret|userSecret|[a-z]*password|session';
const PATH_SECRET_NAMES = 'ks|secret|adminSecret|userSecret|[a-z]*password|(?<!service(?:\\]|%5D)?/)session';
const pathPair = new RegExp(`(/(?:[^/?]*?(?::|%3A|\\[|%5B))?(?:${PATH_SECRET_NAMES})(?:\\]|%5D|\\[|%5B)*/)[^/?]+`, 'gi');
const queryPair = new RegExp(`([?&](?:[^=&]*?(?::|%3A|\\[|%5B))?(?:${API_SECRET_NAMES})(?:\\]|%5D|\\[|%5B)*=)[^&]*`, 'gi');

// API v2's multirequest names them request{N}_ks, global_ks, request{N}_secret
const v2Pair = /([?&][^=&]*_(?:ks|secret)=)[^&]*/gi;

export function redactApiUrl(url: string): string {
  return redactUrl(url).replace(pathPair, '$1[redacted]').replace(queryPair, '$1[redacted]').replace(v2Pair, '$1[redacted]');
}
