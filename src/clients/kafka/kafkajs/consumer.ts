import type { Consumer, EachBatchPayload, Kafka, RetryOptions } from 'kafkajs';
import { DownstreamError } from '../../../errors.js';
import type { ResolvedConsumerOptions } from '../config.js';
import { byTopic, GroupConsumer } from '../group-consumer.js';
import { GroupSession } from '../group-session.js';
import { toConsumedMessage } from '../messages.js';
import type { TopicPartitionOffset } from '../types.js';
import { fromKafkajs, kafkajsCall } from './errors.js';

/** kafkajs' own test for "the group is rebalancing" (errors.js `isRebalancing`). */
const REBALANCING = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION']);
const isRebalancing = (err: unknown): boolean => REBALANCING.has((err as { type?: string } | null)?.type ?? '');


/**
 * kafkajs has no rebalance listener. Revocation is detected two ways: our own heartbeat after each
 * batch (kafkajs has not rejoined yet, so the revoke hook blocks the rebalance), and the REBALANCING
 * event when the rebalance is noticed while idle (kafkajs rejoins at once; the hook runs alongside).
 * The new assignment comes from GROUP_JOIN; no batch reaches onBatch until its hook has finished.
 */
export class KafkajsConsumer extends GroupConsumer {
  protected readonly consumer: Consumer;
  protected readonly session: GroupSession;
  private readonly detachers: Array<() => void> = [];

  constructor(
    kafka: Kafka,
    private readonly options: ResolvedConsumerOptions,
    retry: RetryOptions,
  ) {
    super();
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTimeInMs: options.fetchMaxWaitMs,
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer on a timer, even one stopped meanwhile; stopped means stopped.
      retry: { ...retry, restartOnFailure: async () => this.session.isActive() },
    });
    this.session = new GroupSession('kafkajs', (partitions) => this.consumer.resume(byTopic(partitions)));
  }

  protected async joinGroup(): Promise<void> {
    this.listen();
    await kafkajsCall('consumer connect', () => this.consumer.connect());
    await kafkajsCall(`subscribe to ${this.options.topics.join(',')}`, () =>
      this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.startFrom === 'earliest' }),
    );
    await kafkajsCall('consumer run', () =>
      this.consumer.run({
        autoCommit: false,
        // We resolve after each chunk we hand out, so a pause or seek mid-batch refetches the rest.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onEachBatch(payload),
      }),
    );
    await this.session.waitForFirstAssignment(this.options.joinTimeoutMs);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    // kafkajs drops a commit silently while its runner is not running (crashed, restarting, stopped).
    if (!this.session.canCommit()) {
      throw new DownstreamError('kafka (kafkajs) commit failed: the consumer is not in its group right now', { retriable: true });
    }
    await kafkajsCall('commit', () =>
      this.consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }))),
    );
  }

  protected async leaveGroup(): Promise<void> {
    const owned = this.session.assignment();
    try {
      if (owned.length > 0) this.consumer.pause(byTopic(owned));
    } catch {
      // Between a crash and its restart kafkajs has no group to pause: nothing is being fetched.
    }
    await this.session.drainForStop();
    for (const detach of this.detachers.splice(0)) detach();
    try {
      await kafkajsCall('consumer disconnect', () => this.consumer.disconnect());
    } finally {
      this.session.finishStop();
    }
  }

  private async onEachBatch({ batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    await this.session.deliver(
      {
        topic: batch.topic,
        partition: batch.partition,
        highWatermark: batch.highWatermark,
        messages: batch.messages.map(toConsumedMessage),
      },
      this.options.maxBatchMessages,
      resolveOffset,
      isStale,
    );
    try {
      await heartbeat();
    } catch (err) {
      // Noticed inside the batch: kafkajs will not rejoin before we return, so the hook blocks it.
      if (isRebalancing(err)) await this.session.revoked('rebalance');
      throw err;
    }
  }

  protected sync(operation: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      throw fromKafkajs(operation, err);
    }
  }

  private listen(): void {
    const { GROUP_JOIN, REBALANCING, CRASH } = this.consumer.events;
    this.detachers.push(
      this.consumer.on(GROUP_JOIN, ({ payload }) => {
        const partitions = Object.entries(payload.memberAssignment).flatMap(([topic, list]) =>
          list.map((partition) => ({ topic, partition })),
        );
        void this.session.assigned(partitions);
      }),
      this.consumer.on(REBALANCING, () => void this.session.revoked('rebalance')),
      this.consumer.on(CRASH, ({ payload }) => {
        if (!this.session.isActive()) return; // a crash while stopping changes nothing
        const error = fromKafkajs('consumer fetch loop', payload.error);
        if (payload.restart) {
          this.session.crashed(error, { permanent: false });
          return;
        }
        const message = `${error.message}; kafkajs will not restart it: create a new consumer`;
        this.session.crashed(new DownstreamError(message, { cause: payload.error, retriable: false }), { permanent: true });
      }),
    );
  }
}
