'use strict';
// Many change streams at once through the official Node.js driver: the shared tailer
// (docs/change-streams.md, "Many streams") routes each event only to the streams whose
// leading $match may accept it, so these check that routing never changes what a
// stream sees: every stream gets exactly its events in order, a stream that is never
// woken still moves its resume token, a stream that stops reading past its queue's
// bound loses nothing, a filtered resume still finds its resume point, and a committed
// transaction (one applyOps entry, several events) reaches each stream as its events.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient } = require('mongodb');
const { startBrookd } = require('./lib/brookd');
const { openStream, take } = require('./lib/streams');

let srv;
let client;
let seq = 0;

function freshColl() {
  seq += 1;
  return client.db('cs_many').collection(`c${seq}`);
}

test.before(async () => {
  srv = await startBrookd();
  // Each waiting getMore holds a connection.
  client = await new MongoClient(srv.uri, { maxPoolSize: 300 }).connect();
});

test.after(async () => {
  await client?.close();
  await srv?.stop();
});

test('many streams, each with its own $match, each get exactly their events in order', async () => {
  const coll = freshColl();
  await coll.insertOne({ _id: 'seed' });
  const n = 40;
  const byField = [];
  for (let i = 0; i < n; i += 1) byField.push(await openStream(coll, [{ $match: { 'fullDocument.k': i } }]));
  const deletes = await openStream(coll, [{ $match: { operationType: { $in: ['delete'] } } }]);
  const byId = await openStream(coll, [{ $match: { 'documentKey._id': { $in: [3, 77] } } }]);
  const everything = await openStream(coll);
  const streams = [...byField, deletes, byId, everything];
  try {
    const docs = [];
    for (let id = 0; id < 200; id += 1) docs.push({ _id: id, k: id % n });
    await coll.insertMany(docs);
    await coll.deleteOne({ _id: 3 });
    await coll.updateOne({ _id: 77 }, { $set: { k: -1 } });

    const got = await Promise.all([
      ...byField.map((cs) => take(cs, 200 / n)),
      take(deletes, 1),
      take(byId, 4),
      take(everything, 202),
    ]);
    for (let i = 0; i < n; i += 1) {
      assert.deepEqual(got[i].map((e) => e.documentKey._id), [0, 1, 2, 3, 4].map((j) => i + j * n), `stream ${i}`);
    }
    assert.deepEqual(got[n].map((e) => [e.operationType, e.documentKey._id]), [['delete', 3]]);
    assert.deepEqual(got[n + 1].map((e) => [e.operationType, e.documentKey._id]),
      [['insert', 3], ['insert', 77], ['delete', 3], ['update', 77]]);
    assert.equal(got[n + 2].length, 202);
    // Nothing more for anyone: the update of 77 (fullDocument absent) matched no k.
    for (const cs of byField) assert.equal(await cs.tryNext(), null);
  } finally {
    await Promise.all(streams.map((cs) => cs.close()));
  }
});

test('a stream no event is routed to still moves its resume token forward', async () => {
  const coll = freshColl();
  await coll.insertOne({ _id: 'seed' });
  const idle = await openStream(coll, [{ $match: { 'fullDocument.k': 'never' } }]);
  try {
    assert.equal(await idle.tryNext(), null);
    const before = idle.resumeToken._data;
    await coll.insertMany([{ _id: 1, k: 1 }, { _id: 2, k: 2 }], { writeConcern: { w: 'majority' } });
    let after = before;
    const deadline = Date.now() + 10000;
    while (after <= before) {
      assert.ok(Date.now() < deadline, 'the resume token did not move');
      assert.equal(await idle.tryNext(), null);
      after = idle.resumeToken._data;
    }
    assert.ok(after > before);
  } finally {
    await idle.close();
  }
});

test('a stream that stops reading loses nothing when it comes back (its queue overflowed)', async () => {
  const coll = freshColl();
  await coll.insertOne({ _id: 'seed' });
  const slow = await openStream(coll, [{ $match: { 'fullDocument.k': 1 } }]);
  try {
    assert.equal(await slow.tryNext(), null);  // at the head, waiting
    const docs = [];
    for (let id = 0; id < 1500; id += 1) docs.push({ _id: id, k: id % 2 });
    await coll.insertMany(docs);  // 750 for this stream: beyond the tailer's 512 queue
    const got = await take(slow, 750);
    assert.deepEqual(got.map((e) => e.documentKey._id), docs.filter((d) => d.k === 1).map((d) => d._id));
  } finally {
    await slow.close();
  }
});

test('resuming with a filter the resumed-from event does not pass still finds the resume point', async () => {
  const coll = freshColl();
  await coll.insertOne({ _id: 'seed' });
  const all = await openStream(coll);
  let resumed;
  try {
    await coll.insertMany([{ _id: 1, k: 1 }, { _id: 2, k: 2 }]);
    const [first] = await take(all, 2);
    resumed = await openStream(coll, [{ $match: { 'fullDocument.k': 3 } }], { resumeAfter: first._id });
    assert.equal(await resumed.tryNext(), null);
    await coll.insertOne({ _id: 3, k: 3 });
    const [ev] = await take(resumed, 1);
    assert.equal(ev.documentKey._id, 3);
  } finally {
    await all.close();
    await resumed?.close();
  }
});

test('a transaction is routed event by event: each stream gets the operations it matches', async () => {
  const coll = freshColl();
  await coll.insertOne({ _id: 'seed' });
  const ones = await openStream(coll, [{ $match: { 'fullDocument.k': 1 } }]);
  const deletes = await openStream(coll, [{ $match: { operationType: 'delete' } }]);
  const all = await openStream(coll);
  const session = client.startSession();
  let resumed;
  try {
    await session.withTransaction(async () => {
      await coll.insertOne({ _id: 'a', k: 0 }, { session });
      await coll.insertOne({ _id: 'b', k: 1 }, { session });
      await coll.deleteOne({ _id: 'seed' }, { session });
      await coll.insertOne({ _id: 'c', k: 1 }, { session });
    });
    const [one1, one2] = await take(ones, 2);
    assert.deepEqual([one1.documentKey._id, one2.documentKey._id], ['b', 'c']);
    assert.ok(one1.lsid && one1.txnNumber !== undefined, 'transaction events carry lsid and txnNumber');
    const [del] = await take(deletes, 1);
    assert.equal(del.documentKey._id, 'seed');
    const every = await take(all, 4);
    assert.deepEqual(every.map((e) => e.documentKey._id), ['a', 'b', 'seed', 'c']);
    // Resuming from the middle of the transaction with a filter continues after it.
    resumed = await openStream(coll, [{ $match: { 'fullDocument.k': 1 } }], { resumeAfter: every[1]._id });
    const [next] = await take(resumed, 1);
    assert.equal(next.documentKey._id, 'c');
    assert.equal(await ones.tryNext(), null);
  } finally {
    await session.endSession();
    await Promise.all([ones.close(), deletes.close(), all.close(), resumed?.close()]);
  }
});
