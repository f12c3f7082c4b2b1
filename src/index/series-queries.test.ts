import { openSqliteStore } from '../clients/sqlite/sqlite-store.js';
import { describeSeriesQueries } from './series-queries.test-support.js';

describeSeriesQueries(async () => openSqliteStore({ path: ':memory:' }));
