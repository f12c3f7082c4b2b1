import { afterAll } from 'vitest';
import { describeSeriesQueries } from '../../src/index/series-queries.test-support.js';
import { describeWriteBatch } from '../../src/index/write-batch.test-support.js';
import { dropTestDatabases, openTestStore } from './support.js';

// The same query and write-path suites as SQLite's, each index on a database of its own.
describeSeriesQueries(() => openTestStore());
describeWriteBatch(() => openTestStore());

afterAll(dropTestDatabases);
