import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type StepLabels = { pipeline: string; stage: string; type: string };
const OUTCOMES = ['ok', 'dropped', 'error'] as const;

/**
 * One step's batch counts and in-flight number as plain numbers, handed to prom-client when the
 * metrics are read: counting a batch is then an increment, not a label-set validation and lookup.
 */
export class StepMeter {
  inFlight = 0;
  /** Batches finished since the last read, by outcome. */
  readonly finished: Record<(typeof OUTCOMES)[number], number> = { ok: 0, dropped: 0, error: 0 };

  constructor(readonly labels: Readonly<StepLabels>) {}
}

/**
 * The metrics every stage gets from the runtime, with the same labels everywhere
 * (`pipeline`, `stage`, `type`), so one dashboard works for any topology.
 */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly batches: Counter<'pipeline' | 'stage' | 'type' | 'outcome'>;
  readonly retries: Counter<'pipeline' | 'stage' | 'type'>;
  readonly duration: Histogram<'pipeline' | 'stage' | 'type'>;
  readonly inFlight: Gauge<'pipeline' | 'stage' | 'type'>;
  readonly pipelineInFlight: Gauge<'pipeline'>;
  readonly pipelineCapacity: Gauge<'pipeline'>;
  readonly shed: Counter<'pipeline' | 'stage' | 'reason'>;
  private readonly meters: StepMeter[] = [];

  constructor(options: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'weir_' });
    const registers = [this.registry];
    const meters = this.meters;
    this.batches = new Counter({
      name: 'weir_stage_batches_total',
      help: 'Batches a stage finished, by outcome: ok (emitted downstream), dropped (nothing to pass on), error (failed after retries).',
      labelNames: ['pipeline', 'stage', 'type', 'outcome'],
      registers,
      collect() {
        for (const meter of meters) {
          for (const outcome of OUTCOMES) {
            const count = meter.finished[outcome];
            if (count === 0) continue;
            this.inc({ ...meter.labels, outcome }, count);
            meter.finished[outcome] = 0;
          }
        }
      },
    });
    this.retries = new Counter({ name: 'weir_stage_retries_total', help: 'Retried attempts of a stage after a retriable error.', labelNames: ['pipeline', 'stage', 'type'], registers });
    this.duration = new Histogram({
      name: 'weir_stage_duration_seconds',
      help: 'Time a stage spent on one batch, retries included.',
      labelNames: ['pipeline', 'stage', 'type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'weir_stage_in_flight',
      help: 'Batches a stage is working on now.',
      labelNames: ['pipeline', 'stage', 'type'],
      registers,
      collect() {
        for (const meter of meters) this.set(meter.labels, meter.inFlight);
      },
    });
    this.pipelineInFlight = new Gauge({ name: 'weir_pipeline_in_flight', help: 'Batches held by a pipeline (bounded by max_in_flight).', labelNames: ['pipeline'], registers });
    this.pipelineCapacity = new Gauge({ name: 'weir_pipeline_capacity', help: 'max_in_flight of a pipeline.', labelNames: ['pipeline'], registers });
    this.shed = new Counter({ name: 'weir_source_shed_total', help: 'Work a source refused because the pipeline was full or shutting down.', labelNames: ['pipeline', 'stage', 'reason'], registers });
  }

  /** The meter a step counts its batches in (`weir_stage_batches_total`, `weir_stage_in_flight`). */
  stepMeter(labels: StepLabels): StepMeter {
    const meter = new StepMeter({ ...labels });
    this.meters.push(meter);
    return meter;
  }
}
