import { DownstreamError } from '../../../errors.js';
import type { ResolvedConsumerOptions } from '../config.js';
import { byTopic, GroupConsumer } from '../group-consumer.js';
import { GroupSession } from '../group-session.js';
import { partitionKey, toConsumedMessage } from '../messages.js';
import type { TopicPartition, TopicPartitionOffset } from '../types.js';
import type {
  ConfluentConsumer as LibraryConsumer,
  ConfluentEachBatchPayload,
  ConfluentKafka,
  ConfluentKafkaJS,
  ConfluentRebalanceCallback,
} from './api.js';
import type { ConfluentErrorMapper } from './errors.js';


/**
 * librdkafka calls our rebalance callback and waits for it before it assigns or unassigns, so the
 * revoke hook really runs before partitions move (eager protocol: the library default here).
 *
 * Pausing needs care here. The library's KafkaJS layer prefetches messages of every partition into
 * a cache, and librdkafka counts them as consumed. Its `pause` drops the cache and seeks back only
 * to the last offset resolved since the partition's last seek; a partition with cached messages
 * but nothing resolved since would resume *after* them: they are skipped, and the partition looks
 * stalled at its end (confluentinc/confluent-kafka-javascript#517). So every library pause is
 * followed by a seek to where the session's delivery goes on, and a partition whose position is
 * not known yet (nothing handed out since it was assigned) is paused in the library only when its
 * first batch shows up, at that batch's first offset.
 */
export class ConfluentConsumer extends GroupConsumer {
  protected readonly consumer: LibraryConsumer;
  protected readonly session: GroupSession;
  private stopRequested = false;
  /** Partitions paused in the library; the session may count more as paused (see the class comment). */
  private readonly libraryPaused = new Set<string>();

  constructor(
    lib: ConfluentKafkaJS,
    kafka: ConfluentKafka,
    private readonly options: ResolvedConsumerOptions,
    private readonly mapError: ConfluentErrorMapper,
  ) {
    super();
    const assignCode = lib.ErrorCodes.ERR__ASSIGN_PARTITIONS;
    const onRebalance: ConfluentRebalanceCallback = async (err, assignment, fns) => {
      const partitions = assignment.map(({ topic, partition }) => ({ topic, partition }));
      if (err.code === assignCode) {
        // Assign first, so the hook may already pause or seek the new partitions.
        fns?.assign(assignment);
        await this.session.assigned(partitions);
      } else {
        const reason = fns?.assignmentLost() ? 'lost' : this.stopRequested ? 'stop' : 'rebalance';
        await this.session.revoked(reason, partitions);
      }
    };
    this.consumer = kafka.consumer({
      kafkaJS: {
        groupId: options.groupId,
        fromBeginning: options.startFrom === 'earliest',
        autoCommit: false,
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: options.heartbeatIntervalMs,
        maxWaitTimeInMs: options.fetchMaxWaitMs,
        allowAutoTopicCreation: false,
      },
      'js.consumer.max.batch.size': options.maxBatchMessages,
      rebalance_cb: onRebalance,
    });
    this.session = new GroupSession('confluent', (partitions) => this.resumeInLibrary(partitions));
  }

  protected override pauseInLibrary(partitions: TopicPartition[]): void {
    const known = partitions.flatMap((tp) => {
      const offset = this.session.position(tp);
      return offset === undefined ? [] : [{ ...tp, offset }];
    });
    this.pauseAt(known);
  }

  protected override resumeInLibrary(partitions: TopicPartition[]): void {
    const paused = partitions.filter((tp) => this.libraryPaused.delete(partitionKey(tp.topic, tp.partition)));
    if (paused.length > 0) this.consumer.resume(byTopic(paused));
  }

  /** Pause in the library, and have it fetch from `offset` on when resumed (its own position may be past its dropped cache). */
  private pauseAt(targets: TopicPartitionOffset[]): void {
    const fresh = targets.filter((tp) => !this.libraryPaused.has(partitionKey(tp.topic, tp.partition)));
    if (fresh.length === 0) return;
    this.consumer.pause(byTopic(fresh));
    for (const { topic, partition, offset } of fresh) {
      this.libraryPaused.add(partitionKey(topic, partition));
      this.session.markSeek(topic, partition, offset);
      this.consumer.seek({ topic, partition, offset });
    }
  }

  protected async joinGroup(): Promise<void> {
    await this.call('consumer connect', () => this.consumer.connect());
    await this.call(`subscribe to ${this.options.topics.join(',')}`, () => this.consumer.subscribe({ topics: this.options.topics }));
    await this.call('consumer run', () =>
      this.consumer.run({
        // We resolve after each batch we hand out, so a pause or seek mid-batch refetches the rest.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onEachBatch(payload),
      }),
    );
    await this.session.waitForFirstAssignment(this.options.joinTimeoutMs);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    if (!this.session.canCommit()) {
      throw new DownstreamError('kafka (confluent) commit failed: the consumer is not in its group right now', { retriable: true });
    }
    await this.call('commit', () => this.consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }))));
  }

  protected async leaveGroup(): Promise<void> {
    this.stopRequested = true;
    // No library pause here: the library queues it and may run it after disconnect, where it throws
    // outside any caller (an uncaught exception). The session stops handing out batches once it is
    // stopping, which is all the pause was for.
    await this.session.drainForStop();
    try {
      // librdkafka revokes again on close; the session has nothing left to revoke by then.
      await this.call('consumer disconnect', () => this.consumer.disconnect());
    } finally {
      this.session.finishStop();
    }
  }

  private async onEachBatch({ batch, resolveOffset, isStale }: ConfluentEachBatchPayload): Promise<void> {
    const tp = { topic: batch.topic, partition: batch.partition };
    if (this.session.isPaused(tp) && this.session.owns(tp) && !this.libraryPaused.has(partitionKey(tp.topic, tp.partition))) {
      // Paused before anything of it was handed out: its position is known now.
      try {
        this.pauseAt([{ ...tp, offset: batch.messages[0].offset }]);
      } catch (err) {
        this.session.report(this.mapError(`pause ${tp.topic}[${tp.partition}]`, err));
      }
      return;
    }
    await this.session.deliver(
      {
        topic: batch.topic,
        partition: batch.partition,
        highWatermark: batch.highWatermark === '-1001' ? '-1' : batch.highWatermark,
        messages: batch.messages.map(toConsumedMessage),
      },
      this.options.maxBatchMessages,
      resolveOffset,
      isStale,
    );
  }

  protected sync(operation: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      throw this.mapError(operation, err);
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(operation, err);
    }
  }
}
