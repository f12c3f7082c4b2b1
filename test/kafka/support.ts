/** Helpers for the Kafka conformance suite: names, message factories, a recording consumer, the broker. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { isRetriable } from '../../src/errors.js';
import type {
  ConsumedBatch,
  ConsumedMessage,
  ConsumerOptions,
  KafkaClient,
  KafkaConsumer,
  OutgoingMessage,
  RevokeReason,
  TopicPartition,
} from '../../src/clients/kafka/index.js';

import type { KafkaLogger } from '../../src/clients/kafka/index.js';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export const BROKERS = (process.env.WEIR_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

/** Keeps the clients' log lines (a restart test makes hundreds) to print only for a failed test. */
export class CapturedLog implements KafkaLogger {
  private lines: string[] = [];
  error = (fields: object, message: string) => this.add('error', fields, message);
  warn = (fields: object, message: string) => this.add('warn', fields, message);
  info = (fields: object, message: string) => this.add('info', fields, message);
  debug = (fields: object, message: string) => this.add('debug', fields, message);

  /** Everything logged since the last call. */
  take(): string[] {
    return this.lines.splice(0);
  }

  private add(level: string, fields: object, message: string): void {
    this.lines.push(`${new Date().toISOString()} ${level} ${message} ${JSON.stringify(fields)}`);
  }
}

let counter = 0;
/** Topic and group names unique per test and per run, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}

export function makeMessages(count: number, fields: (i: number) => Partial<OutgoingMessage> = () => ({})): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(`value-${i}`),
    ...fields(i),
  }));
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type GroupEvent = { kind: 'assigned'; partitions: TopicPartition[] } | { kind: 'revoked'; partitions: TopicPartition[]; reason: RevokeReason };

/** A consumer that records everything it is given; tests read the records and steer it. */
export class RecordingConsumer {
  readonly batches: ConsumedBatch[] = [];
  readonly events: GroupEvent[] = [];
  readonly errors: Error[] = [];
  readonly consumer: KafkaConsumer;
  /** Runs inside the revoke hook, before the partitions move. */
  onRevoked: (partitions: TopicPartition[], reason: RevokeReason) => Promise<void> = async () => undefined;

  constructor(client: KafkaClient, options: ConsumerOptions) {
    this.consumer = client.consumer({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, fetchMaxWaitMs: 200, ...options });
  }

  start(): Promise<void> {
    return this.consumer.start({
      onBatch: async (batch) => {
        this.batches.push(batch);
      },
      onPartitionsAssigned: (partitions) => {
        this.events.push({ kind: 'assigned', partitions });
      },
      onPartitionsRevoked: async (partitions, reason) => {
        this.events.push({ kind: 'revoked', partitions, reason });
        await this.onRevoked(partitions, reason);
      },
      onError: (error) => {
        this.errors.push(error);
      },
    });
  }

  get messages(): Array<ConsumedMessage & TopicPartition> {
    return this.batches.flatMap((b) => b.messages.map((m) => ({ ...m, topic: b.topic, partition: b.partition })));
  }

  values(): string[] {
    return this.messages.map((m) => m.value?.toString() ?? '<null>');
  }

  waitForCount(count: number, timeoutMs?: number): Promise<void> {
    return waitFor(`${count} messages (have ${this.messages.length})`, () => this.messages.length >= count, timeoutMs);
  }

  /** Highest "next offset" seen per partition: what a consumer that finished these batches commits. */
  processedOffsets(partitions?: TopicPartition[]): Array<TopicPartition & { offset: string }> {
    const next = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const b of this.batches) {
      if (partitions && !partitions.some((p) => p.topic === b.topic && p.partition === b.partition)) continue;
      const key = `${b.topic}/${b.partition}`;
      const prev = next.get(key);
      if (!prev || BigInt(b.nextOffset) > BigInt(prev.offset)) next.set(key, { topic: b.topic, partition: b.partition, offset: b.nextOffset });
    }
    return [...next.values()];
  }
}

/**
 * Retry a call while it fails with a retriable error (what weir's runtime does around clients), and
 * fail at once on a non-retriable one: the suite checks that outages surface as retriable.
 */
export async function retryRetriable<T>(what: string, call: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!isRetriable(err)) throw err;
      if (Date.now() > deadline) throw new Error(`${what} still failing after ${timeoutMs} ms`, { cause: err });
      await sleep(500);
    }
  }
}

/** Stop and start the test broker through the services script (same data directory, same port). */
export async function restartBroker(): Promise<void> {
  const script = path.join(REPO_ROOT, 'scripts/services.sh');
  await run('bash', [script, 'down', 'kafka'], { cwd: REPO_ROOT });
  await run('bash', [script, 'up', 'kafka'], { cwd: REPO_ROOT, timeout: 150_000 });
}

/**
 * A consumer with the kafka source's flow control: batches go into a bounded queue, every partition
 * pauses when it is full and resumes once it drained; each batch taken off the queue is committed,
 * one commit at a time, in order.
 */
export class FlowControlledConsumer {
  readonly consumer: KafkaConsumer;
  readonly errors: Error[] = [];
  /** Offsets handed over, per partition, in order. */
  readonly offsets = new Map<number, number[]>();
  pauses = 0;
  private readonly queue: ConsumedBatch[] = [];
  private paused = false;
  private commits: Promise<void> = Promise.resolve();
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    client: KafkaClient,
    options: ConsumerOptions,
    private readonly limits = { full: 4, resumeAt: 1, drainEveryMs: 2 },
  ) {
    this.consumer = client.consumer({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, fetchMaxWaitMs: 200, ...options });
  }

  async start(): Promise<void> {
    await this.consumer.start({
      onBatch: async (batch) => {
        this.queue.push(batch);
        const offsets = this.offsets.get(batch.partition) ?? [];
        for (const m of batch.messages) offsets.push(Number(m.offset));
        this.offsets.set(batch.partition, offsets);
        if (this.queue.length >= this.limits.full && !this.paused) {
          this.paused = true;
          this.pauses += 1;
          this.consumer.pause(this.consumer.assignment());
        }
      },
      onError: (error) => {
        this.errors.push(error);
      },
    });
    this.drainTimer = setInterval(() => this.drainOne(), this.limits.drainEveryMs);
  }

  get count(): number {
    return [...this.offsets.values()].reduce((sum, list) => sum + list.length, 0);
  }

  /** Wait for `count` messages; fail once none arrived for `stallMs` (a stalled consumer, not a slow one). */
  async waitForCount(count: number, stallMs = 10_000): Promise<void> {
    let seen = -1;
    let progressAt = Date.now();
    while (this.count < count) {
      if (this.count !== seen) [seen, progressAt] = [this.count, Date.now()];
      if (Date.now() - progressAt > stallMs) {
        const perPartition = [...this.offsets].sort(([a], [b]) => a - b).map(([p, list]) => `${p}: ${list.length}`);
        throw new Error(`stalled at ${seen} of ${count} messages after ${this.pauses} pauses (per partition ${perPartition.join(', ')})`);
      }
      await sleep(50);
    }
  }

  /** Stop draining, once the queue is empty and every commit answered. */
  async settle(): Promise<void> {
    await waitFor('the queue to drain', () => this.queue.length === 0);
    clearInterval(this.drainTimer);
    await this.commits;
  }

  stop(): Promise<void> {
    clearInterval(this.drainTimer);
    return this.consumer.stop();
  }

  private drainOne(): void {
    const batch = this.queue.shift();
    if (batch) {
      const offset = { topic: batch.topic, partition: batch.partition, offset: batch.nextOffset };
      this.commits = this.commits.then(() => this.consumer.commit([offset])).catch((err: Error) => void this.errors.push(err));
    }
    if (this.paused && this.queue.length <= this.limits.resumeAt) {
      this.paused = false;
      this.consumer.resume(this.consumer.assignment());
    }
  }
}
