// kdeliver: the command line. `serve` runs the server; the other commands work on the catalog.
// The `kdeliver` executable is ./kdeliver.ts; this module only dispatches, so tests can import it.
import { ConfigError, listenUrl, loadConfig, mediaLocation, openUrl } from '../config.js';
import { DataDirError } from '../data-dir.js';
import { GeoError } from '../access/geo.js';
import { mediaWriteRefusal } from '../storage/write-refusal.js';
import { MediaWriteError, openMediaWriter } from '../storage/media-writer.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import type { Catalog } from '../catalog/store.js';
import { shippedFile } from '../shipped.js';
import { SAMPLE_PARTNER, SampleCatalogError, sampleLibraryReplaced } from '../catalog/sample-record.js';
import { ImportInterrupted, importLibrary, interruptedImport, LibraryError, readLibraryFile } from '../catalog/library.js';
import { CatalogSchemaTooNewError, CatalogUnavailableError, dataDirWriteProblem } from '../catalog/errors.js';
import { importProgress } from './progress.js';
import { unsentBytesDrained } from './unsent-bytes.js';
import { asksForHelp, commandLine, typedCommand } from './usage.js';
import { basename, dirname, join } from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: kdeliver <command> [options]

  serve                          run the server (PORT, HOST, KDELIVER_DATA_DIR, ...; see README)
  partner add [--id <id>] [--name <name>] [--json]
                                 create a partner with random admin and user secrets (printed once)
  partner list [--json]          list partners (without their secrets)
  partner secret add --partner <id> [--primary] [--secret <secret>|-] [--json]
                                 give a partner another admin secret (random unless given; printed once);
                                 --primary: sign with it from now on, the old one still accepted
  partner secret remove --partner <id> --secret <secret>|-
                                 take an additional admin secret away: its KSs are refused at once
  import <library.json>          import a library description (partners, profiles, entries, media)
  export [file]                  write the catalog as a library description
  copy-catalog                   copy the data directory's SQLite catalog into KDELIVER_DATABASE_URL (PostgreSQL)
  import-kaltura --service-url <url> --partner-id <id> --admin-secret <secret> (--entry-ids <id,id> | --all)
                 [--as-partner <id>] [--no-media] [--jobs <n>]
                                 copy a Kaltura partner's entries, flavors, captions and rules through api_v3
  ingest <file> --partner <id> [--entry-id <id>] [--name <name>] [--conversion-profile <id>] [--jobs <n>] [--queue-only]
                                 add a media file as a new entry, transcoded to the conversion profile's ladder
  ingest --retry <entryId>       transcode a failed entry again
  entries list [--partner <id>] [--json]
                                 list entries (with the reason of those in ERROR)
  entries delete <id>            delete an entry and its files
  ks --partner <id> --type admin|user [--user X] [--privileges 'sview:*'] [--expiry 86400] [--v1]
                                 print a Kaltura session (KS) signed with the partner's admin secret
  sign <url> [--expiry <unix>]   print a playManifest URL signed with a kt token
  version                        print the version of kdeliver (also --version)

  kdeliver <command> --help      the options of a command (also kdeliver help <command>)
`;

/** The commands `help <command>` knows. */
const COMMANDS = ['serve', 'partner', 'import', 'export', 'copy-catalog', 'import-kaltura', 'ingest', 'entries', 'ks', 'sign', 'version'];

const SERVE_USAGE = `usage: kdeliver serve
  takes no options or arguments: it is configured by environment variables (or a JSON file named
  by KDELIVER_CONFIG), among them
    PORT=8080                  the port to listen on
    HOST=127.0.0.1             the address to listen on (0.0.0.0: every interface)
    KDELIVER_DATA_DIR=storage  the catalog, the media and the generated secrets
    KDELIVER_PUBLIC_URL=...    the public base URL of the URLs it emits
    NODE_ENV=production        no sample library unless KDELIVER_SAMPLE_LIBRARY=true
  every variable and its default: README.md, "Configuration"
  e.g. PORT=9000 HOST=0.0.0.0 kdeliver serve
`;

/** The version of package.json, found above this module (dist/src/cli in a checkout and the image, src/cli under tsx). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kdeliver' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/**
 * `serve` takes nothing on its command line: a person who typed `serve --port 9` must not believe
 * the server is on port 9 while it listens on PORT (8080 by default).
 */
function serveArguments(args: string[]): number | null {
  const cli = commandLine('serve', SERVE_USAGE);
  if (asksForHelp(args)) return cli.help();
  if (args.length === 0) return null;
  // --port 9, --port=9, -p 9, --host ..., --data-dir ...: name the variable that does it
  const option = /^--?([a-z-]+)(?:=(.*))?$/i.exec(args[0]);
  const variable = option ? SERVE_SETTINGS[option[1].toLowerCase()] : undefined;
  if (option && variable) {
    const value = option[2] ?? (args[1] !== undefined && !args[1].startsWith('-') ? args[1] : '…');
    return cli.error(`unknown option ${args[0].split('=')[0]}: serve takes no options; ${variable.what} is set with ${variable.name}=, e.g. ${variable.name}=${value} kdeliver serve`);
  }
  return cli.error(option ? `unknown option ${args[0].split('=')[0]}: serve takes no options or arguments` : `unexpected argument ${JSON.stringify(args[0])}: serve takes no options or arguments`);
}

/** What a person may try to give `serve` as an option, and the variable that sets it. */
const SERVE_SETTINGS: Record<string, { name: string; what: string }> = {
  port: { name: 'PORT', what: 'the port' },
  p: { name: 'PORT', what: 'the port' },
  host: { name: 'HOST', what: 'the address to listen on' },
  'data-dir': { name: 'KDELIVER_DATA_DIR', what: 'the data directory' },
  'public-url': { name: 'KDELIVER_PUBLIC_URL', what: 'the public base URL' },
};

/** How long closing (the catalog, the ingest worker) may take after the shutdown grace before the process leaves without it. */
const CLOSE_AFTER_GRACE_MS = 2000;

async function serve(): Promise<number> {
  // loaded here, so the catalog commands do not pay for Fastify, the routes and sharp
  const { buildServer } = await import('../server.js');
  const config = loadConfig();
  const app = await buildServer({ config });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const deadline = Date.now() + config.shutdownGraceMs;
    app.log.info(`${signal}: no new connections; finishing in-flight requests (at most ${config.shutdownGraceMs} ms)`);
    // the HTTP server's 'close' comes once its last connection has ended: after it, what close()
    // still waits for is the catalog and the ingest worker, and the warning must not blame requests
    let connectionsEnded = false;
    app.server.once('close', () => { connectionsEnded = true; });
    // close() waits for in-flight requests; the timer bounds that wait
    const timer = setTimeout(() => {
      if (!connectionsEnded) {
        app.log.warn('in-flight requests did not finish in time; closing them');
        app.server.closeAllConnections?.();
      } else {
        app.log.warn('every request has finished, but closing the catalog and storage has not finished in time');
      }
      // What close() may still wait for once every connection is gone is the catalog and the
      // ingest worker: a database or media store that does not answer holds them until its own
      // timeouts (a statement's 10 s, src/catalog/pg/pool.ts), past the grace an operator set
      // (and past `docker stop`'s 10 s). Nothing is lost by leaving without them: PostgreSQL
      // rolls back a transaction whose connection ends, SQLite one its process left unfinished.
      setTimeout(() => {
        app.log.error(`closing did not finish ${CLOSE_AFTER_GRACE_MS} ms after the grace period (the catalog database or the media store does not answer?); exiting without it`);
        process.exit(1);
      }, CLOSE_AFTER_GRACE_MS).unref();
    }, config.shutdownGraceMs);
    timer.unref();
    // the port is read before close(), after which the server has no address
    const bound = app.server.address();
    const boundPort = typeof bound === 'object' && bound ? bound.port : config.port;
    app.close().then(
      // an answer is finished once the kernel has it; what the kernel still sends is waited for
      // too, within the grace: in a container it is lost when the process exits (unsent-bytes.ts)
      async () => {
        if (!(await unsentBytesDrained(boundPort, deadline).catch(() => true))) app.log.warn('answers were still being sent when the grace period ended');
        process.exit(0);
      },
      (err) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // a closed terminal's SIGHUP: Node's default ends the process at once, cutting in-flight
  // answers. (nohup cannot keep a Node process running: Node sets every signal back to its
  // default at start, so the hang-up nohup ignores is not ignored here; README "Running it".)
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // npx (and npm run without exec) start the command through `sh -c`, and Debian's sh (dash) does
  // not hand its place to the command: a SIGTERM to npm ends npm and that shell, and would leave
  // the server running with no one to stop it. Started so, it stops when the shell that started it
  // is gone, as SIGTERM stops it. (Started any other way, a parent that exits changes nothing.)
  if (process.env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) shutdown('npm, which started kdeliver, has exited');
    }, 1000).unref();
  }
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    // The two a person meets (another server on the port, a port below 1024 without the right):
    // a sentence naming the setting, exit 2 as for other configuration errors, no stack
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL' && code !== 'ENOTFOUND' && code !== 'EAI_AGAIN') throw e;
    await app.close().catch(() => undefined);
    // ENOTFOUND, EAI_AGAIN: HOST is a name the resolver does not know, or a mistyped address (999.1.1.1)
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new ConfigError(`HOST=${JSON.stringify(config.host)}: no such address or host name; expected an IP address of this machine (0.0.0.0, ::, 127.0.0.1) or a name that resolves to one`);
    }
    const why = code === 'EADDRINUSE' ? 'is already in use (another server runs there?)' : code === 'EACCES' ? 'may not be opened by this user' : 'is not an address of this machine';
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: it ${why}; choose another with PORT= (and HOST=)`);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const local = listenUrl(config.host, port);
  // the URLs to try: openable ones, not the every-interface address the server binds
  const base = config.publicUrl ?? openUrl(config.host, port);
  app.log.info(`kdeliver listening on ${local}`);
  // a log level above info (KDELIVER_LOG_LEVEL=warn) would leave no line saying the server is up
  // and where, which supervisors, scripts and people wait for: said on stderr then, as the
  // sample URLs are (silent stays silent)
  if (config.logLevel !== 'silent' && !['info', 'debug', 'trace'].includes(config.logLevel)) process.stderr.write(`kdeliver listening on ${local}\n`);
  // KDELIVER_LOG_LEVEL=silent: nothing on standard output or error, these hints included
  if (config.logLevel !== 'silent') await writeStartHints(app.catalog, local, base);
  return new Promise<number>(() => {}); // runs until a signal
}

/** What a person who just started the server can do next: URLs to try on the sample library, or how to begin an empty catalog. */
async function writeStartHints(catalog: Pick<Catalog, 'getEntry' | 'listPartners'>, local: string, base: string): Promise<void> {
  // the sample URLs only where the sample library is (not because it would be seeded into a new directory)
  const sampleEntry = await catalog.getEntry('1_rcit0qgs');
  if (sampleEntry?.partnerId === SAMPLE_PARTNER.id) {
    const e = '/p/309/sp/0/playManifest/entryId/1_rcit0qgs';
    process.stderr.write(
      `\nkdeliver listening on ${local} — try:\n` +
        `  ${base}${e}/format/url/flavorParamId/301971/video.mp4        (302 to the 720p file)\n` +
        `  ${base}${e}/format/applehttp/protocol/http/a.m3u8            (HLS master)\n` +
        `  ${base}${e}/format/mpegdash/protocol/http/manifest.mpd       (302 to the DASH manifest)\n` +
        `  ${base}${e}/format/applehttp/protocol/http/responseFormat/json (the flavors as JSON)\n` +
        `  ${base}/p/309/sp/0/playManifest/entryId/1_kssecure/format/url/a.mp4  (error 3: needs a KS)\n\n`,
    );
  } else if ((await catalog.listPartners()).length === 0) {
    process.stderr.write(
      `\nkdeliver listening on ${local}. The catalog has no partner yet:\n` +
        `  ${typedCommand()} partner add --name "My media"        (prints its id and secrets)\n` +
        `  ${typedCommand()} ingest movie.mp4 --partner <id>      (prints the URLs to play)\n\n`,
    );
  }
}

const IMPORT_USAGE = 'usage: kdeliver import <library.json>\n' +
  '  adds the partners, profiles, entries and media a library description holds (format: fixtures/README.md)\n';

async function importCommand(file: string): Promise<number> {
  const label = `import ${basename(file)}`;
  // reading and checking a library file of 100,000 entries takes seconds in which nothing else
  // shows that the command is alive: a line before and after (stderr; the result goes to stdout)
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  const t0 = Date.now();
  if (size !== undefined) process.stderr.write(`${label}: reading and checking the library file (${(size / 1048576).toFixed(1)} MB)\n`);
  // read before the catalog is opened: a file that is missing or wrong leaves the data directory
  // untouched (no new catalog, no sample library seeded into it)
  const { library, mediaDir } = readLibraryFile(file);
  process.stderr.write(`${label}: library file read and checked in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  // the configuration only now: loadConfig keeps generated secrets in a new data directory, which a
  // refused file must not leave behind
  const config = loadConfig();
  // a sample data directory keeps the sample partner: refused before the catalog is opened (or seeded)
  const replaced = config.sampleSecrets ? sampleLibraryReplaced(library.partners, config.dataDir) : null;
  if (replaced) throw new LibraryError(`${file}: ${replaced}`);
  const catalog = await openConfiguredCatalog(config);
  try {
    const media = config.media.kind === 'local' ? config.mediaRoot : openMediaWriter(config)!;
    // importLibrary first removes what an import killed mid-way placed: it can take a while
    if (typeof media === 'string' && interruptedImport(media)) process.stderr.write(`${label}: removing the media files an interrupted import left\n`);
    // progress on stderr (a bar on a terminal, a line every few seconds otherwise); the result on stdout
    const bar = importProgress(label, process.stderr);
    // once the catalog is being written a signal no longer stops the import (its write is one
    // transaction, and the files are in place for it): said so, rather than promise a removal
    let writing = false;
    const progress: typeof bar = (p) => {
      if (p.phase === 'catalog') writing = true;
      bar(p);
    };
    // Ctrl-C (or a supervisor's SIGTERM) while media are placed: the import stops as a failed one
    // does, removing the files it placed, rather than leaving thousands of unnamed ones behind
    // until the next import (objects put in a media store stay, unused, as after any failed
    // import: src/catalog/library.ts); a second signal ends the process at once
    const stop = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(130);
      if (writing) {
        process.stderr.write(`\n${label}: ${sig}: the catalog is being written; the import finishes (again to quit at once)\n`);
        stop.abort();
        return;
      }
      process.stderr.write(`\n${label}: ${sig}: stopping; removing the media files it placed (again to quit at once)\n`);
      stop.abort(new ImportInterrupted(`${label}: interrupted (${sig}): the catalog is as it was, and the media files it placed were removed`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const { entries, warnings } = await importLibrary(catalog, library, mediaDir, media, undefined, progress, config.maxMoovBytes, stop.signal);
      for (const w of warnings) process.stderr.write(`${label}: ${w}\n`);
      process.stdout.write(`imported ${file}: ${entries} entr${entries === 1 ? 'y' : 'ies'}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof ImportInterrupted)) throw e;
      process.stderr.write(`${e.message}\n`);
      return 130;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    await catalog.close();
  }
}

/**
 * export copies media from the local media folder (src/catalog/export.ts): with media in a store it
 * would find none of them and leave every flavor out of the description, so it stops here.
 */
function refuseRemoteExport(): number | null {
  const loc = mediaLocation(process.env);
  if (loc.kind === 'local') return null;
  process.stderr.write(`kdeliver export: KDELIVER_MEDIA_URL=${loc.url} is not the local media folder: export reads media from local disk only; ` +
    'run it on the data directory whose media folder holds the files (before they moved to the store), or copy the objects back into {data dir}/media and run it with KDELIVER_MEDIA_URL unset\n');
  return 2;
}

/**
 * The commands that write media stop here, before any work, when KDELIVER_MEDIA_URL names a store
 * they cannot write; --help answers whatever the store.
 */
function refuseMediaWrites(command: string, args: string[] = []): number | null {
  if (asksForHelp(args)) return null;
  // the environment only: a refused command leaves a new data directory unmade (loadConfig would
  // keep generated secrets there)
  const why = mediaWriteRefusal(mediaLocation(process.env));
  if (!why) return null;
  process.stderr.write(`kdeliver ${command}: ${why}\n`);
  return 1;
}

/**
 * The commands that read or change a library stop here when KDELIVER_DATA_DIR is not set and its
 * default, storage/ in the current folder, does not exist: run from another folder (the command
 * made a shell command with `npm link`), they would make a new data directory there, seed the
 * sample library into it and answer from that, not from the library the server serves. `serve` and
 * `import` make a new data directory as documented (their first start).
 */
function refuseNewDefaultDataDir(command: string, args: string[] = []): number | null {
  const env = process.env;
  if (asksForHelp(args) || env.KDELIVER_DATA_DIR || env.KDELIVER_DATABASE_URL || env.KDELIVER_CONFIG) return null;
  const here = join(process.cwd(), 'storage');
  if (existsSync(here)) return null;
  const checkout = shippedFile('storage');
  process.stderr.write(`kdeliver ${command}: KDELIVER_DATA_DIR is not set, and its default, storage/ in the current folder (${here}), does not exist: ` +
    `run kdeliver in the folder you serve from${checkout ? ` (this kdeliver's own: ${dirname(checkout)})` : ''}, or set KDELIVER_DATA_DIR to the data directory\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  // every case awaits, so that a ConfigError or LibraryError of a command is answered below
  try {
    switch (command) {
      case 'serve':
        return serveArguments(args) ?? await serve();
      case 'import': {
        // a usage error or --help answers whatever the store
        const parsed = commandLine('import', IMPORT_USAGE).parse(args, {}, { required: ['<library.json>'] });
        if (typeof parsed === 'number') return parsed;
        return refuseMediaWrites(command) ?? await importCommand(parsed.positionals[0]);
      }
      case 'import-kaltura':
        return refuseNewDefaultDataDir(command, args) ?? refuseMediaWrites(command, args) ?? await (await import('./import-kaltura.js')).main(args);
      case 'export':
        // --help answers whatever the store
        return refuseNewDefaultDataDir(command, args) ?? (asksForHelp(args) ? null : refuseRemoteExport()) ?? await (await import('./export.js')).main(args);
      case 'copy-catalog':
        return await (await import('./copy-catalog.js')).main(args);
      case 'ingest':
        return refuseNewDefaultDataDir(command, args) ?? refuseMediaWrites(command, args) ?? await (await import('./ingest.js')).main(args);
      case 'entries':
        return refuseNewDefaultDataDir(command, args) ?? await (await import('./entries.js')).main(args);
      case 'partner':
        return refuseNewDefaultDataDir(command, args) ?? await (await import('./partner.js')).main(args);
      case 'ks':
        return refuseNewDefaultDataDir(command, args) ?? await (await import('./ks.js')).main(args);
      case 'sign':
        return refuseNewDefaultDataDir(command, args) ?? await (await import('./sign.js')).main(args);
      case 'version':
      case '--version':
        if (asksForHelp(args)) {
          process.stdout.write('usage: kdeliver version   (or kdeliver --version)\n  prints the version of kdeliver; takes no options or arguments\n');
          return 0;
        }
        if (args.length) {
          process.stderr.write(`kdeliver ${command}: ${args[0].startsWith('-') ? `unknown option ${args[0].split('=')[0]}` : `unexpected argument ${JSON.stringify(args[0])}`}: it takes no options or arguments\n${USAGE}`);
          return 2;
        }
        process.stdout.write(`kdeliver ${packageVersion()}\n`);
        return 0;
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      case 'help':
      case '--help':
      case '-h':
        // `kdeliver help ks`: that command's own usage, as `kdeliver ks --help` prints it
        if (command === 'help' && args.length === 1 && COMMANDS.includes(args[0])) return await main([args[0], '--help']);
        if (args.length) {
          process.stderr.write(`kdeliver help: ${JSON.stringify(args.join(' '))} is not a command (known: ${COMMANDS.join(', ')})\n${USAGE}`);
          return 2;
        }
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(`kdeliver: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // GeoError: KDELIVER_GEOIP_FILE is a file but not a readable MaxMind database, found when the
    // server opens it (src/access/geo.ts): a configuration error like the others, not a stack
    if (e instanceof ConfigError || e instanceof LibraryError || e instanceof SampleCatalogError || e instanceof DataDirError || e instanceof GeoError) {
      process.stderr.write(`kdeliver: ${e.message}\n`);
      return 2;
    }
    // the catalog's database cannot be used (down, refusing this node, a newer schema): the message
    // names it (without its password) and says what is wrong; a stack would say nothing more;
    // the same for a media store that refused a write (the message names the store and the key)
    if (e instanceof CatalogUnavailableError || e instanceof CatalogSchemaTooNewError || e instanceof MediaWriteError) {
      process.stderr.write(`kdeliver: ${e.message}\n`);
      return 1;
    }
    // a full or read-only disk under the data directory: the operator's to mend, said in one line
    const problem = dataDirWriteProblem(e);
    if (problem) {
      process.stderr.write(`kdeliver: cannot write: ${problem} (${(e as Error).message})\n`);
      return 1;
    }
    throw e;
  }
}
