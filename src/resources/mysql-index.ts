import { z } from 'zod';
import { openMysqlIndex, type MysqlSeriesIndex } from '../clients/mysql/mysql-index.js';
import { defineResource, type Resource } from '../topology/declaration.js';

export const mysqlIndexConfig = z.strictObject({
  url: z.string().min(1).describe('mysql://user:password@host:port/database (MySQL 8 or MariaDB 10.6+).'),
  pool_size: z.number().int().min(1).max(256).default(8).describe('Connections in the pool: how many window transactions and API queries run at once.'),
  create_database: z.boolean().default(true).describe('Create the database if it does not exist (needs the CREATE privilege).'),
  connect_timeout: z.number().int().min(100).default(10_000).describe('Milliseconds to wait for a connection.'),
});

/** The series index in MySQL/MariaDB: the same schema and queries as the SQLite one, migrated at open. */
export const mysqlIndex = defineResource({
  kind: 'resource',
  type: 'mysql_index',
  summary: 'Series index in MySQL 8 or MariaDB (versioned migrations applied at open, one transaction per window).',
  stability: 'stable',
  examples: [
    {
      title: 'The shared index of the indexer role',
      yaml: `
        index:
          type: mysql_index
          url: \${WEIR_MYSQL_URL:-mysql://weir@127.0.0.1:3306}/weir
          pool_size: 8`,
    },
  ],
  provides: ['series_index'],
  config: mysqlIndexConfig,
  async open(config, ctx): Promise<MysqlSeriesIndex & Resource> {
    return openMysqlIndex({ url: config.url, poolSize: config.pool_size, createDatabase: config.create_database, connectTimeoutMs: config.connect_timeout, logger: ctx.logger });
  },
});
