// kdeliver test console: plain browser JavaScript, no build step. Talks to /console/api/* with the
// admin KS kept in sessionStorage (never in localStorage, never in a URL).
'use strict';

const KS_KEY = 'kdeliver.console.ks';
// set when the KS is the one this page got for the admin secret (not one the user brought)
const MINTED_KEY = 'kdeliver.console.minted';
const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') n.className = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else n.setAttribute(k, v);
  }
  for (const c of children) n.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return n;
};

const state = { partnerId: null, catalog: null, entry: null, hls: null, dash: null, kplayer: null, attempt: 0, failed: -1 };

// ---- API ------------------------------------------------------------------------------------------
async function api(path, opts = {}) {
  const headers = { ...(opts.body ? { 'content-type': 'application/json' } : {}) };
  const ks = sessionStorage.getItem(KS_KEY);
  if (ks) headers['x-kaltura-ks'] = ks;
  const res = await fetch(path, { method: opts.body ? 'POST' : 'GET', headers, body: opts.body ? JSON.stringify(opts.body) : undefined });
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch { /* the server's plain-text refusals (a body over its limit) */ }
  if (!res.ok) {
    const err = new Error((data && data.message) || text.trim().slice(0, 300) || `HTTP ${res.status}`);
    err.status = res.status;
    // the KS expired, was revoked or its partner's secret changed: back to the login form
    if (res.status === 401 && path !== '/console/api/login' && ks) showLogin(`Your session ended (${err.message}): log in again.`);
    throw err;
  }
  return data;
}

function showLogin(message) {
  sessionStorage.removeItem(KS_KEY);
  sessionStorage.removeItem(MINTED_KEY);
  stopPlayback();
  Object.assign(state, { partnerId: null, catalog: null, entry: null });
  $('#app').hidden = true;
  $('#who').hidden = true;
  $('#why-card').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
}

// ---- login ----------------------------------------------------------------------------------------
async function login(ev) {
  ev.preventDefault();
  $('#login-error').textContent = '';
  const mode = document.querySelector('input[name=mode]:checked').value;
  const partnerId = $('#login-partner').value.trim();
  const credential = $('#login-credential').value.trim();
  if (!/^\d{1,10}$/.test(partnerId)) {
    $('#login-error').textContent = 'Partner id: a number, such as 309';
    return;
  }
  try {
    if (mode === 'secret') {
      const res = await api('/console/api/login', { body: { partnerId, secret: credential } });
      sessionStorage.setItem(KS_KEY, res.ks);
      sessionStorage.setItem(MINTED_KEY, '1');
    } else {
      sessionStorage.setItem(KS_KEY, credential);
      sessionStorage.removeItem(MINTED_KEY);
      // the KS names its partner: one of another partner than the one typed is a mistake
      const session = await api('/console/api/session');
      if (String(session.partnerId) !== partnerId) throw new Error(`this KS is of partner ${session.partnerId}, not ${partnerId}`);
    }
    $('#login-credential').value = '';
    await start();
  } catch (e) {
    sessionStorage.removeItem(KS_KEY);
    sessionStorage.removeItem(MINTED_KEY);
    $('#login-error').textContent = e.message;
  }
}

async function logout() {
  const ks = sessionStorage.getItem(KS_KEY);
  const minted = sessionStorage.getItem(MINTED_KEY) === '1';
  sessionStorage.removeItem(KS_KEY);
  sessionStorage.removeItem(MINTED_KEY);
  stopPlayback();
  // the 8-hour KS this page got for the secret ends on the server too (api_v3 session.end), so a
  // copy of it is of no use after Log out; a KS the user brought is theirs and stays valid
  if (ks && minted) {
    await fetch('/api_v3/service/session/action/end?format=1', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `ks=${encodeURIComponent(ks)}`,
    }).catch(() => {});
  }
  location.reload();
}

async function start() {
  const session = await api('/console/api/session');
  state.partnerId = session.partnerId;
  $('#who-text').textContent = `partner ${session.partnerId} (${session.partnerName}), KS valid until ${new Date(session.expiry * 1000).toLocaleString()}`;
  $('#who').hidden = false;
  $('#login').hidden = true;
  $('#app').hidden = false;
  state.catalog = await api('/console/api/catalog');
  renderEntries();
  renderBuilder();
  // the first entry that plays as it is: ready, with flavors, and without access-control rules
  // (one that needs a KS would greet a person with a 403 at their first Play)
  const ready = state.catalog.entries.filter((e) => e.status === 2 && e.flavors.length);
  const first = ready.find((e) => !e.accessControl || !e.accessControl.rules.length) || ready[0] || state.catalog.entries[0];
  if (first) selectEntry(first.id);
}

// ---- catalog --------------------------------------------------------------------------------------
const STATUS = { '-2': 'error importing', '-1': 'error converting', 0: 'import', 1: 'converting', 2: 'ready', 3: 'deleted', 4: 'pending', 5: 'moderate', 6: 'blocked', 7: 'no content' };
const MODERATION = { 1: 'pending moderation', 3: 'rejected by moderation', 5: 'flagged for review' };

// A ready entry may still be refused for its moderation or its schedule: say so where its status is
function statusText(e) {
  const now = Date.now() / 1000;
  return [STATUS[e.status] ?? e.status, MODERATION[e.moderationStatus],
    e.startDate && e.startDate > now ? 'scheduled later' : null, e.endDate && e.endDate < now ? 'schedule ended' : null].filter(Boolean).join(', ');
}

function renderEntries() {
  const { partner, entries } = state.catalog;
  const cut = state.catalog.entriesTotal > entries.length ? `: ${entries.length} of ${state.catalog.entriesTotal} listed` : '';
  $('#partner-title').textContent = `Entries of partner ${partner.id} (${partner.name})${partner.enforceEncryption ? ', HTTPS enforced' : ''}${cut}`;
  const filter = $('#entry-filter').value.trim().toLowerCase();
  const body = $('#entries tbody');
  body.replaceChildren(...entries
    .filter((e) => !filter || e.id.toLowerCase().includes(filter) || e.name.toLowerCase().includes(filter))
    .map((e) => el('tr', { dataset: { entryId: e.id }, class: state.entry && state.entry.id === e.id ? 'selected' : '', onclick: () => selectEntry(e.id) },
      el('td', {}, el('code', {}, e.id)), el('td', {}, e.name), el('td', {}, statusText(e)),
      el('td', {}, e.flavors.length), el('td', {}, e.accessControl ? e.accessControl.rules.length : ''))));
}

function selectEntry(id) {
  const e = state.catalog.entries.find((x) => x.id === id);
  if (!e) return;
  state.entry = e;
  $('#why-card').hidden = true; // a trace belongs to the URL it was asked for
  renderEntries();
  $('#entry-card').hidden = false;
  $('#entry-title').textContent = `${e.id}: ${e.name} (type ${e.type}, mediaType ${e.mediaType}, ${statusText(e)}, ${e.duration} s)`;
  $('#flavors tbody').replaceChildren(...e.flavors.map((f) => el('tr', {},
    el('td', {}, el('code', {}, f.id)), el('td', {}, `${f.flavorParamsId} ${f.paramsName}`), el('td', {}, f.width ? `${f.width}x${f.height}${f.rotation ? `, turned ${f.rotation}° clockwise` : ''}` : f.packagingRefusal ? '?' : 'audio'),
    el('td', {}, f.bitrate), el('td', {}, f.codecs || f.fileExt), el('td', {}, f.language), el('td', {}, f.tags.join(',')),
    // a file the packager refuses (src/selection/flavors.ts leaves it out of HLS, DASH and Smooth Streaming): said, with why
    el('td', f.packagingRefusal ? { title: f.packagingRefusal } : {}, `${f.status === 2 ? 'ready' : f.status}${f.packagingRefusal ? `, a file only: not packaged (${f.packagingRefusal})` : ''}`))));
  $('#captions').textContent = e.captions.length ? `Captions: ${e.captions.map((c) => `${c.id} ${c.language} (${c.format})`).join(', ')}` : '';
  // an image or a document has no flavors and no playManifest: its file is the raw URL
  const raw = e.mediaType === 2 || e.type === 10;
  $('#raw-file').hidden = !raw;
  $('#raw-file').replaceChildren(...(raw ? [`${e.type === 10 ? 'A document' : 'An image'}: nothing to play; its file is `,
    el('a', { href: `/p/${state.partnerId}/sp/${state.partnerId}00/raw/entry_id/${e.id}`, target: '_blank', rel: 'noopener' }, 'the raw URL')] : []));
  $('#rules-box').hidden = !e.accessControl;
  $('#rules').textContent = e.accessControl ? JSON.stringify(e.accessControl, null, 2) : '';
  const entryField = $('#f-entryId');
  if (entryField) { entryField.value = e.id; updateUrl(); }
}

// ---- URL builder ----------------------------------------------------------------------------------
// Every playManifest parameter, with its short alias where Kaltura has one.
const FIELDS = [
  ['entryId', 'e', 'text'], ['format', 'f', ['applehttp', 'mpegdash', 'url', 'download', 'http', 'hdnetworkmanifest', 'hdnetworksmil', 'sl', 'rtmp', 'rtsp', 'hds', 'hls']],
  ['protocol', 'pt', ['http', 'https', '']], ['flavorId', 'fi'], ['flavorIds', 'fs'], ['flavorParamId', 'fp'], ['flavorParamIds', 'fps'],
  ['tags', 't'], ['preferredBitrate', 'pb'], ['maxBitrate', 'mb'], ['minBitrate', 'mib'], ['seekFrom', 'sf'], ['clipTo', 'ct'],
  ['playbackRate'], ['storageId', 'si'], ['cdnHost', 'ch'], ['deliveryProfileId'], ['deliveryCode', 'dc'], ['playbackContext', 'pc'],
  ['ks'], ['referrer', 'r', 'text', 'plain text; sent base64'], ['responseFormat', '', ['', 'json', 'jsonp', 'f4m', 'smil', 'm3u8', 'redirect', 'xml']],
  ['callback'], ['expiry', 'ex'], ['kt'], ['uiConfId', 'ui'], ['clientTag'], ['playSessionId'], ['defaultAudioLang'], ['muxedAudioLang'],
  ['tracks'], ['sequence'], ['type', '', ['', 'media']], ['hashes'], ['ext', '', 'text', 'file-name tail, e.g. a.m3u8'],
];
const EXT = { applehttp: 'a.m3u8', hls: 'a.m3u8', mpegdash: 'manifest.mpd', url: 'a.mp4', download: 'a.mp4', http: 'a.mp4', hdnetworkmanifest: 'manifest.f4m', hds: 'manifest.f4m', sl: 'Manifest' };

function renderBuilder() {
  const box = $('#builder-fields');
  box.replaceChildren(...FIELDS.map(([name, alias, kind = 'text', hint]) => {
    const id = `f-${name}`;
    const input = Array.isArray(kind)
      ? el('select', { id, name }, ...kind.map((v) => el('option', { value: v }, v || '(none)')))
      : el('input', { id, name, placeholder: hint || (alias ? `alias ${alias}` : '') });
    input.addEventListener('input', updateUrl);
    input.addEventListener('change', updateUrl);
    return el('label', {}, name, input);
  }));
  $('#f-protocol').value = location.protocol === 'https:' ? 'https' : 'http';
  $('#f-format').value = 'applehttp';
  updateUrl();
}

const b64url = (s) => btoa(unescape(encodeURIComponent(s))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function buildUrl() {
  const v = (n) => ($(`#f-${n}`) ? $(`#f-${n}`).value.trim() : '');
  const pid = state.partnerId;
  const parts = [`/p/${pid}/sp/${pid}00/playManifest`];
  const query = [];
  for (const [name] of FIELDS) {
    if (name === 'ext' || name === 'callback') continue;
    let val = v(name);
    if (!val) continue;
    if (name === 'referrer') val = b64url(val);
    parts.push(encodeURIComponent(name), encodeURIComponent(val));
  }
  const ext = v('ext') || EXT[v('format')] || 'a.mp4';
  if (v('callback')) query.push(`callback=${encodeURIComponent(v('callback'))}`);
  return parts.join('/') + '/' + ext + (query.length ? `?${query.join('&')}` : '');
}

function updateUrl() { $('#url').value = location.origin + buildUrl(); }

// ---- why ------------------------------------------------------------------------------------------
async function why(url = buildUrl()) {
  const card = $('#why-card');
  card.hidden = false;
  $('#why-verdict').textContent = 'asking…';
  $('#why-rules').replaceChildren();
  $('#why-steps').replaceChildren();
  let res;
  try {
    res = await api('/console/api/trace', { body: { url } });
  } catch (e) {
    $('#why-verdict').className = 'verdict-refused';
    $('#why-verdict').textContent = `trace unavailable: ${e.message}`;
    return null;
  }
  const verdict = $('#why-verdict');
  if (res.plays && res.key) {
    // a key URI or licence URL (the panel builds playManifest URLs; the API explains both)
    verdict.className = 'verdict-plays';
    verdict.textContent = `Key given: ${res.key.entryId}, key id(s) ${res.key.keyIds.join(', ')}.`;
  } else if (res.plays) {
    verdict.className = 'verdict-plays';
    verdict.textContent = `Plays: ${res.result.flavors.length} flavor(s) [${res.result.flavors.join(', ')}] as ${res.result.format} through delivery profile ${res.result.profile.id} (${res.result.profile.name})` +
      `${res.result.profile.tokenizer ? `, tokenizer ${res.result.profile.tokenizer}` : ', no tokenizer'}${res.result.clipTo ? `, clipped to ${res.result.clipTo} ms` : ''}.`;
  } else {
    verdict.className = 'verdict-refused';
    verdict.textContent = `Refused: error ${res.error.code} ${res.error.name} (HTTP ${res.error.httpStatus}): ${res.error.message}` +
      (res.error.headers.length ? ` [${res.error.headers.join('; ')}]` : '');
  }
  $('#why-rules').replaceChildren(...res.firedRules.map(({ index, rule }) => el('div', { class: 'rule', dataset: { ruleIndex: index } },
    el('strong', {}, `Access-control rule #${index} fired`), rule.description ? ` (${rule.description})` : '',
    rule.message ? el('div', {}, `message: ${rule.message}`) : '',
    el('div', {}, `actions: ${rule.actions.map((a) => a.type + (a.limit !== undefined ? ` ${a.limit}s` : '') + (a.flavorParamsIds ? ` ${a.isBlockedList ? 'block' : 'allow'} ${a.flavorParamsIds.join(',')}` : '')).join(', ')}`),
    el('pre', {}, JSON.stringify(rule.conditions || [], null, 1)))));
  $('#why-steps').replaceChildren(...res.trace.map((s) => el('li', { dataset: { stage: s.stage } },
    el('span', { class: `stage stage-${s.stage}` }, s.stage), s.message,
    s.data !== undefined ? el('details', s.stage === 'selection' || s.stage === 'access' ? { open: '' } : {}, el('summary', {}, 'details'), el('pre', {}, JSON.stringify(s.data, null, 1))) : '')));
  return res;
}

// ---- playback -------------------------------------------------------------------------------------
const loaded = {};
function loadScript(src) {
  if (!loaded[src]) {
    loaded[src] = new Promise((resolve, reject) => {
      const s = el('script', { src });
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(s);
    });
  }
  return loaded[src];
}

function setStatus(text, cls = '') {
  const p = $('#play-status');
  p.textContent = text;
  p.className = cls;
}

function stopPlayback() {
  if (state.hls) { state.hls.destroy(); state.hls = null; }
  if (state.dash) { state.dash.reset(); state.dash = null; }
  if (state.kplayer) { try { state.kplayer.destroy(); } catch { /* already gone */ } state.kplayer = null; }
  const v = $('#video');
  v.pause();
  v.removeAttribute('src');
  v.load();
  // players add text tracks with addTextTrack, which has no remove: a fresh element, so that the
  // next entry does not offer the captions of this one
  const fresh = v.cloneNode(false);
  fresh.hidden = true;
  v.replaceWith(fresh);
  $('#kplayer').hidden = true;
  $('#kplayer').replaceChildren();
  state.attempt += 1;
  setStatus('idle');
}

// once per Play: a player reports one failure through several paths (an event and a rejection)
async function playFailed(message) {
  if (state.failed === state.attempt) return;
  state.failed = state.attempt;
  setStatus(`playback failed: ${message}`, 'error');
  await why();
}

// The Kaltura player's errors are plain objects ({code, category, data}); a refused entry is
// LOAD_FAILED wrapping the provider's error, whose data carries the server's messages.
function kalturaError(err, fromEvent) {
  if (!err || typeof err !== 'object') return `Kaltura player: ${err}`;
  if (err instanceof Error) return `Kaltura player: ${err.message}`;
  const core = window.KalturaPlayer && window.KalturaPlayer.core && window.KalturaPlayer.core.Error;
  const nameOf = (table, v) => (table ? (Object.entries(table).find(([, x]) => x === v) || [])[0] : undefined);
  const inner = err.data && typeof err.data === 'object' && typeof err.data.code === 'number' ? err.data : err;
  const d = inner.data;
  const messages = d && Array.isArray(d.messages) ? d.messages.map((m) => `${m.message}${m.code ? ` (${m.code})` : ''}`).join('; ')
    : d && typeof d.messages === 'string' ? d.messages : typeof d === 'string' ? d : '';
  // only the player's own event uses the core's tables (the provider's codes are numbered apart)
  const names = fromEvent ? [nameOf(core && core.Code, err.code), nameOf(core && core.Category, err.category)].filter(Boolean) : [];
  return `Kaltura player error ${err.code}${names.length ? ` ${names.join(', ')}` : ''}${messages ? `: ${messages}` : ''}`;
}

// Which player plays what a format answers; null when none in this page does.
const FORMAT_PLAYERS = {
  applehttp: ['hlsjs', 'native', 'kaltura'], hls: ['hlsjs', 'native', 'kaltura'], mpegdash: ['dashjs', 'kaltura'],
  sl: ['dashjs', 'kaltura'], url: ['native', 'kaltura'], download: ['native', 'kaltura'],
};
const NO_PLAYER = {
  http: 'an F4M manifest (Flash HDS)', hdnetworkmanifest: 'an F4M manifest (Flash HDS)', hdnetworksmil: 'a SMIL for Flash', hds: 'HDS (Flash)',
  rtmp: 'an RTMP stream', rtsp: 'an RTSP stream',
};
const PLAYER_NAMES = { hlsjs: 'hls.js', dashjs: 'dash.js', native: 'the native <video>', kaltura: 'the Kaltura web player' };

/** Why `kind` cannot play `format` here, or null. */
function cannotPlay(kind, format, video) {
  if (kind === 'kaltura') return null; // it asks api_v3 and picks its own format
  const rf = $('#f-responseFormat') ? $('#f-responseFormat').value : '';
  if (['json', 'jsonp', 'f4m', 'smil'].includes(rf)) return `responseFormat ${rf} answers a description of the media, not media: clear responseFormat to play`;
  if (NO_PLAYER[format]) return `format ${format} answers ${NO_PLAYER[format]}, which no player in a browser plays; "Why?" shows what the server decides`;
  const players = FORMAT_PLAYERS[format];
  if (players && !players.includes(kind)) return `${PLAYER_NAMES[kind]} does not play format ${format}: choose ${players.map((k) => PLAYER_NAMES[k]).join(' or ')}`;
  if (kind === 'native' && (format === 'applehttp' || format === 'hls') && !video.canPlayType('application/vnd.apple.mpegurl')) {
    return 'this browser\'s <video> does not play HLS: choose hls.js';
  }
  return null;
}

function watchVideo(v, hint = '') {
  v.hidden = false;
  v.ontimeupdate = () => { if (v.currentTime > 0) setStatus(`playing ${v.currentTime.toFixed(1)} s`, 'ok'); };
  v.onerror = () => playFailed(`${v.error ? `media error ${v.error.code} ${v.error.message || ''}` : 'media error'}${hint}`);
}

async function play() {
  stopPlayback();
  const url = location.origin + buildUrl();
  const format = $('#f-format').value;
  let kind = $('#player-kind').value;
  if (kind === 'auto') kind = (FORMAT_PLAYERS[format] || ['native'])[0];
  const v = $('#video');
  const refusal = cannotPlay(kind, format, v);
  if (refusal) return playFailed(refusal);
  setStatus(`loading with ${kind}…`);
  try {
    if (kind === 'hlsjs') {
      await loadScript('/console/vendor/hls.js');
      if (!window.Hls.isSupported()) throw new Error('hls.js: MediaSource unsupported in this browser');
      const hls = new window.Hls();
      state.hls = hls;
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) playFailed(`hls.js ${data.type} ${data.details}${data.response ? ` (HTTP ${data.response.code})` : ''}`);
      });
      watchVideo(v);
      hls.loadSource(url);
      hls.attachMedia(v);
      await v.play().catch(() => {});
    } else if (kind === 'dashjs') {
      await loadScript('/console/vendor/dash.js');
      // Smooth Streaming: dash.js's separate MSS bundle, picked up by MediaPlayer when created
      if (format === 'sl') await loadScript('/console/vendor/dash.mss.js');
      const player = window.dashjs.MediaPlayer().create();
      state.dash = player;
      player.on(window.dashjs.MediaPlayer.events.ERROR, (e) => playFailed(`dash.js ${e.error && (e.error.message || e.error.code)}`));
      watchVideo(v);
      player.initialize(v, url, true);
    } else if (kind === 'native') {
      // a refused playManifest answers 403/404: learn it before handing the URL to the element
      const head = await fetch(url, { method: 'HEAD', redirect: 'follow' }).catch(() => null);
      if (head && !head.ok) return playFailed(`HTTP ${head.status}${head.headers.get('x-kaltura') ? ` (${head.headers.get('x-kaltura')})` : ''}`);
      // a browser may claim HLS (canPlayType) and still fail on a stream hls.js plays
      watchVideo(v, format === 'applehttp' || format === 'hls' ? ' (the browser\'s own HLS support: try hls.js)' : '');
      v.src = url;
      await v.play().catch(() => {});
    } else if (kind === 'kaltura') {
      await loadScript('/console/vendor/kaltura-ovp-player.js');
      const box = $('#kplayer');
      box.hidden = false;
      const ks = $('#f-ks').value.trim();
      const player = window.KalturaPlayer.setup({
        targetId: 'kplayer',
        provider: { partnerId: state.partnerId, ...(ks ? { ks } : {}), env: { serviceUrl: `${location.origin}/api_v3`, cdnUrl: location.origin } },
        playback: { autoplay: true, muted: true },
      });
      state.kplayer = player;
      player.addEventListener('timeupdate', () => { if (player.currentTime > 0) setStatus(`playing ${player.currentTime.toFixed(1)} s (Kaltura player)`, 'ok'); });
      player.addEventListener('error', (e) => { if (!e.payload || e.payload.severity === 2) playFailed(kalturaError(e.payload, true)); });
      await player.loadMedia({ entryId: $('#f-entryId').value.trim() }).catch((e) => playFailed(kalturaError(e, false)));
    }
  } catch (e) {
    playFailed(e.message || String(e));
  }
}

// ---- wiring ---------------------------------------------------------------------------------------
$('#login-form').addEventListener('submit', login);
$('#logout').addEventListener('click', logout);
$('#entry-filter').addEventListener('input', renderEntries);
$('#why-button').addEventListener('click', () => why());
$('#trace-button').addEventListener('click', () => {
  const url = $('#trace-url').value.trim();
  if (url) why(url);
});
$('#play-button').addEventListener('click', play);
$('#stop-button').addEventListener('click', stopPlayback);
$('#copy-url').addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText($('#url').value));
if (sessionStorage.getItem(KS_KEY)) {
  start().catch((e) => {
    if (e.status === 401) return; // api() has shown the login form, saying why
    // kdeliver did not answer (restarting?): the KS is kept, so a reload resumes the session
    $('#app').hidden = true;
    $('#login').hidden = false;
    $('#login-error').textContent = `Could not reach kdeliver (${e.message}): reload the page to try again.`;
  });
}
