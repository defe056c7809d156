// `ctfgen serve`: starts the web app and API, prints its address, stops cleanly on Ctrl-C.
import { startServer, type ServeOptions } from '../serve/server.js';

export async function serveCommand(o: { run?: string[]; host: string; port: number; maxQueue: number; threads?: number }): Promise<void> {
  const options: ServeOptions = { runs: o.run, host: o.host, port: o.port, maxQueue: o.maxQueue, threads: o.threads };
  const server = await startServer(options);
  console.log(`ctfgen serve: ${[...server.models.keys()].join(', ')} at ${server.url}  (Ctrl-C stops)`);
  if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1')
    console.log(`  bound to ${o.host}: reachable from other machines; there is no authentication`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
