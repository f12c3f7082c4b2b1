// One readiness probe for scripts/lib/kafka.sh: exits 0 when the broker answers a metadata request
// (an admin listTopics), 1 otherwise. The shell loops around it so it can also watch the broker's pid
// and give up with the log tail; a JVM-based probe would cost ~1 s of startup per attempt.
// Usage: node scripts/lib/kafka-ready.mjs 127.0.0.1:19092
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const brokers = (process.argv[2] ?? '').split(',').filter(Boolean);
if (brokers.length === 0) {
  console.error('usage: kafka-ready.mjs host:port[,host:port...]');
  process.exit(2);
}

const admin = new Kafka({
  clientId: 'weir-services-ready',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1_000,
  requestTimeout: 2_000,
  // One attempt: the caller decides how long to keep trying.
  retry: { retries: 0 },
}).admin();

try {
  await admin.connect();
  await admin.listTopics();
  process.exitCode = 0;
} catch (err) {
  if (process.env.WEIR_SERVICES_DEBUG) console.error(err);
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => undefined);
}
