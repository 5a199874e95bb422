import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { storeSuite } from './suite.js';

const root = mkdtempSync(join(tmpdir(), 'kts-sqlite-suite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

storeSuite('sqlite', async () => new SqliteStore({ path: join(root, `t${n++}`, 'state.db') }));
