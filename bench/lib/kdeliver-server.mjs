// Child-process entry: kdeliver as `npm start` runs it (one Node process, logging off), over a
// data directory; the library files named after the port are imported first (none: the data
// directory is served as it is, e.g. a big catalog imported beforehand).
// Usage: node bench/lib/kdeliver-server.mjs <dataDir> <port> [library.json ...]
// Every KDELIVER_* (and AWS_*, for media on S3) variable of the environment passes through (the answer cache size, segment
// durations, ...), so a benchmark can run the server configured as it needs.
import { distModule } from './build.mjs';

const [dataDir, port, ...libraries] = process.argv.slice(2);
const { loadConfig } = await import(distModule('src/config.js'));
const { openCatalog } = await import(distModule('src/catalog/open.js'));
const { importLibrary, readLibraryFile } = await import(distModule('src/catalog/library.js'));
const { buildServer } = await import(distModule('src/server.js'));
const { openMediaWriter } = await import(distModule('src/storage/media-writer.js'));

const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('KDELIVER_') || k.startsWith('AWS_')));
const config = loadConfig({ ...passed, KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent', PORT: port, HOST: '127.0.0.1' });
// Seeded here rather than on first start, so the benchmark entries join the sample library; the
// catalog is confirmed as the sample library's (for its public secrets) when the server opens it,
// after the import, not while it is still empty
if (libraries.length) {
  const catalog = await openCatalog({ ...config, sampleLibrary: false, sampleSecrets: false });
  for (const file of libraries) {
    const { library, mediaDir } = readLibraryFile(file);
    // into the store the server reads (KDELIVER_MEDIA_URL=s3://…), as the server's own seed does
    await importLibrary(catalog, library, mediaDir, config.media.kind === 's3' ? openMediaWriter(config) : config.mediaRoot);
  }
  await catalog.close();
}

const app = await buildServer({ config, logger: false });
await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log(`kdeliver listening on http://127.0.0.1:${port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
