import { ROOT_CONTEXT } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { z } from 'zod';
import type { ConsumedBatch, KafkaAdmin, KafkaConsumer, TopicPartition } from '../../../clients/kafka/index.js';
import { duration } from '../../../config/units.js';
import type { Logger } from '../../../logger.js';
import type { KafkaResource } from '../../../resources/kafka.js';
import { Delivery } from '../../../runtime/delivery.js';
import { Message } from '../../../runtime/message.js';
import { defineSource, type SourceContext } from '../../../topology/declaration.js';
import { resourceRef } from '../../../topology/resource-ref.js';
import { PartitionProgress } from './partition-progress.js';
import { parseStartPosition, startPositionSchema, type StartPosition } from './start-position.js';

export const kafkaSourceConfig = z.strictObject({
  kafka: resourceRef(['kafka'], 'The Kafka resource to consume from.'),
  topic: z.string().min(1).describe('Topic to consume.'),
  group_id: z.string().min(1).describe('Consumer group: instances with the same group share the partitions (scale out by adding instances).'),
  start_from: startPositionSchema.describe('Where to start: earliest or latest (only when the group has no committed offset), an RFC 3339 time, or partition offsets "0:1200,1:900" (these two seek at every start: for backfills and replays).'),
  stop_at: z.union([z.literal('never'), z.literal('end'), z.iso.datetime({ offset: true })]).default('never').describe('never: run forever. end: stop once every partition reached its end offset as of the start. An RFC 3339 time: stop at the first offsets at or after it (replays).'),
  max_batch_messages: z.number().int().min(1).max(100_000).default(2000).describe('Most records handed on as one batch.'),
  create_topic_partitions: z.number().int().min(1).optional().describe('Create the topic with this many partitions if it does not exist. Otherwise the source waits for it to appear.'),
  revoke_timeout: duration().prefault('30s').describe('On a rebalance, how long to wait for in-flight batches of the revoked partitions to be written and committed.'),
});
export type KafkaSourceConfig = z.output<typeof kafkaSourceConfig>;

export interface KafkaSourceProgress {
  /** Records handed on and records to go, over all partitions, when stop_at bounds the run. */
  consumed: number;
  total?: number;
}

/**
 * A consumer group member. Each fetched batch becomes one message; offsets are committed only once
 * its delivery is acknowledged (the sink's transaction committed), in offset order per partition.
 * A batch that fails after retries rewinds its partition, so it is read again: duplicates, never
 * loss. When the pipeline is full, all partitions pause until credits come back.
 */
export const kafkaSource = defineSource({
  kind: 'source',
  type: 'kafka',
  summary: 'Consumes a topic in a consumer group; commits offsets only after the pipeline acknowledged the records, and pauses partitions while the pipeline is full.',
  stability: 'stable',
  examples: [
    {
      title: 'The indexer: a consumer group reading series events from the start of the topic',
      yaml: `
        source:
          type: kafka
          kafka: cluster
          topic: \${WEIR_SERIES_TOPIC:-weir.series}
          group_id: weir-indexer
          start_from: earliest`,
    },
    {
      title: 'A backfill: read from a point in time up to the end as of the start, then stop',
      yaml: `
        source:
          type: kafka
          kafka: cluster
          topic: weir.series
          group_id: weir-backfill
          start_from: "2026-11-20T00:00:00Z"
          stop_at: end`,
    },
  ],
  emits: 'KafkaRecords',
  config: kafkaSourceConfig,
  create(config, ctx) {
    return new Observable<Message<ConsumedBatch>>((subscriber) => {
      const kafka = ctx.resources.get<KafkaResource>(config.kafka, 'kafka');
      const run = new ConsumerRun(config, ctx, kafka, (m) => subscriber.next(m), () => subscriber.complete());
      run.start().catch((err: unknown) => subscriber.error(err));
      return () => {
        void run.stop();
      };
    });
  },
});

class ConsumerRun {
  private readonly consumer: KafkaConsumer;
  private readonly admin: KafkaAdmin;
  private readonly partitions = new Map<number, PartitionProgress>();
  private readonly logger: Logger;
  private readonly startPosition: StartPosition;
  private endOffsets?: Map<number, bigint>;
  private paused = false;
  private stopped = false;
  private consumed = 0;
  private commitChain: Promise<void> = Promise.resolve();
  private readonly detachRelease: () => void;
  private readonly seeked = new Set<number>();

  constructor(
    private readonly config: KafkaSourceConfig,
    private readonly ctx: SourceContext,
    kafka: KafkaResource,
    private readonly emit: (m: Message<ConsumedBatch>) => void,
    private readonly complete: () => void,
  ) {
    this.logger = ctx.logger;
    this.startPosition = parseStartPosition(config.start_from);
    this.consumer = kafka.consumer({ groupId: config.group_id, topics: [config.topic], startFrom: this.startPosition.kind === 'latest' ? 'latest' : 'earliest', maxBatchMessages: config.max_batch_messages });
    this.admin = kafka.admin();
    this.detachRelease = ctx.flow.onRelease(() => this.resumeIfRoom());
  }

  async start(): Promise<void> {
    await this.topicExists();
    if (this.stopped) return;
    if (this.config.stop_at !== 'never') this.endOffsets = await this.resolveEndOffsets();
    if (this.endOffsets && [...this.endOffsets.values()].every((end) => end <= 0n)) {
      this.finish();
      return;
    }
    await this.consumer.start({
      onBatch: (batch) => this.onBatch(batch),
      onPartitionsAssigned: (assigned) => this.onAssigned(assigned),
      onPartitionsRevoked: (revoked, reason) => this.onRevoked(revoked, reason),
      onError: (err) => this.logger.warn({ err: err.message }, 'kafka consumer error'),
    });
  }

  /** A consumer subscribed to a missing topic fails: create it, or wait for its producer to. */
  private async topicExists(): Promise<void> {
    if (this.config.create_topic_partitions !== undefined) {
      await this.admin.createTopic(this.config.topic, { partitions: this.config.create_topic_partitions });
      return;
    }
    let waited = 0;
    while (!this.stopped && !(await this.admin.listTopics()).includes(this.config.topic)) {
      if (waited % 10_000 === 0) this.logger.warn({ topic: this.config.topic }, 'waiting for the topic to exist');
      await new Promise((r) => setTimeout(r, 500));
      waited += 500;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.detachRelease();
    await this.consumer.stop().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'stopping the consumer failed'));
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    if (this.stopped) return;
    const progress = this.progressOf(batch.partition);
    const end = this.endOffsets?.get(batch.partition);
    let records = batch;
    if (end !== undefined) {
      const within = batch.messages.filter((m) => BigInt(m.offset) < end);
      if (within.length === 0) return;
      if (within.length < batch.messages.length) records = { ...batch, messages: within, nextOffset: end.toString() };
    }
    const pending = progress.add(BigInt(records.messages[0].offset), BigInt(records.nextOffset));
    const delivery = new Delivery();
    delivery.hold();
    this.ctx.flow.forceAcquire();
    delivery.done
      .then(
        () => this.onDone(records, progress, pending),
        (err: unknown) => this.onFailed(records, progress, pending, err),
      )
      .catch((err: unknown) => this.logger.error({ partition: records.partition, err: String(err) }, 'settling a batch failed'))
      .finally(() => this.ctx.flow.release());
    this.consumed += records.messages.length;
    this.emit(new Message(records, delivery, ROOT_CONTEXT));
    if (this.ctx.flow.isFull && !this.paused) {
      this.paused = true;
      this.consumer.pause(this.consumer.assignment());
    }
  }

  private onDone(records: ConsumedBatch, progress: PartitionProgress, pending: ReturnType<PartitionProgress['add']>): void {
    const offset = progress.ack(pending);
    if (offset === undefined) return;
    this.commit(records.topic, records.partition, offset);
    if (this.endOffsets && this.reachedEnd()) this.finish();
  }

  private onFailed(records: ConsumedBatch, progress: PartitionProgress, pending: ReturnType<PartitionProgress['add']>, err: unknown): void {
    const rewindTo = progress.fail(pending);
    if (rewindTo === undefined || this.stopped) return;
    this.logger.warn({ partition: records.partition, offset: rewindTo.toString(), err: String(err) }, 'batch failed after retries; reading the partition again from it');
    try {
      this.consumer.seek(records.topic, records.partition, rewindTo.toString());
    } catch (seekErr) {
      // Not assigned any more: the next owner starts from the committed offset, before this batch.
      this.logger.warn({ partition: records.partition, err: String(seekErr) }, 'could not rewind');
    }
  }

  private commit(topic: string, partition: number, offset: bigint): void {
    // One commit at a time, in order: a later, higher commit must never be overtaken by a lower one.
    this.commitChain = this.commitChain
      .then(() => this.consumer.commit([{ topic, partition, offset: offset.toString() }]))
      .catch((err: unknown) => this.logger.warn({ partition, offset: offset.toString(), err: String(err) }, 'offset commit failed; a later commit covers it'));
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.ctx.flow.isFull || this.stopped) return;
    this.paused = false;
    this.consumer.resume(this.consumer.assignment());
  }

  private async onAssigned(assigned: TopicPartition[]): Promise<void> {
    this.paused = false;
    for (const tp of assigned) {
      this.progressOf(tp.partition).reset();
      if (this.seeked.has(tp.partition)) continue;
      this.seeked.add(tp.partition);
      const offset = await this.startOffset(tp.partition);
      if (offset !== undefined) this.consumer.seek(tp.topic, tp.partition, offset);
    }
    if (this.ctx.flow.isFull) {
      this.paused = true;
      this.consumer.pause(assigned);
    }
  }

  /** Before partitions go: have windows flush, wait (bounded) for their batches to commit. */
  private async onRevoked(revoked: TopicPartition[], reason: string): Promise<void> {
    if (reason !== 'lost') {
      this.ctx.requestFlush();
      const deadline = Date.now() + this.config.revoke_timeout;
      while (Date.now() < deadline && revoked.some((tp) => (this.partitions.get(tp.partition)?.inFlight ?? 0) > 0)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // A commit that never answers must not hold the group (or shutdown) forever.
      const committed = await Promise.race([this.commitChain.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now())).unref())]);
      if (!committed) this.logger.warn({ partitions: revoked.map((tp) => tp.partition) }, 'offset commits did not finish before the partitions were given up; their batches will be read again');
    }
    for (const tp of revoked) this.partitions.get(tp.partition)?.reset();
  }

  private async startOffset(partition: number): Promise<string | undefined> {
    if (this.startPosition.kind === 'offsets') return this.startPosition.offsets.get(partition);
    if (this.startPosition.kind === 'timestamp') {
      const offsets = await this.admin.offsetsForTimes(this.config.topic, this.startPosition.timestamp);
      return offsets.find((o) => o.partition === partition)?.offset;
    }
    return undefined;
  }

  private async resolveEndOffsets(): Promise<Map<number, bigint>> {
    const stopAt = this.config.stop_at;
    const offsets =
      stopAt === 'end'
        ? (await this.admin.fetchTopicOffsets(this.config.topic)).map((w) => ({ partition: w.partition, offset: w.high }))
        : await this.admin.offsetsForTimes(this.config.topic, Date.parse(stopAt));
    const low = new Map((await this.admin.fetchTopicOffsets(this.config.topic)).map((w) => [w.partition, BigInt(w.low)]));
    const start = await Promise.all(offsets.map(async (o) => [o.partition, BigInt((await this.startOffset(o.partition)) ?? low.get(o.partition) ?? 0n)] as const));
    const startByPartition = new Map(start);
    const total = offsets.reduce((sum, o) => sum + Math.max(0, Number(BigInt(o.offset) - (startByPartition.get(o.partition) ?? 0n))), 0);
    this.ctx.progress?.({ consumed: 0, total });
    // A partition whose range is empty is done before it starts.
    return new Map(offsets.map((o) => [o.partition, BigInt(o.offset) > (startByPartition.get(o.partition) ?? 0n) ? BigInt(o.offset) : 0n]));
  }

  private reachedEnd(): boolean {
    this.ctx.progress?.({ consumed: this.consumed });
    for (const [partition, end] of this.endOffsets!) {
      if (end === 0n) continue;
      const committed = this.partitions.get(partition)?.committed;
      if (committed === undefined || committed < end) return false;
    }
    return true;
  }

  private finish(): void {
    void this.commitChain.then(() => this.complete());
  }

  private progressOf(partition: number): PartitionProgress {
    let p = this.partitions.get(partition);
    if (!p) {
      p = new PartitionProgress();
      this.partitions.set(partition, p);
    }
    return p;
  }
}
