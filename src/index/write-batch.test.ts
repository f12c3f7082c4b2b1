import { openSqliteStore } from '../clients/sqlite/sqlite-store.js';
import { describeWriteBatch } from './write-batch.test-support.js';

describeWriteBatch(async () => openSqliteStore({ path: ':memory:' }));
