#!/usr/bin/env node
// Generates a big catalog in the library description format (fixtures/README.md), for the
// big-catalog benchmark (bench/catalog.mjs) or to try kdeliver on one:
//   node scripts/make-big-library.mjs [--entries 1000000] [--partners 10] [--per-file 100000] [--out DIR]
// Writes DIR/library-000.json, library-001.json, ... (--per-file entries each: `kdeliver import`
// reads a file whole, and one JSON file of a million entries would pass V8's largest string),
// DIR/media/ (the media they name) and DIR/manifest.json (what the benchmark needs to build
// requests: partners and their secrets, entry-id scheme, access-control mix, flavors).
// Import after the sample library (it uses its flavor params and default delivery profiles):
//   kdeliver import fixtures/sample-library.json && for f in DIR/library-*.json; do kdeliver import $f; done
//
// Shape: partners 5001.. (admin secret big-admin-secret-{id}); each with five access-control
// profiles, given to entries in turn: 60 % none, 10 % each of "require KS" (session), site
// allow-list example.com, IP allow-list 127.0.0.0/8 and 10.0.0.0/8, limit to the 240p flavor.
// Entry n (0-based) belongs to partner 5001 + (n mod partners), id `{0_}{n in base 36, 8 digits}`,
// three READY flavors (240p, 360p, 720p, the sample library's H.264 files), names drawn from a
// small vocabulary (for nameLike filters), creation times spread over five years.
// Media: the importer hard-links every flavor file into the data directory, and a file can have
// at most ~65,000 links (ext4), after which the importer copies it; so the three sample files
// are copied once per 50,000 entries and entries take their copy by block.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node scripts/make-big-library.mjs [--entries 1000000] [--partners 10] [--per-file 100000] [--out DIR]\n' +
  '  writes DIR/library-000.json, ... (--per-file entries each), DIR/media/ and DIR/manifest.json (default DIR: bench/.work/big-library);\n' +
  '  import them after the sample library: for f in DIR/library-*.json; do kdeliver import "$f"; done\n';
const LINKS_PER_COPY = 50_000;
const FIRST_PARTNER = 5001;
export const PROFILES = ['none', 'require KS', 'site example.com', 'IP 127/8 + 10/8', 'limit 240p'];

/**
 * Where entry n (0-based) of a catalog of `partners` partners sits: its id, partner, access
 * profile (index into PROFILES; the profile's id is partnerId * 10 + k), the flavor ids the
 * player's sources carry for it, and whether it needs a KS. The benchmark builds its requests
 * with these, so they must stay what the generator writes.
 */
export function catalogShape(partners) {
  const entryId = (n) => `0_${n.toString(36).padStart(8, '0')}`;
  const partnerOf = (n) => FIRST_PARTNER + (n % partners);
  const profileOf = (n) => {
    const slot = Math.floor(n / partners) % 10; // 0-5: none, 6: KS, 7: site, 8: IP, 9: limit
    return slot < 6 ? 0 : slot - 5;
  };
  return {
    entryId, partnerOf, profileOf,
    flavorIdsOf: (n) => (profileOf(n) === 4 ? [`${entryId(n)}_1`] : FLAVORS.map((f) => `${entryId(n)}_${f.k}`)).join(','),
    needsKs: (n) => profileOf(n) === 1,
    partnerIds: Array.from({ length: partners }, (_, i) => FIRST_PARTNER + i),
    adminSecret: (pid) => `big-admin-secret-${pid}`,
  };
}

const FLAVORS = [
  { k: 1, flavorParamsId: 301961, file: 'h264-240p', width: 426, height: 240, bitrate: 378, codecs: 'avc1.640015,mp4a.40.2', tags: 'web,mbr,iphone,iphonenew,applembr,dash' },
  { k: 2, flavorParamsId: 301951, file: 'h264-360p', width: 640, height: 360, bitrate: 630, codecs: 'avc1.64001e,mp4a.40.2', tags: 'mobile,web,mbr,iphone,iphonenew,ipadnew,applembr,dash' },
  { k: 3, flavorParamsId: 301971, file: 'h264-720p', width: 1280, height: 720, bitrate: 1335, codecs: 'avc1.64001f,mp4a.40.2', tags: 'mobile,web,mbr,ipad,ipadnew,applembr,dash' },
];
const WORDS = ['lecture', 'keynote', 'webinar', 'tutorial', 'interview', 'demo', 'review', 'trailer', 'recap', 'panel',
  'workshop', 'briefing', 'training', 'launch', 'update', 'story', 'highlights', 'session', 'overview', 'talk'];

// a small integer hash, so every partner's names use the whole vocabulary
function mix(x) {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

function profilesOf(pid) {
  return [
    { id: pid * 10 + 1, partnerId: pid, name: 'Require KS', systemName: 'require_ks', restrictions: [{ type: 'session' }] },
    { id: pid * 10 + 2, partnerId: pid, name: 'Only example.com', systemName: 'site_example_com', restrictions: [{ type: 'site', listType: 'allow', siteList: 'example.com' }] },
    { id: pid * 10 + 3, partnerId: pid, name: 'Loopback and 10/8', systemName: 'ip_local', restrictions: [{ type: 'ip', listType: 'allow', ipAddressList: '127.0.0.0/8,10.0.0.0/8' }] },
    { id: pid * 10 + 4, partnerId: pid, name: 'Only the 240p flavor', systemName: 'limit_240p', rules: [{ actions: [{ type: 'limitFlavors', flavorParamsIds: [301961], isBlockedList: false }] }] },
  ];
}

function entry(shape, n) {
  const id = shape.entryId(n);
  const pid = shape.partnerOf(n);
  const prof = shape.profileOf(n);
  const copy = Math.floor(n / LINKS_PER_COPY);
  const w = (k) => WORDS[mix(n * 4 + k) % WORDS.length];
  return {
    id, partnerId: pid, name: `${w(1)} ${w(2)} ${n}`, description: '', type: 1, mediaType: 1, status: 2, duration: 12,
    createdAt: 1577836800 + Math.floor((n * 157.7) % (5 * 365 * 86400)), tags: `${w(3)},big`, referenceId: `ref-${n}`,
    ...(prof ? { accessControlProfileId: pid * 10 + prof } : {}),
    flavors: FLAVORS.map((f) => ({
      id: `${id}_${f.k}`, flavorParamsId: f.flavorParamsId, file: `${f.file}-${copy}.mp4`, width: f.width, height: f.height, bitrate: f.bitrate,
      frameRate: 25, codecs: f.codecs, tags: f.tags, containerFormat: 'isom', videoCodec: 'h264', audioCodec: 'aac', durationMs: 12000,
    })),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      partners: { type: 'string', default: '10' },
      'per-file': { type: 'string', default: '100000' },
      out: { type: 'string', default: join(root, 'bench', '.work', 'big-library') },
      help: { type: 'boolean', short: 'h' },
    },
    strict: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  // an option it does not know, or one without its value: the usage, not a stack
  const known = new Set(['entries', 'partners', 'per-file', 'out', 'help']);
  for (const [name, v] of Object.entries(values)) {
    if (!known.has(name) || (name !== 'help' && typeof v !== 'string')) {
      process.stderr.write(`make-big-library: ${known.has(name) ? `--${name} needs a value` : `unknown option --${name}`}\n${USAGE}`);
      process.exit(2);
    }
  }
  // whole numbers from 1: --per-file 0 looped forever writing empty library files, and a value
  // that is not a number (--entries 1e6x) wrote nothing and said it had done so
  const count = (name) => {
    const v = values[name];
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      process.stderr.write(`make-big-library: --${name} ${JSON.stringify(v)}: expected a whole number from 1\n`);
      process.exit(2);
    }
    return Number(v);
  };
  const ENTRIES = count('entries');
  const PER_FILE = count('per-file');
  const PARTNERS = count('partners');
  const OUT = resolve(values.out);
  const shape = catalogShape(PARTNERS);
  const t0 = Date.now();
  const mediaDir = join(OUT, 'media');
  mkdirSync(mediaDir, { recursive: true });
  const copies = Math.ceil(ENTRIES / LINKS_PER_COPY);
  for (let c = 0; c < copies; c++) {
    for (const f of FLAVORS) {
      const dest = join(mediaDir, `${f.file}-${c}.mp4`);
      if (!existsSync(dest)) copyFileSync(join(root, 'fixtures', 'media', `${f.file}.mp4`), dest);
    }
  }
  const files = [];
  for (let start = 0, k = 0; start < ENTRIES; start += PER_FILE, k++) {
    const lib = { version: 1, mediaDir: 'media', entries: [] };
    if (k === 0) {
      lib.partners = shape.partnerIds.map((id) => ({ id, name: `Big partner ${id}`, adminSecret: shape.adminSecret(id), userSecret: `big-user-secret-${id}` }));
      lib.accessControlProfiles = shape.partnerIds.flatMap(profilesOf);
    }
    for (let n = start; n < Math.min(ENTRIES, start + PER_FILE); n++) lib.entries.push(entry(shape, n));
    const file = join(OUT, `library-${String(k).padStart(3, '0')}.json`);
    writeFileSync(file, JSON.stringify(lib));
    files.push(file);
    // redrawn in place on a terminal; elsewhere (a pipe, a log) a line each, not one run-on line
    const done = `${Math.min(ENTRIES, start + PER_FILE).toLocaleString('en')} / ${ENTRIES.toLocaleString('en')} ${ENTRIES === 1 ? 'entry' : 'entries'} written`;
    process.stderr.write(process.stderr.isTTY ? `\r${done}` : `${done}\n`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const manifest = { entries: ENTRIES, partners: shape.partnerIds.length, perFile: PER_FILE, files, generatedAt: new Date().toISOString(), seconds: (Date.now() - t0) / 1000 };
  writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2));
  console.log(`${files.length} library file${files.length === 1 ? '' : 's'} of up to ${PER_FILE.toLocaleString('en')} ${PER_FILE === 1 ? 'entry' : 'entries'} in ${OUT} (${manifest.seconds.toFixed(1)} s)`);
}
