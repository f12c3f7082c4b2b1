/**
 * Loads the optional `@confluentinc/kafka-javascript` (a native addon built from source here, see
 * scripts/install-confluent.sh) only when the confluent adapter is chosen, so weir runs without it.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../../../errors.js';
import type { ConfluentKafkaJS, RdKafkaProducerConstructor } from './api.js';

export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';

/** `require`, injectable so tests can stand in for a machine without the package. */
export type ModuleLoader = (name: string) => unknown;

const requireFromHere: ModuleLoader = createRequire(import.meta.url);

const HOW_TO_FIX = `run scripts/install-confluent.sh, or use adapter 'kafkajs'`;

export interface ConfluentLibrary {
  kafkaJS: ConfluentKafkaJS;
  /** The callback API's producer (node-rdkafka style), which the hot produce path uses. */
  Producer: RdKafkaProducerConstructor;
}

export function loadConfluentKafkaJS(load: ModuleLoader = requireFromHere): ConfluentKafkaJS {
  return loadConfluentLibrary(load).kafkaJS;
}

export function loadConfluentLibrary(load: ModuleLoader = requireFromHere): ConfluentLibrary {
  let loaded: unknown;
  try {
    loaded = load(CONFLUENT_PACKAGE);
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    const missing = error.code === 'MODULE_NOT_FOUND' && error.message.includes(`'${CONFLUENT_PACKAGE}'`);
    // Installed but unusable is nearly always a native build that failed or was skipped.
    const message = missing
      ? `Kafka adapter 'confluent' needs the optional package ${CONFLUENT_PACKAGE}, which is not installed: ${HOW_TO_FIX}`
      : `Kafka adapter 'confluent': ${CONFLUENT_PACKAGE} is installed but does not load (${error.message}): ${HOW_TO_FIX}`;
    throw new ConfigError(message, [{ path: 'adapter', message }]);
  }
  const library = loaded as { KafkaJS?: ConfluentKafkaJS; Producer?: RdKafkaProducerConstructor } | null;
  const kafkaJS = library?.KafkaJS;
  if (!kafkaJS?.Kafka || typeof library?.Producer !== 'function') {
    const message = `Kafka adapter 'confluent': ${CONFLUENT_PACKAGE} has no KafkaJS API (a version before 1.0?)`;
    throw new ConfigError(message, [{ path: 'adapter', message }]);
  }
  return { kafkaJS, Producer: library.Producer };
}
