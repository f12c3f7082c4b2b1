/** Conversions between weir's message shapes and the ones both libraries share (KafkaJS-style). */
import type { ConsumedBatch, ConsumedMessage } from './types.js';

/** A consumed message as kafkajs and Confluent's KafkaJS API both hand it over. */
export interface LibraryMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

function headerBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

export function toConsumedMessage(message: LibraryMessage): ConsumedMessage {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    // Both libraries turn a repeated header into an array; weir's contract keeps the last value.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) headers[name] = headerBuffer(last);
  }
  return {
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers,
    timestamp: Number(message.timestamp),
  };
}

export function nextOffsetAfter(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** Split one fetched partition batch into batches of at most `max` messages, in order. */
export function chunkBatch(
  source: { topic: string; partition: number; highWatermark: string; messages: ConsumedMessage[] },
  max: number,
): ConsumedBatch[] {
  const chunks: ConsumedBatch[] = [];
  for (let start = 0; start < source.messages.length; start += max) {
    const messages = source.messages.slice(start, start + max);
    chunks.push({
      topic: source.topic,
      partition: source.partition,
      messages,
      highWatermark: source.highWatermark,
      nextOffset: nextOffsetAfter(messages[messages.length - 1].offset),
    });
  }
  return chunks;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
