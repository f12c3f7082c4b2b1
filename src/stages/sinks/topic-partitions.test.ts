import { describe, expect, it } from 'vitest';
import type { KafkaAdmin } from '../../clients/kafka/index.js';
import { TopicPartitions } from './topic-partitions.js';

function fakeAdmin(answers: Array<number | Error>) {
  const asked: string[] = [];
  const admin = {
    fetchTopicOffsets: async (topic: string) => {
      asked.push(topic);
      const answer = answers.shift()!;
      if (answer instanceof Error) throw answer;
      return Array.from({ length: answer }, (_, partition) => ({ partition, low: '0', high: '0' }));
    },
  } as unknown as KafkaAdmin;
  return { admin, asked };
}

describe('TopicPartitions', () => {
  it('waits for the first answer, then serves it synchronously and refreshes it in the background', async () => {
    const { admin, asked } = fakeAdmin([2, 5]);
    const errors: unknown[] = [];
    const partitions = new TopicPartitions(admin, 't', 60_000, (err) => errors.push(err));
    await expect(partitions.get(0)).resolves.toBe(2);
    expect(partitions.get(30_000)).toBe(2);
    expect(asked).toEqual(['t']);
    // Stale: still the last answer, while one refresh (not two) goes out.
    expect(partitions.get(60_000)).toBe(2);
    expect(partitions.get(60_001)).toBe(2);
    expect(asked).toEqual(['t', 't']);
    await new Promise((r) => setImmediate(r));
    expect(partitions.get(60_002)).toBe(5);
    expect(errors).toEqual([]);
  });

  it('keeps the last answer when a refresh fails, and fails the first question when there is none', async () => {
    const { admin } = fakeAdmin([new Error('no broker'), 3, new Error('gone'), 0]);
    const errors: unknown[] = [];
    const partitions = new TopicPartitions(admin, 't', 10, (err) => errors.push(err));
    await expect(partitions.get(0)).rejects.toThrow('no broker');
    await expect(partitions.get(0)).resolves.toBe(3);
    expect(partitions.get(100)).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(errors.map(String)).toEqual(['Error: gone']);
    expect(partitions.get(200)).toBe(3);
    await new Promise((r) => setImmediate(r));
    // A topic without partitions (deleted meanwhile) is an error, not a count of 0.
    expect(errors.map(String)[1]).toMatch(/has no partitions/);
    expect(partitions.get(300)).toBe(3);
  });
});
