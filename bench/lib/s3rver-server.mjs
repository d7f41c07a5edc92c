// Child-process entry: an S3 protocol server from npm (s3rver, the one the tests use) on a
// loopback port, storing under a directory, with one bucket. A stand-in for a real store: it is
// a Node program writing files, so its figures are a floor, not S3's.
// Usage: node bench/lib/s3rver-server.mjs <dir> <port> <bucket>
import S3rver from 's3rver';

const [directory, port, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory, configureBuckets: [{ name: bucket }] });
await server.run();
console.log(`s3rver listening on http://127.0.0.1:${port}`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
