/**
 * Loads the optional `@confluentinc/kafka-javascript` (a native addon built from source here, see
 * scripts/install-confluent.sh) only when the confluent adapter is chosen, so weir runs without it.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../../../errors.js';
import type { ConfluentKafkaJS } from './api.js';

export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';

/** `require`, injectable so tests can stand in for a machine without the package. */
export type ModuleLoader = (name: string) => unknown;

const requireFromHere: ModuleLoader = createRequire(import.meta.url);

const HOW_TO_FIX = `run scripts/install-confluent.sh, or use adapter 'kafkajs'`;

export function loadConfluentKafkaJS(load: ModuleLoader = requireFromHere): ConfluentKafkaJS {
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
  const kafkaJS = (loaded as { KafkaJS?: ConfluentKafkaJS } | null)?.KafkaJS;
  if (!kafkaJS?.Kafka) {
    const message = `Kafka adapter 'confluent': ${CONFLUENT_PACKAGE} has no KafkaJS API (a version before 1.0?)`;
    throw new ConfigError(message, [{ path: 'adapter', message }]);
  }
  return kafkaJS;
}
