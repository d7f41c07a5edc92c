// Child-process entry: the Fastify hello-world floor of fastify-benchmarks, same Fastify as kdeliver.
// Usage: node bench/lib/hello-server.mjs <port>
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port });
console.log(`hello-world listening on http://127.0.0.1:${port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
