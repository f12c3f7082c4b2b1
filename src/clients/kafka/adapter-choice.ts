import { ConfigError } from '../../errors.js';
import { loadConfluentLibrary, type ModuleLoader } from './confluent/load.js';
import type { KafkaAdapterName } from './types.js';

/** What a topology may ask for: an adapter, or `auto` (confluent where it is built, kafkajs elsewhere). */
export type KafkaAdapterChoice = KafkaAdapterName | 'auto';

export interface ChosenAdapter {
  adapter: KafkaAdapterName;
  /** Why `auto` fell back to kafkajs (the confluent loader's message, which says how to fix it). */
  fallbackReason?: string;
}

/**
 * Resolves `auto`: librdkafka produces at about twice kafkajs' messages per CPU-second, but it is
 * an optional native build, so a machine without it still runs, on kafkajs, and says why.
 */
export function chooseKafkaAdapter(choice: KafkaAdapterChoice, load?: ModuleLoader): ChosenAdapter {
  if (choice !== 'auto') return { adapter: choice };
  try {
    loadConfluentLibrary(load);
    return { adapter: 'confluent' };
  } catch (err) {
    if (err instanceof ConfigError) return { adapter: 'kafkajs', fallbackReason: err.message };
    throw err;
  }
}
