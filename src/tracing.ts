import type { Config } from './config.ts';
import { tracing } from './lib/origin.ts';
import { VERSION } from './version.ts';

export interface Tracing {
  /** Sends what is buffered and stops (on shutdown). */
  shutdown(): Promise<void>;
  /** Sends what is buffered now (tests). */
  flush(): Promise<void>;
}

/**
 * OpenTelemetry traces exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: the provider is registered
 * globally (AsyncLocalStorage context, W3C trace context), and the spans Stockroom makes — each request, its
 * transactions and statements, its outside calls, each job — go out in batches. Without the endpoint nothing is
 * registered (nor loaded) and the spans are no-ops.
 */
export async function startTracing(cfg: Pick<Config, 'tracing'>): Promise<Tracing | null> {
  if (!cfg.tracing) return null;
  // Loaded only when tracing is on: the SDK and exporter cost start-up time and memory otherwise.
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources'), import('@opentelemetry/sdk-trace-node')]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': cfg.tracing.serviceName, 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${cfg.tracing.endpoint}/v1/traces` }), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  tracing.on = true;
  return {
    shutdown: async () => {
      tracing.on = false;
      await provider.shutdown();
    },
    flush: () => provider.forceFlush(),
  };
}
