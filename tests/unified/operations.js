'use strict';
// Entity operations of the unified test format, mapped onto the Node.js driver.
//
// Each handler receives ({ entity, entry, args, op, runner }) and returns the operation's
// result already converted to a plain document/array/scalar (spec: "Converting Returned
// Model Objects to Documents"); iterables are fully iterated unless the spec says not to.
// `ITERABLE_RESULTS` names operations whose expectResult elements are root documents.
const { mongodb } = require('./deps');
const { plain, convertArgs, readPreference } = require('./values');
const { UnsupportedError } = require('./entities');

const { ReturnDocument } = mongodb;

const ITERABLE_RESULTS = new Set([
  'aggregate', 'find', 'listCollections', 'listCollectionObjects', 'listDatabases', 'listDatabaseObjects', 'listIndexes',
  'runCursorCommand', 'listSearchIndexes',
]);

// Splits `session`, readConcern/readPreference/writeConcern out of the arguments and
// returns { opts, ... } ready for the driver.
function driverOptions(args, runner, omit = []) {
  const opts = {};
  for (const [k, v] of Object.entries(args)) {
    if (omit.includes(k)) continue;
    if (k === 'session') opts.session = runner.entities.entry(v, 'session').value;
    else if (k === 'readPreference') opts.readPreference = readPreference(v);
    else opts[k] = v;
  }
  return opts;
}

function updateResult(r) {
  const out = { matchedCount: r.matchedCount, modifiedCount: r.modifiedCount, upsertedCount: r.upsertedCount };
  if (r.upsertedId !== null && r.upsertedId !== undefined) out.upsertedId = r.upsertedId;
  return out;
}

function bulkResult(r) {
  if (!r) return r;
  return {
    insertedCount: r.insertedCount,
    matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount,
    deletedCount: r.deletedCount,
    upsertedCount: r.upsertedCount,
    upsertedIds: { ...r.upsertedIds },
    insertedIds: { ...r.insertedIds },
  };
}

function returnDocument(v) {
  if (v === undefined) return undefined;
  const s = String(v).toLowerCase();
  if (s === 'before') return ReturnDocument.BEFORE;
  if (s === 'after') return ReturnDocument.AFTER;
  throw new Error(`returnDocument must be Before or After, got ${v}`);
}

// bulkWrite requests: { insertOne: { document } } etc. keep their data documents typed.
function bulkModel(req) {
  const [type] = Object.keys(req);
  const body = convertArgs(req[type]);
  if (!['insertOne', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany'].includes(type)) {
    throw new Error(`unknown bulkWrite request type ${type}`);
  }
  return { [type]: body };
}

async function toArray(cursor) {
  return cursor.toArray();
}

// iterateUntilDocumentOrError: change streams block in next(); find/command cursors
// return null when exhausted, which is an error for this operation.
async function iterateUntilDocument(entry) {
  const cursor = entry.value;
  if (entry.kind === 'changeStream') return cursor.next();
  for (;;) {
    const doc = await cursor.tryNext();
    if (doc !== null) return doc;
    if (cursor.closed || cursor.killed || (cursor.id && cursor.id.isZero())) throw new Error('cursor exhausted before a document was returned');
  }
}

const collectionOps = {
  async aggregate({ entity, args, runner }) {
    return toArray(entity.aggregate(args.pipeline, driverOptions(args, runner, ['pipeline'])));
  },
  async bulkWrite({ entity, args, runner }) {
    const models = args.requests.map(bulkModel);
    return bulkResult(await entity.bulkWrite(models, driverOptions(args, runner, ['requests'])));
  },
  async countDocuments({ entity, args, runner }) {
    return entity.countDocuments(args.filter ?? {}, driverOptions(args, runner, ['filter']));
  },
  async count({ entity, args, runner }) {
    return entity.count(args.filter ?? {}, driverOptions(args, runner, ['filter']));
  },
  async estimatedDocumentCount({ entity, args, runner }) {
    return entity.estimatedDocumentCount(driverOptions(args, runner));
  },
  async distinct({ entity, args, runner }) {
    return entity.distinct(args.fieldName, args.filter ?? {}, driverOptions(args, runner, ['fieldName', 'filter']));
  },
  async deleteOne({ entity, args, runner }) {
    const r = await entity.deleteOne(args.filter, driverOptions(args, runner, ['filter']));
    return { deletedCount: r.deletedCount };
  },
  async deleteMany({ entity, args, runner }) {
    const r = await entity.deleteMany(args.filter, driverOptions(args, runner, ['filter']));
    return { deletedCount: r.deletedCount };
  },
  async find({ entity, args, runner }) {
    return toArray(entity.find(args.filter ?? {}, driverOptions(args, runner, ['filter'])));
  },
  async findOne({ entity, args, runner }) {
    return entity.findOne(args.filter ?? {}, driverOptions(args, runner, ['filter']));
  },
  async findOneAndDelete({ entity, args, runner }) {
    return entity.findOneAndDelete(args.filter, driverOptions(args, runner, ['filter']));
  },
  async findOneAndReplace({ entity, args, runner }) {
    const opts = driverOptions(args, runner, ['filter', 'replacement']);
    if (opts.returnDocument !== undefined) opts.returnDocument = returnDocument(opts.returnDocument);
    return entity.findOneAndReplace(args.filter, args.replacement, opts);
  },
  async findOneAndUpdate({ entity, args, runner }) {
    const opts = driverOptions(args, runner, ['filter', 'update']);
    if (opts.returnDocument !== undefined) opts.returnDocument = returnDocument(opts.returnDocument);
    return entity.findOneAndUpdate(args.filter, args.update, opts);
  },
  async insertOne({ entity, args, runner }) {
    const r = await entity.insertOne(args.document, driverOptions(args, runner, ['document']));
    return { insertedId: r.insertedId };
  },
  async insertMany({ entity, args, runner }) {
    const r = await entity.insertMany(args.documents, driverOptions(args, runner, ['documents']));
    return { insertedCount: r.insertedCount, insertedIds: { ...r.insertedIds } };
  },
  async replaceOne({ entity, args, runner }) {
    return updateResult(await entity.replaceOne(args.filter, args.replacement, driverOptions(args, runner, ['filter', 'replacement'])));
  },
  async updateOne({ entity, args, runner }) {
    return updateResult(await entity.updateOne(args.filter, args.update, driverOptions(args, runner, ['filter', 'update'])));
  },
  async updateMany({ entity, args, runner }) {
    return updateResult(await entity.updateMany(args.filter, args.update, driverOptions(args, runner, ['filter', 'update'])));
  },
  async createIndex({ entity, args, runner }) {
    return entity.createIndex(args.keys, driverOptions(args, runner, ['keys']));
  },
  async dropIndex({ entity, args, runner }) {
    await entity.dropIndex(args.name, driverOptions(args, runner, ['name']));
  },
  async dropIndexes({ entity, args, runner }) {
    await entity.dropIndexes(driverOptions(args, runner));
  },
  async listIndexes({ entity, args, runner }) {
    return toArray(entity.listIndexes(driverOptions(args, runner)));
  },
  async listIndexNames({ entity, args, runner }) {
    return (await toArray(entity.listIndexes(driverOptions(args, runner)))).map((i) => i.name);
  },
  async rename({ entity, args, runner }) {
    await entity.rename(args.to, driverOptions(args, runner, ['to']));
  },
  async createFindCursor({ entity, args, runner }) {
    const cursor = entity.find(args.filter ?? {}, driverOptions(args, runner, ['filter']));
    // Spec: the find command must have run before the cursor is saved.
    await cursor.cursorInit();
    return { entityKind: 'findCursor', value: cursor };
  },
  async createChangeStream({ entity, args, runner }) {
    return createChangeStream(entity, args, runner);
  },
  async watch({ entity, args, runner }) {
    return { entityKind: 'changeStream', value: entity.watch(args.pipeline ?? [], driverOptions(args, runner, ['pipeline'])) };
  },
};

async function createChangeStream(entity, args, runner) {
  const stream = entity.watch(args.pipeline ?? [], driverOptions(args, runner, ['pipeline']));
  // Spec: the aggregate must be executed before the stream is saved, without iterating.
  await stream.cursor.cursorInit();
  return { entityKind: 'changeStream', value: stream };
}

const databaseOps = {
  async aggregate({ entity, args, runner }) {
    return toArray(entity.aggregate(args.pipeline, driverOptions(args, runner, ['pipeline'])));
  },
  async createChangeStream({ entity, args, runner }) {
    return createChangeStream(entity, args, runner);
  },
  async listCollections({ entity, args, runner }) {
    return toArray(entity.listCollections(args.filter ?? {}, driverOptions(args, runner, ['filter'])));
  },
  // For drivers whose listCollections returns a cursor of typed objects; in Node it is
  // the same call, so the same command reaches the server.
  async listCollectionObjects(ctx) {
    return databaseOps.listCollections(ctx);
  },
  async listCollectionNames({ entity, args, runner }) {
    return (await toArray(entity.listCollections(args.filter ?? {}, { ...driverOptions(args, runner, ['filter']), nameOnly: true }))).map((c) => c.name);
  },
  async runCommand({ entity, args, runner }) {
    return entity.command(args.command, driverOptions(args, runner, ['command', 'commandName']));
  },
  async runCursorCommand({ entity, args, runner }) {
    return toArray(entity.runCursorCommand(args.command, driverOptions(args, runner, ['command', 'commandName'])));
  },
  async createCommandCursor({ entity, args, runner }) {
    const cursor = entity.runCursorCommand(args.command, driverOptions(args, runner, ['command', 'commandName']));
    await cursor.cursorInit();
    return { entityKind: 'commandCursor', value: cursor };
  },
  async createCollection({ entity, args, runner }) {
    await entity.createCollection(args.collection, driverOptions(args, runner, ['collection']));
  },
  async dropCollection({ entity, args, runner }) {
    await entity.dropCollection(args.collection, driverOptions(args, runner, ['collection']));
  },
  async modifyCollection({ entity, args, runner }) {
    const { collection, session, ...rest } = args;
    const opts = session ? { session: runner.entities.entry(session, 'session').value } : {};
    return entity.command({ collMod: collection, ...rest }, opts);
  },
  async drop({ entity, args, runner }) {
    await entity.dropDatabase(driverOptions(args, runner));
  },
};

const clientOps = {
  async listDatabases({ entity, args, runner }) {
    const r = await entity.db('admin').admin().listDatabases({ ...driverOptions(args, runner, ['filter']), ...(args.filter ? { filter: args.filter } : {}) });
    return r.databases;
  },
  async listDatabaseObjects(ctx) {
    return clientOps.listDatabases(ctx);
  },
  async listDatabaseNames({ entity, args, runner }) {
    const r = await entity.db('admin').admin().listDatabases({ ...driverOptions(args, runner, ['filter']), nameOnly: true });
    return r.databases.map((d) => d.name);
  },
  async createChangeStream({ entity, args, runner }) {
    return createChangeStream(entity, args, runner);
  },
  async close({ entity }) {
    await entity.close();
  },
  // MongoClient.bulkWrite (server 8.0+; on 7.0 only its client-side validation is testable).
  async clientBulkWrite({ entity, args, runner }) {
    const models = args.models.map((m) => {
      const [name] = Object.keys(m);
      return { name, ...convertArgs(m[name]) };
    });
    return clientBulkResult(await entity.bulkWrite(models, driverOptions(args, runner, ['models'])));
  },
};

function clientBulkResult(r) {
  if (!r) return r;
  const out = {};
  for (const k of ['insertedCount', 'upsertedCount', 'matchedCount', 'modifiedCount', 'deletedCount']) out[k] = r[k];
  for (const k of ['insertResults', 'updateResults', 'deleteResults']) {
    if (r[k]) out[k] = Object.fromEntries([...r[k].entries()].map(([i, v]) => [String(i), { ...v }]));
  }
  return out;
}

const sessionOps = {
  async startTransaction({ entity, args }) {
    const opts = {};
    for (const [k, v] of Object.entries(args)) opts[k] = k === 'readPreference' ? readPreference(v) : plain(v);
    entity.startTransaction(opts);
  },
  async commitTransaction({ entity }) {
    await entity.commitTransaction();
  },
  async abortTransaction({ entity }) {
    await entity.abortTransaction();
  },
  async endSession({ entity }) {
    await entity.endSession();
  },
  async withTransaction({ entity, args, runner }) {
    const { callback, ...rest } = args;
    const opts = {};
    for (const [k, v] of Object.entries(rest)) opts[k] = k === 'readPreference' ? readPreference(v) : plain(v);
    // Callback errors must propagate to withTransaction even when the nested operation
    // expected them, so each nested op rethrows after its own assertions pass.
    await entity.withTransaction(async () => {
      for (const nested of callback) await runner.executeOperation(nested, { propagateErrors: true });
    }, opts);
  },
  async getSnapshotTime({ entity }) {
    return entity.snapshotTime;
  },
};

const cursorOps = {
  async iterateUntilDocumentOrError({ entry }) {
    return iterateUntilDocument(entry);
  },
  async iterateOnce({ entry }) {
    return entry.value.tryNext();
  },
  async close({ entry }) {
    // Spec: errors from closing cursors are suppressed.
    await entry.value.close().catch(() => {});
  },
};

const BY_KIND = {
  collection: collectionOps,
  database: databaseOps,
  client: clientOps,
  session: sessionOps,
  changeStream: cursorOps,
  findCursor: cursorOps,
  commandCursor: cursorOps,
};

// Operations that exist in the spec but are deliberately not implemented here.
const UNIMPLEMENTED = new Set([
  'appendMetadata', 'download', 'downloadByName', 'upload', 'uploadWithId', 'delete',
  'createSearchIndex', 'createSearchIndexes', 'dropSearchIndex', 'listSearchIndexes', 'updateSearchIndex',
  'mapReduce', 'listCollectionObjects', 'listDatabaseObjects', 'createDataKey', 'encrypt', 'decrypt',
]);

// Raised for a malformed operation (missing or unknown argument): a bug in the test or
// the runner, never ignored by ignoreResultAndError or matched by expectError.
class ArgumentError extends Error {}

// Required and optional arguments per operation (CRUD, index management, enumeration
// specs). Operations not listed are not validated.
const COMMON = ['session', 'comment', 'maxTimeMS', 'timeoutMS', 'rawData'];
const WRITE = [...COMMON, 'writeConcern', 'bypassDocumentValidation', 'let'];
const FIND_OPTS = ['allowDiskUse', 'allowPartialResults', 'batchSize', 'collation', 'cursorType', 'hint', 'let', 'limit', 'max',
  'maxAwaitTimeMS', 'min', 'noCursorTimeout', 'projection', 'returnKey', 'showRecordId', 'skip', 'sort', 'timeoutMode',
  'readConcern', 'readPreference'];
const ARGS = {
  aggregate: [['pipeline'], [...COMMON, 'allowDiskUse', 'batchSize', 'bypassDocumentValidation', 'collation', 'hint', 'let', 'maxAwaitTimeMS', 'readConcern', 'readPreference', 'writeConcern']],
  bulkWrite: [['requests'], [...WRITE, 'ordered']],
  clientBulkWrite: [['models'], [...WRITE, 'ordered', 'verboseResults']],
  count: [['filter'], [...COMMON, 'collation', 'hint', 'limit', 'skip', 'readConcern', 'readPreference']],
  countDocuments: [['filter'], [...COMMON, 'collation', 'hint', 'limit', 'skip', 'readConcern', 'readPreference']],
  estimatedDocumentCount: [[], [...COMMON, 'readConcern', 'readPreference']],
  distinct: [['fieldName', 'filter'], [...COMMON, 'collation', 'hint', 'readConcern', 'readPreference']],
  deleteOne: [['filter'], [...WRITE, 'collation', 'hint']],
  deleteMany: [['filter'], [...WRITE, 'collation', 'hint']],
  find: [['filter'], [...COMMON, ...FIND_OPTS]],
  findOne: [['filter'], [...COMMON, ...FIND_OPTS]],
  createFindCursor: [['filter'], [...COMMON, ...FIND_OPTS]],
  findOneAndDelete: [['filter'], [...WRITE, 'collation', 'hint', 'projection', 'sort']],
  findOneAndReplace: [['filter', 'replacement'], [...WRITE, 'collation', 'hint', 'projection', 'returnDocument', 'sort', 'upsert']],
  findOneAndUpdate: [['filter', 'update'], [...WRITE, 'arrayFilters', 'collation', 'hint', 'projection', 'returnDocument', 'sort', 'upsert']],
  insertOne: [['document'], WRITE],
  insertMany: [['documents'], [...WRITE, 'ordered']],
  replaceOne: [['filter', 'replacement'], [...WRITE, 'collation', 'hint', 'sort', 'upsert']],
  updateOne: [['filter', 'update'], [...WRITE, 'arrayFilters', 'collation', 'hint', 'sort', 'upsert']],
  updateMany: [['filter', 'update'], [...WRITE, 'arrayFilters', 'collation', 'hint', 'upsert']],
  createIndex: [['keys'], [...COMMON, 'name', 'unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression', 'hidden', 'collation', 'background', 'commitQuorum']],
  dropIndex: [['name'], COMMON],
  runCommand: [['command', 'commandName'], ['session', 'readPreference']],
  createCollection: [['collection'], [...COMMON, 'viewOn', 'pipeline', 'capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction',
    'changeStreamPreAndPostImages', 'clusteredIndex', 'timeseries', 'expireAfterSeconds', 'encryptedFields', 'collation', 'writeConcern']],
  dropCollection: [['collection'], [...COMMON, 'encryptedFields', 'writeConcern']],
  rename: [['to'], [...COMMON, 'dropTarget']],
};

function validateArgs(name, args) {
  const spec = ARGS[name];
  if (!spec) return;
  const [required, optional] = spec;
  for (const r of required) if (!(r in args)) throw new ArgumentError(`${name}: missing required argument ${r}`);
  for (const k of Object.keys(args)) {
    if (!required.includes(k) && !optional.includes(k)) throw new ArgumentError(`${name}: unsupported argument ${k}`);
  }
}

async function runEntityOperation(op, runner) {
  const entry = runner.entities.entry(op.object);
  const table = BY_KIND[entry.kind];
  const handler = table && Object.prototype.hasOwnProperty.call(table, op.name) ? table[op.name] : null;
  if (!handler) {
    if (UNIMPLEMENTED.has(op.name)) throw new UnsupportedError(`operation ${op.name} is not implemented by this runner`);
    throw new Error(`unsupported operation ${op.name} on ${entry.kind} ${op.object}`);
  }
  const args = convertArgs(op.arguments);
  validateArgs(op.name, args);
  return handler({ entity: entry.value, entry, args, op, runner });
}

module.exports = { runEntityOperation, ITERABLE_RESULTS, bulkResult, ArgumentError, validateArgs };
