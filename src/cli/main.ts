// kdeliver: the command line. `serve` runs the server; the other commands work on the catalog.
// The `kdeliver` executable is ./kdeliver.ts; this module only dispatches, so tests can import it.
import { ConfigError, loadConfig } from '../config.js';
import { mediaWriteRefusal } from '../storage/write-refusal.js';
import { MediaWriteError, openMediaWriter } from '../storage/media-writer.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { SAMPLE_PARTNER, SampleCatalogError } from '../catalog/sample-record.js';
import { importLibrary, LibraryError, readLibraryFile } from '../catalog/library.js';
import { CatalogSchemaTooNewError, CatalogUnavailableError } from '../catalog/errors.js';
import { importProgress } from './progress.js';
import { basename } from 'node:path';
import { statSync } from 'node:fs';

const USAGE = `usage: kdeliver <command> [options]

  serve                          run the server (PORT, HOST, KDELIVER_DATA_DIR, ...; see README)
  partner add [--id <id>] [--name <name>] [--json]
                                 create a partner with random admin and user secrets (printed once)
  partner list [--json]          list partners (without their secrets)
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
  ks --partner <id> --type admin|user [--user X] [--privileges 'sview:*'] [--expiry 3600] [--v1]
                                 print a Kaltura session (KS) signed with the partner's admin secret
  sign <url> [--expiry <unix>]   print a playManifest URL signed with a kt token
`;

async function serve(): Promise<number> {
  // loaded here, so the catalog commands do not pay for Fastify, the routes and sharp
  const { buildServer } = await import('../server.js');
  const config = loadConfig();
  const app = await buildServer({ config });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info(`${signal}: no new connections; finishing in-flight requests (at most ${config.shutdownGraceMs} ms)`);
    // close() waits for in-flight requests; the timer bounds that wait
    const timer = setTimeout(() => {
      app.log.warn('in-flight requests did not finish in time; closing them');
      app.server.closeAllConnections?.();
    }, config.shutdownGraceMs);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    // The two a person meets (another server on the port, a port below 1024 without the right):
    // a sentence naming the setting, exit 2 as for other configuration errors, no stack
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw e;
    await app.close().catch(() => undefined);
    const why = code === 'EADDRINUSE' ? 'is already in use (another server runs there?)' : code === 'EACCES' ? 'may not be opened by this user' : 'is not an address of this machine';
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: it ${why}; choose another with PORT= (and HOST=)`);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const local = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const base = config.publicUrl ?? local;
  app.log.info(`kdeliver listening on ${local}`);
  // the sample URLs only where the sample library is (not because it would be seeded into a new directory)
  const sampleEntry = await app.catalog.getEntry('1_rcit0qgs');
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
  } else if ((await app.catalog.listPartners()).length === 0) {
    process.stderr.write(
      `\nkdeliver listening on ${local}. The catalog has no partner yet:\n` +
        '  kdeliver partner add --name "My media"        (prints its id and secrets)\n' +
        '  kdeliver ingest movie.mp4 --partner <id>      (prints the URLs to play)\n\n',
    );
  }
  return new Promise<number>(() => {}); // runs until a signal
}

async function importCommand(args: string[]): Promise<number> {
  if (!args[0]) {
    process.stderr.write('usage: kdeliver import <library.json>\n');
    return 2;
  }
  const config = loadConfig();
  const catalog = await openConfiguredCatalog(config);
  try {
    const label = `import ${basename(args[0])}`;
    // reading and checking a library file of 100,000 entries takes seconds in which nothing else
    // shows that the command is alive: a line before and after (stderr; the result goes to stdout)
    const size = statSync(args[0], { throwIfNoEntry: false })?.size;
    const t0 = Date.now();
    if (size !== undefined) process.stderr.write(`${label}: reading and checking the library file (${(size / 1048576).toFixed(1)} MB)\n`);
    const { library, mediaDir } = readLibraryFile(args[0]);
    process.stderr.write(`${label}: library file read and checked in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const media = config.media.kind === 'local' ? config.mediaRoot : openMediaWriter(config)!;
    // progress on stderr (a bar on a terminal, a line every few seconds otherwise); the result on stdout
    const progress = importProgress(label, process.stderr);
    const { entries } = await importLibrary(catalog, library, mediaDir, media, undefined, progress);
    process.stdout.write(`imported ${args[0]}: ${entries} entr${entries === 1 ? 'y' : 'ies'}\n`);
    return 0;
  } finally {
    await catalog.close();
  }
}

/**
 * export copies media from the local media folder (src/catalog/export.ts): with media in a store it
 * would find none of them and leave every flavor out of the description, so it stops here.
 */
function refuseRemoteExport(): number | null {
  const loc = loadConfig().media;
  if (loc.kind === 'local') return null;
  process.stderr.write(`kdeliver export: KDELIVER_MEDIA_URL=${loc.url} is not the local media folder: export reads media from local disk only; ` +
    'run it on the data directory whose media folder holds the files (before they moved to the store), or copy the objects back into {data dir}/media and run it with KDELIVER_MEDIA_URL unset\n');
  return 2;
}

/** The commands that write media stop here, before any work, when KDELIVER_MEDIA_URL names a store they cannot write. */
function refuseMediaWrites(command: string): number | null {
  const why = mediaWriteRefusal(loadConfig().media);
  if (!why) return null;
  process.stderr.write(`kdeliver ${command}: ${why}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  // every case awaits, so that a ConfigError or LibraryError of a command is answered below
  try {
    switch (command) {
      case 'serve':
        return await serve();
      case 'import':
        return refuseMediaWrites(command) ?? await importCommand(args);
      case 'import-kaltura':
        return refuseMediaWrites(command) ?? await (await import('./import-kaltura.js')).main(args);
      case 'export':
        // --help answers whatever the store
        return (args.includes('--help') || args.includes('-h') ? null : refuseRemoteExport()) ?? await (await import('./export.js')).main(args);
      case 'copy-catalog':
        return await (await import('./copy-catalog.js')).main(args);
      case 'ingest':
        return refuseMediaWrites(command) ?? await (await import('./ingest.js')).main(args);
      case 'entries':
        return await (await import('./entries.js')).main(args);
      case 'partner':
        return await (await import('./partner.js')).main(args);
      case 'ks':
        return await (await import('./ks.js')).main(args);
      case 'sign':
        return await (await import('./sign.js')).main(args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command ? 0 : 2;
      default:
        process.stderr.write(`kdeliver: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof LibraryError || e instanceof SampleCatalogError) {
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
    throw e;
  }
}
