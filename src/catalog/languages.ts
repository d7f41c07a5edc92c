// Kaltura stores a language name ("English") on assets; manifests want ISO 639-1 codes.
const CODES: Record<string, string> = {
  english: 'en', spanish: 'es', french: 'fr', german: 'de', italian: 'it', portuguese: 'pt', dutch: 'nl',
  russian: 'ru', chinese: 'zh', japanese: 'ja', korean: 'ko', arabic: 'ar', hebrew: 'he', hindi: 'hi',
  turkish: 'tr', polish: 'pl', swedish: 'sv', norwegian: 'no', danish: 'da', finnish: 'fi', greek: 'el',
  czech: 'cs', hungarian: 'hu', romanian: 'ro', ukrainian: 'uk', thai: 'th', vietnamese: 'vi', indonesian: 'id',
};
const NAMES: Record<string, string> = Object.fromEntries(Object.entries(CODES).map(([n, c]) => [c, n[0].toUpperCase() + n.slice(1)]));
const THREE_TO_TWO: Record<string, string> = {
  eng: 'en', spa: 'es', fra: 'fr', fre: 'fr', deu: 'de', ger: 'de', ita: 'it', por: 'pt', nld: 'nl', dut: 'nl', rus: 'ru',
  zho: 'zh', chi: 'zh', jpn: 'ja', kor: 'ko', ara: 'ar', heb: 'he', hin: 'hi', tur: 'tr', pol: 'pl', swe: 'sv',
};

/** A language name or code → ISO 639-1, or "und". */
export function languageCode(language: string): string {
  const l = language.trim().toLowerCase();
  if (!l) return 'und';
  if (CODES[l]) return CODES[l];
  if (NAMES[l]) return l;
  if (THREE_TO_TWO[l]) return THREE_TO_TWO[l];
  return 'und';
}

export function languageName(code: string): string {
  return NAMES[code] ?? 'Undefined';
}

const TWO_TO_THREE: Record<string, string> = {};
for (const [three, two] of Object.entries(THREE_TO_TWO)) TWO_TO_THREE[two] ??= three; // ISO 639-2/T first

/** An ISO 639-1 code (or a name) → the ISO 639-2 code MP4 headers carry, or "und". */
export function languageCode3(language: string): string {
  const l = language.trim().toLowerCase();
  return THREE_TO_TWO[l] ? l : TWO_TO_THREE[languageCode(l)] ?? 'und';
}

/**
 * Whether `wanted` (playManifest's defaultAudioLang: a 2- or 3-letter code, an English name, or
 * a track's label) names an audio track of this language (a code or a name) and label. One rule
 * for playManifest's own HLS master and the packager's manifests.
 */
export function namesAudioTrack(wanted: string, track: { language: string; label: string }): boolean {
  const w = wanted.toLowerCase();
  const code = languageCode(track.language);
  if (code !== 'und' && languageCode(w) === code) return true;
  const known = code !== 'und' ? [code, languageName(code).toLowerCase()] : [];
  return [...known, track.label.toLowerCase(), track.language.toLowerCase()].some((v) => v !== '' && v !== 'und' && v !== 'undefined' && v === w);
}
