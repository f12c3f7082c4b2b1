import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadServiceConfig, type LoadServiceConfigOptions, type ServiceConfig } from './config/service-config.js';
import { createEdge, type Edge } from './edge/app.js';
import { createLogger, type Logger } from './logger.js';
import { RuntimeMetrics } from './runtime/metrics.js';
import { startTelemetry } from './telemetry.js';
import { startTopology, type RunningTopology } from './topology/compile.js';
import { loadTopologyFile } from './topology/load.js';
import { defaultRegistry } from './components.js';
import type { Registry } from './topology/registry.js';
import type { IndexProvider } from './edge/query-api.js';

export interface ServiceOptions extends LoadServiceConfigOptions {
  topologyFile: string;
  registry?: Registry;
  /** Listen on a socket (the default); tests may use only `edge.app.request()`. */
  listen?: boolean;
  logger?: Logger;
}

export interface RunningService {
  config: ServiceConfig;
  edge: Edge;
  topology: RunningTopology;
  /** `http://host:port` once listening. */
  url?: string;
  logger: Logger;
  stop(): Promise<void>;
}

/** The composition root: config → topology → resources and pipelines → HTTP edge. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const config = loadServiceConfig(options);
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const telemetry = await startTelemetry(options.env ?? process.env, logger);
  const registry = options.registry ?? defaultRegistry();
  const spec = await loadTopologyFile(options.topologyFile, { registry, env: options.env });
  const metrics = new RuntimeMetrics({ defaultMetrics: true });
  const edge = createEdge({ limits: { maxBodyBytes: config.http.max_body_bytes, maxDecodedBytes: config.http.max_decoded_bytes }, metrics, logger });
  const topology = await startTopology(spec, { registry, logger, metrics, http: edge.routes, dataDir: config.data_dir });
  edge.attach({ ready: topology.ready, index: spec.api.index ? topology.resource<IndexProvider>(spec.api.index) : undefined });

  let server: Server | undefined;
  let url: string | undefined;
  if (options.listen !== false) {
    server = await new Promise<Server>((resolve, reject) => {
      const s = createServer(edge.listener({ hostname: config.http.host }));
      s.once('error', reject);
      s.listen(config.http.port, config.http.host, () => resolve(s));
    });
    const address = server.address() as AddressInfo;
    url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    logger.info({ url, topology: spec.name, pipelines: spec.pipelines.map((p) => p.name), data_dir: config.data_dir }, 'weir is listening');
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    edge,
    topology,
    url,
    logger,
    stop() {
      stopping ??= (async () => {
        edge.drain();
        await topology.stop(config.shutdown.drain_timeout);
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
        await telemetry.shutdown();
        logger.info('weir stopped');
      })();
      return stopping;
    },
  };
}
