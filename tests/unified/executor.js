'use strict';
// Runs unified-format test files against one server URI ("Test Runner Implementation"
// in the spec). Each test gets a fresh entity map; setup and outcome checks use one
// internal client; fail points set by a test are turned off after it.
//
// Results per test: { description, status: 'passed'|'failed'|'skipped'|'notApplicable', reason }.
const fs = require('node:fs');
const path = require('node:path');
const { mongodb } = require('./deps');
const { match, matchRootList, exactEquals, MatchError, show } = require('./matcher');
const { checkRequirements, schemaSupported, SUPPORTED_SCHEMA } = require('./requirements');
const { EntityMap, createEntities, UnsupportedError } = require('./entities');
const { runEntityOperation, ITERABLE_RESULTS, ArgumentError } = require('./operations');
const { checkError, checkEvents, matchEvent } = require('./expectations');
const { parseTestFile } = require('./values');

const { MongoClient } = mongodb;

const TXN_STATES = {
  none: ['NO_TRANSACTION'],
  starting: ['STARTING_TRANSACTION'],
  in_progress: ['TRANSACTION_IN_PROGRESS'],
  committed: ['TRANSACTION_COMMITTED', 'TRANSACTION_COMMITTED_EMPTY'],
  aborted: ['TRANSACTION_ABORTED'],
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class TimeoutError extends Error {}

// Resolves like `promise`, or rejects with TimeoutError after `ms` (running onTimeout).
function withTimeout(promise, ms, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(async () => {
      if (onTimeout) await onTimeout();
      reject(new TimeoutError(`timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function assert(cond, msg) {
  if (!cond) throw new MatchError(msg);
}

class Runner {
  // server: requirements description (see requirements.defaultServer); skips: the
  // parsed skips.json ({ files: {name: reason}, tests: {"file/description": reason} }).
  constructor({ uri, server, skips = { files: {}, tests: {} }, log = () => {}, testTimeoutMs = 60000, grep = null }) {
    this.uri = uri;
    this.grep = grep;
    this.testTimeoutMs = testTimeoutMs;
    this.server = server;
    this.skips = skips;
    this.log = log;
    this.internal = null;
    this.entities = null;
    this.failPoints = [];
    this.usedTransactions = false;
  }

  async connect() {
    this.internal = new MongoClient(this.uri, { serverSelectionTimeoutMS: 10000 });
    await this.internal.connect();
    await this.killAllSessions();
  }

  async close() {
    if (this.internal) await this.internal.close();
  }

  // Spec "Terminating Open Transactions"; a server without the command is fine.
  async killAllSessions() {
    await this.internal.db('admin').command({ killAllSessions: [] }).catch(() => {});
  }

  // skips.json: { files: { glob: reason }, tests: { glob: { description: reason } } }.
  // Globs match the end of the file's path ("crud/tests/unified/find.json", "find.json",
  // "transactions/tests/unified/*.json"), so entries work from any checkout location.
  skipReasonFor(filePath, description) {
    for (const [glob, reasons] of Object.entries(this.skips.tests ?? {})) {
      if (globMatches(glob, filePath) && reasons[description]) return reasons[description];
    }
    for (const [glob, reason] of Object.entries(this.skips.files ?? {})) {
      if (globMatches(glob, filePath)) return reason;
    }
    return null;
  }

  // Returns { file, results: [...] }.
  async runFile(filePath) {
    const fileName = path.basename(filePath);
    const results = [];
    let doc;
    try {
      doc = parseTestFile(fs.readFileSync(filePath, 'utf8'));
    } catch (e) {
      return { file: fileName, results: [{ description: '(file)', status: 'failed', reason: `cannot parse: ${e.message}` }] };
    }
    const tests = doc.tests ?? [];
    const selected = tests.filter((t) => !this.grep || this.grep.test(`${fileName}: ${t.description}`));
    const all = (status, reason) => ({ file: fileName, results: selected.map((t) => ({ description: t.description, status, reason })) });
    if (!schemaSupported(doc.schemaVersion)) {
      return all('failed', `schemaVersion ${doc.schemaVersion} is not supported (this runner reads 1.0 to ${SUPPORTED_SCHEMA})`);
    }
    const fileNA = await checkRequirements(doc.runOnRequirements, this.server);
    if (fileNA) return all('notApplicable', fileNA);
    try {
      for (const test of tests) {
        if (this.grep && !this.grep.test(`${fileName}: ${test.description}`)) continue;
        results.push(await this.runTestSafely(doc, test, filePath));
      }
    } finally {
      await this.dropDatabases(doc);
    }
    return { file: fileName, results };
  }

  async runTestSafely(doc, test, filePath) {
    const base = { description: test.description };
    if (test.skipReason) return { ...base, status: 'skipped', reason: `test file says: ${test.skipReason}` };
    const listed = this.skipReasonFor(filePath, test.description);
    if (listed) return { ...base, status: 'skipped', reason: listed };
    const na = await checkRequirements(test.runOnRequirements, this.server);
    if (na) return { ...base, status: 'notApplicable', reason: na };
    try {
      await withTimeout(this.runTest(doc, test), this.testTimeoutMs, async () => {
        // A hung operation (e.g. a change stream that never gets its event) would hold
        // the entities open; close them so the next test starts clean.
        await withTimeout(this.entities?.close() ?? Promise.resolve(), 5000).catch(() => {});
      });
      return { ...base, status: 'passed' };
    } catch (e) {
      if (e instanceof UnsupportedError) return { ...base, status: 'skipped', reason: `runner: ${e.message}` };
      await this.killAllSessions();
      const reason = e instanceof MatchError ? e.message : `${e.constructor?.name ?? 'Error'}: ${e.message}`;
      return { ...base, status: 'failed', reason };
    }
  }

  // Databases the file touches: dropped after the file so files never see each other.
  databasesOf(doc) {
    const names = new Set();
    for (const e of doc.createEntities ?? []) if (e.database) names.add(e.database.databaseName);
    for (const c of doc.initialData ?? []) names.add(c.databaseName);
    for (const t of doc.tests ?? []) for (const c of t.outcome ?? []) names.add(c.databaseName);
    names.delete('admin');
    names.delete('local');
    names.delete('config');
    return [...names];
  }

  async dropDatabases(doc) {
    for (const name of this.databasesOf(doc)) {
      await this.internal.db(name).dropDatabase().catch((e) => this.log(`warning: dropDatabase ${name}: ${e.message}`));
    }
  }

  async setupInitialData(initialData = []) {
    const wc = { writeConcern: { w: 'majority' } };
    for (const c of initialData) {
      const db = this.internal.db(c.databaseName);
      for (const name of [c.collectionName, `enxcol_.${c.collectionName}.esc`, `enxcol_.${c.collectionName}.ecoc`]) {
        await db.dropCollection(name, wc).catch((e) => {
          if (e.code !== 26) throw e; // NamespaceNotFound is expected for a fresh database
        });
      }
      if (c.createOptions || c.documents.length === 0) {
        await db.createCollection(c.collectionName, { ...wc, ...(c.createOptions ?? {}) });
      }
      if (c.documents.length > 0) await db.collection(c.collectionName).insertMany(c.documents, wc);
    }
  }

  async runTest(doc, test) {
    this.entities = new EntityMap();
    this.failPoints = [];
    this.usedTransactions = false;
    let failure = null;
    try {
      await this.setupInitialData(doc.initialData);
      await createEntities(doc.createEntities ?? [], this.entities, { uri: this.uri });
      for (const op of test.operations) await this.executeOperation(op);
      if (test.expectEvents) checkEvents(test.expectEvents, this.entities, { entities: this.entities });
      if (test.expectLogMessages) throw new UnsupportedError('expectLogMessages is not supported');
      if (test.expectTracingMessages) throw new UnsupportedError('expectTracingMessages is not supported');
      for (const c of test.outcome ?? []) await this.checkOutcome(c);
    } catch (e) {
      failure = e;
    }
    // Cleanup always runs; a cleanup error only surfaces when the test itself passed.
    try {
      await this.disableFailPoints();
      await this.entities.close();
      if (this.usedTransactions) await this.killAllSessions();
    } catch (e) {
      failure ??= e;
    }
    if (failure) throw failure;
  }

  async checkOutcome(c) {
    const docs = await this.internal
      .db(c.databaseName)
      .collection(c.collectionName)
      .find({}, { sort: { _id: 1 }, readPreference: 'primary', readConcern: { level: 'local' } })
      .toArray();
    const where = `outcome ${c.databaseName}.${c.collectionName}`;
    assert(docs.length === c.documents.length, `${where}: expected ${c.documents.length} document(s), got ${docs.length}: ${show(docs)}`);
    c.documents.forEach((d, i) => {
      try {
        exactEquals(d, docs[i], `$[${i}]`);
      } catch (e) {
        throw new MatchError(`${where}: ${e.message}`);
      }
    });
  }

  async disableFailPoints() {
    // Through the internal client: the test may have closed its own client already, and
    // there is only one server, so this is "the same server" the spec asks for.
    for (const { name } of this.failPoints) {
      await this.internal.db('admin').command({ configureFailPoint: name, mode: 'off' });
    }
    this.failPoints = [];
  }

  // Executes one operation with its expectResult/expectError/saveResultAsEntity.
  // propagateErrors: inside withTransaction callbacks, rethrow the (expected) error.
  async executeOperation(op, { propagateErrors = false } = {}) {
    if (op.object === 'testRunner') return this.runSpecial(op);
    if (['startTransaction', 'withTransaction'].includes(op.name)) this.usedTransactions = true;
    let result;
    let error = null;
    try {
      result = await runEntityOperation(op, this);
    } catch (e) {
      if (e instanceof UnsupportedError || e instanceof ArgumentError) throw e;
      error = e;
    }
    if (op.ignoreResultAndError) {
      if (error && propagateErrors) throw error;
      return;
    }
    const ctx = { entities: this.entities };
    if (op.expectError) {
      try {
        checkError(op.expectError, error, ctx);
      } catch (e) {
        throw new MatchError(`operation ${op.name}: ${e.message}`);
      }
      if (propagateErrors) throw error;
      return;
    }
    if (error) {
      throw new MatchError(`operation ${op.name} failed unexpectedly: ${error.constructor?.name}: ${error.message}${error.code !== undefined ? ` (code ${error.code})` : ''}`);
    }
    const value = result && result.entityKind ? result.value : result;
    if (op.expectResult !== undefined) {
      try {
        if (ITERABLE_RESULTS.has(op.name)) matchRootList(op.expectResult, value, ctx);
        else match(op.expectResult, value, '$', ctx, true);
      } catch (e) {
        throw new MatchError(`operation ${op.name} result: ${e.message}`);
      }
    }
    if (op.saveResultAsEntity) {
      if (value === undefined) throw new Error(`operation ${op.name} returned nothing to save as ${op.saveResultAsEntity}`);
      this.entities.add(op.saveResultAsEntity, result && result.entityKind ? result.entityKind : 'bson', value);
    }
  }

  sessionEntity(name) {
    return this.entities.entry(name, 'session').value;
  }

  // Commands the client observed (command monitoring, not ignored), newest last.
  lastTwoLsids(clientName) {
    const starts = this.entities.entry(clientName, 'client').allCommandStarts;
    assert(starts.length >= 2, `${clientName}: fewer than two commands observed`);
    const [a, b] = starts.slice(-2).map((e) => e.command.lsid);
    assert(a && b, `${clientName}: last two commands do not both carry an lsid`);
    return [a, b];
  }

  async runSpecial(op) {
    const a = op.arguments ?? {};
    const nsExists = async (dbName, collName) => {
      const list = await this.internal.db(dbName).listCollections({ name: collName }, { nameOnly: true }).toArray();
      return list.length > 0;
    };
    const indexExists = async (dbName, collName, indexName) => {
      const list = await this.internal.db(dbName).collection(collName).listIndexes().toArray().catch((e) => {
        if (e.code === 26) return [];
        throw e;
      });
      return list.some((i) => i.name === indexName);
    };
    switch (op.name) {
      case 'failPoint': {
        const client = this.entities.entry(a.client, 'client').value;
        await client.db('admin').command(a.failPoint);
        this.failPoints.push({ name: a.failPoint.configureFailPoint });
        return;
      }
      case 'targetedFailPoint': {
        // Only meaningful for sharded/load-balanced pinning; the spec requires an error
        // when the session is not pinned, and a replica-set session never is.
        const session = this.sessionEntity(a.session);
        assert(session.isPinned, 'targetedFailPoint: session is not pinned to a mongos');
        throw new UnsupportedError('targetedFailPoint on a pinned session (sharded only)');
      }
      case 'assertSessionTransactionState': {
        const state = this.sessionEntity(a.session).transaction.state;
        const want = TXN_STATES[a.state];
        assert(want, `unknown transaction state ${a.state}`);
        assert(want.includes(state), `expected transaction state ${a.state}, got ${state}`);
        return;
      }
      case 'assertSessionPinned':
        assert(this.sessionEntity(a.session).isPinned, 'expected session to be pinned');
        return;
      case 'assertSessionUnpinned':
        assert(!this.sessionEntity(a.session).isPinned, 'expected session to be unpinned');
        return;
      case 'assertSessionDirty':
        assert(this.sessionEntity(a.session).serverSession?.isDirty === true, 'expected session to be dirty');
        return;
      case 'assertSessionNotDirty':
        assert(!this.sessionEntity(a.session).serverSession?.isDirty, 'expected session not to be dirty');
        return;
      case 'assertSameLsidOnLastTwoCommands': {
        const [x, y] = this.lastTwoLsids(a.client);
        match(x, y, '$.lsid');
        return;
      }
      case 'assertDifferentLsidOnLastTwoCommands': {
        const [x, y] = this.lastTwoLsids(a.client);
        let same = true;
        try {
          match(x, y, '$.lsid');
        } catch {
          same = false;
        }
        assert(!same, 'expected different lsids on the last two commands');
        return;
      }
      case 'assertCollectionExists':
        assert(await nsExists(a.databaseName, a.collectionName), `expected collection ${a.databaseName}.${a.collectionName} to exist`);
        return;
      case 'assertCollectionNotExists':
        assert(!(await nsExists(a.databaseName, a.collectionName)), `expected collection ${a.databaseName}.${a.collectionName} not to exist`);
        return;
      case 'assertIndexExists':
        assert(await indexExists(a.databaseName, a.collectionName, a.indexName), `expected index ${a.indexName} on ${a.databaseName}.${a.collectionName}`);
        return;
      case 'assertIndexNotExists':
        assert(!(await indexExists(a.databaseName, a.collectionName, a.indexName)), `expected no index ${a.indexName} on ${a.databaseName}.${a.collectionName}`);
        return;
      case 'createEntities':
        await createEntities(a.entities, this.entities, { uri: this.uri });
        return;
      case 'assertNumberConnectionsCheckedOut': {
        const n = this.entities.entry(a.client, 'client').checkedOut;
        assert(n === Number(a.connections), `expected ${a.connections} connections checked out, got ${n}`);
        return;
      }
      case 'wait':
        await sleep(Number(a.ms));
        return;
      case 'waitForEvent':
      case 'assertEventCount': {
        const client = this.entities.entry(a.client, 'client');
        const count = () => client.events.filter((r) => eventMatches(a.event, r, this.entities)).length;
        if (op.name === 'assertEventCount') {
          assert(count() === Number(a.count), `expected ${a.count} matching event(s), got ${count()}`);
          return;
        }
        const deadline = Date.now() + 10000;
        while (count() < Number(a.count)) {
          assert(Date.now() < deadline, `timed out waiting for ${a.count} event(s) ${show(a.event)}`);
          await sleep(20);
        }
        return;
      }
      case 'runOnThread': {
        const thread = this.entities.entry(a.thread, 'thread').value;
        thread.queue = thread.queue.then(() => this.executeOperation(a.operation)).catch((e) => {
          thread.error ??= e;
        });
        return;
      }
      case 'waitForThread': {
        const thread = this.entities.entry(a.thread, 'thread').value;
        await thread.queue;
        if (thread.error) throw thread.error;
        return;
      }
      default:
        throw new UnsupportedError(`testRunner operation ${op.name}`);
    }
  }
}

function globMatches(glob, filePath) {
  const re = glob
    .split('**')
    .map((part) => part.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`(^|/)${re}$`).test(filePath.split(path.sep).join('/'));
}

function eventMatches(expected, record, entities) {
  try {
    matchEvent(expected, record, '$', { entities });
    return true;
  } catch {
    return false;
  }
}

module.exports = { Runner, globMatches, withTimeout, TimeoutError };
