'use strict';
// The change-streams spec's prose tests (../shared/spec/source/change-streams/tests/
// README.md, "Prose Tests") that apply to a server, through the official Node.js driver
// against one brookd. Numbers follow the README; removed tests (5, 9, 10, 12, 15, 16)
// have nothing to run, and the sharded-only notes do not apply to a replica set.
// Each test watches its own collection so no test sees another's events.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient, Timestamp } = require('mongodb');
const { decodeResumeToken } = require('mongodb-resumetoken-decoder');
const { startBrookd } = require('./lib/brookd');
const { openStream } = require('./lib/streams');

const DB = 'cs_prose';
let srv;
let admin; // an unmonitored client for setup and fail points
let seq = 0;

// A client that records the command events of the change-stream commands.
async function monitored(options = {}) {
  const client = new MongoClient(srv.uri, { monitorCommands: true, ...options });
  const started = [];
  const succeeded = [];
  const watched = new Set(['aggregate', 'getMore', 'killCursors']);
  client.on('commandStarted', (e) => watched.has(e.commandName) && started.push(e));
  client.on('commandSucceeded', (e) => watched.has(e.commandName) && succeeded.push(e));
  await client.connect();
  return { client, started, succeeded, aggregates: () => started.filter((e) => e.commandName === 'aggregate') };
}

// Runs fn(m) with a monitored client, closing it however fn ends.
async function withMonitored(fn, options = {}) {
  const m = await monitored(options);
  try {
    return await fn(m);
  } finally {
    await m.client.close();
  }
}

// The resume token of the event for inserting `doc` into coll.
async function tokenOfInsert(coll, doc) {
  const seed = await openStream(coll);
  await coll.insertOne(doc);
  const token = (await seed.next())._id;
  await seed.close();
  return token;
}

function freshCollection(client) {
  seq += 1;
  return client.db(DB).collection(`c${seq}`);
}

async function failPoint(name, mode, data) {
  await admin.db('admin').command({ configureFailPoint: name, mode, data });
}

async function failPointsOff() {
  for (const name of ['failCommand', 'failGetMoreAfterCursorCheckout']) {
    await admin.db('admin').command({ configureFailPoint: name, mode: 'off' });
  }
}

// The last getMore/aggregate reply's cursor document.
function lastCursorReply(m) {
  const r = m.succeeded.filter((e) => e.commandName === 'aggregate' || e.commandName === 'getMore').at(-1);
  return r.reply.cursor;
}

// Opens a stream and runs its aggregate without iterating (as the unified runner does).
function assertTokenMatchesEvent(change) {
  const decoded = decodeResumeToken(change._id._data);
  assert.ok(decoded.timestamp.equals(change.clusterTime), 'token clusterTime equals the event clusterTime');
}

test.before(async () => {
  srv = await startBrookd();
  admin = await new MongoClient(srv.uri).connect();
});

test.after(async () => {
  await admin?.close();
  await srv?.stop();
});

test.afterEach(async () => {
  await failPointsOff();
});

test('1: the stream tracks the last seen resume token', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll);
  await coll.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
  for (let i = 0; i < 3; i++) {
    const change = await cs.next();
    assertTokenMatchesEvent(change);
    const expected = cs.cursor.bufferedCount() === 0 ? lastCursorReply(m).postBatchResumeToken : change._id;
    assert.deepEqual(cs.resumeToken, expected);
  }
  await cs.close();
}));

test('2: an event without its resume token is a server error (280), not resumed', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll, [{ $project: { _id: 0 } }]);
  await coll.insertOne({ a: 1 });
  await assert.rejects(cs.next(), (err) => {
    assert.equal(err.code, 280);
    assert.ok(err.hasErrorLabel('NonResumableChangeStreamError'));
    return true;
  });
  assert.equal(m.aggregates().length, 1, 'no resume attempt');
  await cs.close();
}));

test('3: one automatic resume on a resumable error, with the initial pipeline and options', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const pipeline = [{ $match: { 'fullDocument.a': { $gte: 0 } } }];
  const cs = await openStream(coll, pipeline, { fullDocument: 'updateLookup', batchSize: 7 });
  await coll.insertOne({ a: 1 });
  assert.equal((await cs.next()).fullDocument.a, 1);
  await failPoint('failGetMoreAfterCursorCheckout', { times: 1 }, { errorCode: 6 });
  await coll.insertOne({ a: 2 });
  assert.equal((await cs.next()).fullDocument.a, 2);
  const [first, second] = m.aggregates().map((e) => e.command);
  assert.ok(second, 'the stream resumed');
  assert.equal(m.aggregates().length, 2, 'exactly one resume');
  const { resumeAfter, ...rest } = second.pipeline[0].$changeStream;
  assert.ok(resumeAfter, 'the resume adds resumeAfter');
  assert.deepEqual(rest, first.pipeline[0].$changeStream);
  assert.deepEqual(second.pipeline.slice(1), first.pipeline.slice(1));
  assert.deepEqual(second.cursor, first.cursor);
  await cs.close();
}));

test('4: no resume on an error of the aggregate itself', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  await failPoint('failCommand', { times: 1 }, {
    failCommands: ['aggregate'], errorCode: 6, errorLabels: ['ResumableChangeStreamError'],
  });
  const cs = coll.watch([], { maxAwaitTimeMS: 200 });
  await assert.rejects(cs.tryNext(), (err) => err.code === 6);
  assert.equal(m.aggregates().length, 1);
  await cs.close();
}, { retryReads: false }));

test('6: the resume selects a server with the initial read preference', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll, [], { readPreference: 'primaryPreferred' });
  await failPoint('failGetMoreAfterCursorCheckout', { times: 1 }, { errorCode: 91 });
  await coll.insertOne({ a: 1 });
  assert.equal((await cs.next()).fullDocument.a, 1);
  const aggs = m.aggregates();
  assert.equal(aggs.length, 2);
  assert.deepEqual(aggs[1].command.$readPreference, aggs[0].command.$readPreference);
  assert.equal(aggs[0].command.$readPreference?.mode, 'primaryPreferred');
  await cs.close();
}));

test('7: an initial empty batch with a cursor id leaves the stream open', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll);
  const reply = lastCursorReply(m);
  assert.equal(reply.firstBatch.length, 0);
  assert.ok(!reply.id.isZero(), 'a live cursor id');
  assert.equal(cs.closed, false);
  await coll.insertOne({ a: 1 });
  assert.equal((await cs.next()).fullDocument.a, 1);
  await cs.close();
}));

test('8: a failing killCursors during the resume does not surface', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll);
  await failPoint('failCommand', { times: 2 }, {
    failCommands: ['getMore', 'killCursors'], errorCode: 6, errorLabels: ['ResumableChangeStreamError'],
  });
  await coll.insertOne({ a: 1 });
  assert.equal((await cs.next()).fullDocument.a, 1);
  assert.equal(m.aggregates().length, 2);
  await cs.close();
}));

test('11: after an empty batch or the last event, the token is the postBatchResumeToken', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll);
  assert.equal(await cs.tryNext(), null);
  const empty = lastCursorReply(m);
  assert.equal(empty.nextBatch.length, 0);
  assert.deepEqual(cs.resumeToken, empty.postBatchResumeToken);
  assert.equal(decodeResumeToken(empty.postBatchResumeToken._data).tokenType, 0, 'a high-water mark');
  await coll.insertMany([{ a: 1 }, { a: 2 }]);
  await cs.next();
  await cs.next();
  assert.equal(cs.cursor.bufferedCount(), 0);
  assert.deepEqual(cs.resumeToken, lastCursorReply(m).postBatchResumeToken);
  // And it keeps moving on empty batches.
  const before = decodeResumeToken(cs.resumeToken._data).timestamp;
  await admin.db(DB).collection('other').insertOne({ unrelated: true });
  assert.equal(await cs.tryNext(), null);
  const after = decodeResumeToken(cs.resumeToken._data).timestamp;
  assert.ok(after.greaterThan(before), 'postBatchResumeToken advances without events');
  await cs.close();
}));

test('13: mid-batch, the token is the _id of the previous event', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const cs = await openStream(coll);
  // The three inserts commit one by one, and a WAL sync between two of them would make
  // the first event deliverable alone; w:majority returns once all three are durable, so
  // the next getMore finds them together, as the test needs.
  await coll.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }], { writeConcern: { w: 'majority' } });
  const first = await cs.next();
  assert.ok(cs.cursor.bufferedCount() > 0, 'the batch holds more events');
  assert.deepEqual(cs.resumeToken, first._id);
  const second = await cs.next();
  assert.ok(cs.cursor.bufferedCount() > 0);
  assert.deepEqual(cs.resumeToken, second._id);
  await cs.close();
}));

test('14: before iterating a non-empty first batch, the token is startAfter, resumeAfter, or none', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const opTime = (await admin.db('admin').command({ ping: 1 })).operationTime;
  const seed = await openStream(coll);
  // Durable before the streams below read them (see test 13).
  await coll.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }], { writeConcern: { w: 'majority' } });
  const token = (await seed.next())._id;
  await seed.close();

  for (const [option, expected] of [['startAfter', token], ['resumeAfter', token]]) {
    const cs = await openStream(coll, [], { [option]: token });
    assert.ok(lastCursorReply(m).firstBatch.length > 0, `${option}: events in the first batch`);
    assert.deepEqual(cs.resumeToken, expected, option);
    await cs.close();
  }
  const cs = await openStream(coll, [], { startAtOperationTime: new Timestamp({ t: opTime.high, i: opTime.low + 1 }) });
  assert.ok(lastCursorReply(m).firstBatch.length > 0, 'startAtOperationTime: events in the first batch');
  assert.equal(cs.resumeToken ?? null, null);
  await cs.close();
}));

test('17: startAfter with no result yet resumes with startAfter', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const token = await tokenOfInsert(coll, { a: 0 });
  const cs = await openStream(coll, [], { startAfter: token });
  await failPoint('failCommand', { times: 1 }, {
    failCommands: ['getMore'], errorCode: 6, errorLabels: ['ResumableChangeStreamError'],
  });
  assert.equal(await cs.tryNext(), null);
  const aggs = m.aggregates().slice(-2).map((e) => e.command.pipeline[0].$changeStream);
  assert.ok(aggs[1].startAfter, 'resumed with startAfter');
  assert.equal(aggs[1].resumeAfter, undefined);
  await cs.close();
}));

test('18: startAfter with a result resumes with resumeAfter', () => withMonitored(async (m) => {
  const coll = freshCollection(m.client);
  const token = await tokenOfInsert(coll, { a: 0 });
  const cs = await openStream(coll, [], { startAfter: token });
  await coll.insertOne({ a: 1 });
  assert.equal((await cs.next()).fullDocument.a, 1);
  await failPoint('failCommand', { times: 1 }, {
    failCommands: ['getMore'], errorCode: 6, errorLabels: ['ResumableChangeStreamError'],
  });
  await coll.insertOne({ a: 2 });
  assert.equal((await cs.next()).fullDocument.a, 2);
  const last = m.aggregates().at(-1).command.pipeline[0].$changeStream;
  assert.ok(last.resumeAfter, 'resumed with resumeAfter');
  assert.equal(last.startAfter, undefined);
  await cs.close();
}));

test('19: large events are split by $changeStreamSplitLargeEvent', () => withMonitored(async (m) => {
  seq += 1;
  const name = `c${seq}`;
  await m.client.db(DB).createCollection(name, { changeStreamPreAndPostImages: { enabled: true } });
  const coll = m.client.db(DB).collection(name);
  await coll.insertOne({ value: 'q'.repeat(10 * 1024 * 1024) });
  const cs = await openStream(coll, [{ $changeStreamSplitLargeEvent: {} }], { fullDocumentBeforeChange: 'required' });
  await coll.updateOne({}, { $set: { value: 'z'.repeat(10 * 1024 * 1024) } });
  const a = await cs.next();
  const b = await cs.next();
  assert.deepEqual(a.splitEvent, { fragment: 1, of: 2 });
  assert.deepEqual(b.splitEvent, { fragment: 2, of: 2 });
  await cs.close();
}));
