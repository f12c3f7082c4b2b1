import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Logger } from './logger.js';

/**
 * Tracing through the OpenTelemetry SDK, configured the standard way (OTEL_* environment
 * variables: OTEL_TRACES_EXPORTER=otlp|console, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME …).
 * Started only when one of those asks for it: without an exporter, spans are no-ops and cost
 * next to nothing on the hot path.
 */
export async function startTelemetry(env: Record<string, string | undefined>, logger: Logger): Promise<{ shutdown(): Promise<void> }> {
  const wanted = (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== 'none') || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!wanted) return { shutdown: async () => undefined };
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? 'weir', instrumentations: [] });
  sdk.start();
  logger.info({ exporter: env.OTEL_TRACES_EXPORTER ?? 'otlp', endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'OpenTelemetry tracing started');
  return { shutdown: () => sdk.shutdown() };
}
