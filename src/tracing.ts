import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config } from './config.ts';
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
 * registered and the spans are no-ops.
 */
export function startTracing(cfg: Pick<Config, 'tracing'>): Tracing | null {
  if (!cfg.tracing) return null;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': cfg.tracing.serviceName, 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${cfg.tracing.endpoint}/v1/traces` }), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  return { shutdown: () => provider.shutdown(), flush: () => provider.forceFlush() };
}
