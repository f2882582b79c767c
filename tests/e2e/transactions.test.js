'use strict';
// Multi-document transactions end to end, through the official Node.js driver and
// mongosh: withTransaction with a change stream open (one event per operation, in
// statement order, each with lsid and txnNumber, all at the commit's clusterTime, none
// before the commit), resuming from the middle of a transaction's events, concurrent
// money transfers (the total never changes in any snapshot, and replaying the change
// stream rebuilds the final balances), and SIGKILL during commits (a transaction is all
// or nothing, on disk and in the stream, and an acknowledged commit survives).
//
// TXN_TRANSFER_SECONDS sets how long the transfer test runs (default 60 s, the issue's
// run; shorten it when iterating). TXN_CRASH_CYCLES sets the number of kill/restart
// cycles of the crash test (default 3).
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient, Long } = require('mongodb');
const { decodeResumeToken } = require('mongodb-resumetoken-decoder');
const { startBrookd } = require('./lib/brookd');
const { take } = require('./lib/streams');
const { Mongosh, steps, stepHelper } = require('./lib/mongosh');

const TRANSFER_SECONDS = Number(process.env.TXN_TRANSFER_SECONDS || 60);
const CRASH_CYCLES = Number(process.env.TXN_CRASH_CYCLES || 3);

let srv;
let client;

test.before(async () => {
  srv = await startBrookd();
  client = new MongoClient(srv.uri);
  await client.connect();
});

test.after(async () => {
  await client?.close();
  await srv?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sameLsid(eventLsid, session) {
  return Buffer.from(eventLsid.id.buffer).equals(Buffer.from(session.id.id.buffer));
}

test('withTransaction (Node.js driver): events after commit, in statement order, with lsid and txnNumber', async () => {
  const coll = client.db('txn_e2e').collection('order');
  await coll.drop().catch(() => {});
  await coll.insertOne({ _id: 'seed', n: 0 });
  const cs = coll.watch([], { maxAwaitTimeMS: 100 });
  assert.equal(await cs.tryNext(), null);
  const session = client.startSession();
  let seenInside = [];
  try {
    await session.withTransaction(async () => {
      await coll.insertOne({ _id: 1 }, { session });
      await coll.insertOne({ _id: 2 }, { session });
      await coll.updateOne({ _id: 'seed' }, { $inc: { n: 1 } }, { session });
      await coll.deleteOne({ _id: 1 }, { session });
      await coll.insertOne({ _id: 3 }, { session });
      // Nothing of the open transaction reaches the stream, nor other readers.
      seenInside = [await cs.tryNext(), await cs.tryNext()];
      assert.equal(await coll.countDocuments({ _id: { $in: [1, 2, 3] } }), 0);
      assert.equal(await coll.countDocuments({ _id: { $in: [2, 3] } }, { session }), 2, 'own writes');
    });
  } finally {
    await session.endSession();
  }
  assert.deepEqual(seenInside, [null, null], 'no event before the commit');
  const events = await take(cs, 5);
  await cs.close();
  assert.deepEqual(events.map((e) => `${e.operationType}:${e.documentKey._id}`),
    ['insert:1', 'insert:2', 'update:seed', 'delete:1', 'insert:3']);
  const txnNumber = events[0].txnNumber;
  assert.ok(txnNumber instanceof Long || typeof txnNumber === 'number', 'txnNumber present');
  events.forEach((e, i) => {
    assert.ok(e.lsid && sameLsid(e.lsid, session), `event ${i}: the session's lsid`);
    assert.equal(Number(e.txnNumber), Number(txnNumber), `event ${i}: one txnNumber`);
    assert.ok(e.clusterTime.equals(events[0].clusterTime), `event ${i}: the commit's clusterTime`);
    const token = decodeResumeToken(e._id._data);
    assert.equal(token.txnOpIndex, i, `event ${i}: txnOpIndex`);
    assert.ok(token.timestamp.equals(e.clusterTime));
  });
  assert.deepEqual(events[2].updateDescription.updatedFields, { n: 1 });
});

test('resuming from the 2nd of a transaction\'s 5 events continues at the 3rd', async () => {
  const coll = client.db('txn_e2e').collection('resume');
  await coll.drop().catch(() => {});
  await coll.insertOne({ _id: 'before' });
  const cs = coll.watch([], { maxAwaitTimeMS: 100 });
  assert.equal(await cs.tryNext(), null);
  const session = client.startSession();
  try {
    await session.withTransaction(async () => {
      for (let i = 1; i <= 5; i++) await coll.insertOne({ _id: i }, { session });
    });
  } finally {
    await session.endSession();
  }
  await coll.insertOne({ _id: 'after' });
  const all = await take(cs, 6);
  await cs.close();
  assert.deepEqual(all.map((e) => e.documentKey._id), [1, 2, 3, 4, 5, 'after']);

  for (const option of ['resumeAfter', 'startAfter']) {
    const resumed = coll.watch([], { maxAwaitTimeMS: 100, [option]: all[1]._id });
    const rest = await take(resumed, 4);
    await resumed.close();
    assert.deepEqual(rest.map((e) => e.documentKey._id), [3, 4, 5, 'after'], option);
    assert.deepEqual(rest.slice(0, 3).map((e) => e._id._data), all.slice(2, 5).map((e) => e._id._data),
      `${option}: the same tokens as the first delivery`);
  }
});

test('pre-images of a transaction\'s operations: two updates of one document, each with its own', async () => {
  const db = client.db('txn_e2e');
  await db.collection('images').drop().catch(() => {});
  await db.createCollection('images', { changeStreamPreAndPostImages: { enabled: true } });
  const coll = db.collection('images');
  await coll.insertOne({ _id: 1, n: 0 });
  const cs = coll.watch([], { maxAwaitTimeMS: 100, fullDocumentBeforeChange: 'required', fullDocument: 'required' });
  assert.equal(await cs.tryNext(), null);
  const session = client.startSession();
  try {
    await session.withTransaction(async () => {
      await coll.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session });
      await coll.updateOne({ _id: 1 }, { $inc: { n: 10 } }, { session });
      await coll.deleteOne({ _id: 1 }, { session });
    });
  } finally {
    await session.endSession();
  }
  const events = await take(cs, 3).finally(() => cs.close());
  assert.deepEqual(events.map((e) => e.operationType), ['update', 'update', 'delete']);
  assert.deepEqual(events.map((e) => e.fullDocumentBeforeChange), [{ _id: 1, n: 0 }, { _id: 1, n: 1 }, { _id: 1, n: 11 }]);
  assert.deepEqual(events.slice(0, 2).map((e) => e.fullDocument), [{ _id: 1, n: 1 }, { _id: 1, n: 11 }]);
});

test('transactionLifetimeLimitSeconds, killSessions, killAllSessions and endSessions abort open transactions', async () => {
  const admin = client.db('admin');
  const coll = client.db('txn_e2e').collection('ends');
  await coll.drop().catch(() => {});
  await coll.insertOne({ _id: 'seed' });
  // Each transaction is ended by the server, not by the driver: its commit then fails.
  const other = new MongoClient(srv.uri);
  await other.connect();
  const otherAdmin = other.db('admin');
  const begin = async (id) => {
    const session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: id }, { session });
    return session;
  };
  const expectAborted = async (session, why) => {
    await assert.rejects(session.commitTransaction(), (e) => {
      assert.equal(e.code, 251, `${why}: NoSuchTransaction, got ${e.message}`);
      assert.ok(e.errorLabels?.includes('TransientTransactionError'), `${why}: labelled transient`);
      return true;
    });
    await session.endSession();
  };
  try {
    const killed = await begin('killed');
    await otherAdmin.command({ killSessions: [killed.id] });
    await expectAborted(killed, 'killSessions');

    const ended = await begin('ended');
    await otherAdmin.command({ endSessions: [ended.id] });
    await expectAborted(ended, 'endSessions');

    const all = await begin('killedAll');
    await otherAdmin.command({ killAllSessions: [] });
    await expectAborted(all, 'killAllSessions');

    const before = await admin.command({ getParameter: 1, transactionLifetimeLimitSeconds: 1 });
    await admin.command({ setParameter: 1, transactionLifetimeLimitSeconds: 1 });
    try {
      const expired = await begin('expired');
      await sleep(3000);  // the reaper looks once a second
      await expectAborted(expired, 'lifetime limit');
    } finally {
      await admin.command({ setParameter: 1, transactionLifetimeLimitSeconds: before.transactionLifetimeLimitSeconds });
    }
  } finally {
    await other.close();
  }
  // Nothing of them was written, and their keys are free again.
  assert.deepEqual((await coll.find({}).toArray()).map((d) => d._id), ['seed']);
  await coll.insertMany([{ _id: 'killed' }, { _id: 'ended' }, { _id: 'killedAll' }, { _id: 'expired' }]);
});

const MONGOSH_SCRIPT = String.raw`
${stepHelper(false)}
const d = db.getSiblingDB('txn_mongosh');
d.dropDatabase();
d.acct.insertMany([{ _id: 'a', bal: 100 }, { _id: 'b', bal: 0 }]);
const cs = d.acct.watch([], { maxAwaitTimeMS: 100 });
step('before', cs.tryNext());
const session = db.getMongo().startSession();
const sacct = session.getDatabase('txn_mongosh').acct;
let inside = 'unset';
session.withTransaction(() => {
  sacct.updateOne({ _id: 'a' }, { $inc: { bal: -30 } });
  sacct.updateOne({ _id: 'b' }, { $inc: { bal: 30 } });
  sacct.insertOne({ _id: 'log1', amount: 30 });
  inside = cs.tryNext();
});
step('inside', inside);
const events = [];
while (events.length < 3) { const e = cs.tryNext(); if (e) events.push(e); }
step('events', events);
step('lsid', session.id);
step('balances', d.acct.find({}, { bal: 1 }).sort({ _id: 1 }).toArray());
session.endSession();
cs.close();
`;

test('withTransaction in mongosh with a change stream open', async () => {
  const shell = new Mongosh('brook-mongosh-txn-home-');
  const r = await shell.run(srv.uri, MONGOSH_SCRIPT).finally(() => shell.close());
  assert.equal(r.code, 0, `mongosh failed:\n${r.stderr}\n${r.stdout}`);
  const s = steps(r.stdout, { relaxed: false });
  assert.equal(s.before, null);
  assert.equal(s.inside, null, 'no event before the commit');
  assert.deepEqual(s.events.map((e) => `${e.operationType}:${e.documentKey._id}`),
    ['update:a', 'update:b', 'insert:log1']);
  const lsidHex = Buffer.from(s.lsid.id.buffer).toString('hex');
  for (const e of s.events) {
    assert.equal(Buffer.from(e.lsid.id.buffer).toString('hex'), lsidHex, 'the session\'s lsid');
    assert.ok(e.txnNumber !== undefined && Number(e.txnNumber) >= 1, 'txnNumber');
    assert.equal(Number(e.txnNumber), Number(s.events[0].txnNumber));
    assert.ok(e.clusterTime.equals(s.events[0].clusterTime));
  }
  assert.deepEqual(s.balances.map((x) => [x._id, x.bal === undefined ? null : Number(x.bal)]),
    [['a', 70], ['b', 30], ['log1', null]]);
});

test(`concurrent transfers: 4 clients, 100 accounts, ${TRANSFER_SECONDS} s`, async (t) => {
  const ACCOUNTS = 100;
  const START = 1000;
  const db = client.db('txn_transfers');
  await db.dropDatabase();
  const accounts = db.collection('accounts');
  // Opened before the accounts exist, so replaying it rebuilds everything.
  const cs = accounts.watch([], { maxAwaitTimeMS: 200 });
  assert.equal(await cs.tryNext(), null);
  await accounts.insertMany(Array.from({ length: ACCOUNTS }, (_, i) => ({ _id: i, balance: START })));

  const deadline = Date.now() + TRANSFER_SECONDS * 1000;
  const clients = await Promise.all([0, 1, 2, 3].map(() => new MongoClient(srv.uri).connect()));
  let committed = 0;
  let audits = 0;
  const worker = async (c) => {
    const coll = c.db('txn_transfers').collection('accounts');
    while (Date.now() < deadline) {
      const from = Math.floor(Math.random() * ACCOUNTS);
      let to = Math.floor(Math.random() * (ACCOUNTS - 1));
      if (to >= from) to += 1;
      const amount = 1 + Math.floor(Math.random() * 50);
      const session = c.startSession();
      try {
        let moved = false;
        await session.withTransaction(async () => {
          moved = false;
          const src = await coll.findOne({ _id: from }, { session });
          if (src.balance < amount) return;
          await coll.updateOne({ _id: from }, { $inc: { balance: -amount } }, { session });
          await coll.updateOne({ _id: to }, { $inc: { balance: amount } }, { session });
          moved = true;
        }, { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } });
        if (moved) committed += 1;
      } finally {
        await session.endSession();
      }
    }
  };
  const auditor = async () => {
    const coll = client.db('txn_transfers').collection('accounts');
    while (Date.now() < deadline) {
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          const all = await coll.find({}, { session }).toArray();
          assert.equal(all.length, ACCOUNTS);
          const total = all.reduce((s, a) => s + a.balance, 0);
          assert.equal(total, ACCOUNTS * START, 'the total is constant in every snapshot');
        }, { readConcern: { level: 'snapshot' } });
        audits += 1;
      } finally {
        await session.endSession();
      }
      await sleep(20);
    }
  };
  await Promise.all([...clients.map(worker), auditor()]);
  await Promise.all(clients.map((c) => c.close()));
  assert.ok(committed > 0 && audits > 0, `committed ${committed}, audits ${audits}`);
  t.diagnostic(`${committed} transfers committed, ${audits} snapshot audits`);

  const final = new Map((await accounts.find({}).toArray()).map((a) => [a._id, a.balance]));
  assert.equal([...final.values()].reduce((s, b) => s + b, 0), ACCOUNTS * START);

  // Replay the stream up to a sentinel written after every transfer.
  await accounts.insertOne({ _id: 'end' });
  const replay = new Map();
  const txnsSeen = new Set();
  let open = null;  // the transaction whose events are being delivered
  const limit = Date.now() + 60000;
  for (;;) {
    assert.ok(Date.now() < limit, 'replay timed out');
    const ev = await cs.tryNext();
    if (!ev) continue;
    if (ev.documentKey._id === 'end') break;
    if (ev.operationType === 'insert') {
      replay.set(ev.documentKey._id, ev.fullDocument.balance);
    } else {
      assert.equal(ev.operationType, 'update');
      assert.ok(ev.lsid && ev.txnNumber !== undefined, 'a transfer event carries lsid and txnNumber');
      const key = `${Buffer.from(ev.lsid.id.buffer).toString('hex')}:${ev.txnNumber}`;
      if (key !== open) {
        assert.ok(!txnsSeen.has(key), 'a transaction\'s events are delivered together');
        txnsSeen.add(key);
        open = key;
      }
      replay.set(ev.documentKey._id, ev.updateDescription.updatedFields.balance);
    }
  }
  await cs.close();
  assert.equal(txnsSeen.size, committed, 'one event group per committed transfer');
  assert.deepEqual([...replay.entries()].sort((a, b) => a[0] - b[0]), [...final.entries()].sort((a, b) => a[0] - b[0]));
});

test(`SIGKILL during commits: no partial transaction, on disk or in the stream (${CRASH_CYCLES} cycles)`, async () => {
  const crashSrv = await startBrookd();
  const OPS = 5;
  const acked = new Set();
  let startTime;
  try {
    for (let cycle = 0; cycle < CRASH_CYCLES; cycle++) {
      const c = new MongoClient(crashSrv.uri, { serverSelectionTimeoutMS: 3000, retryWrites: false });
      await c.connect();
      const coll = c.db('txn_crash').collection('docs');
      if (cycle === 0) startTime = (await c.db('admin').command({ ping: 1 })).operationTime;
      let stop = false;
      const writer = async (w) => {
        for (let i = 0; !stop; i++) {
          const txn = `${cycle}-${w}-${i}`;
          const session = c.startSession();
          try {
            session.startTransaction({ writeConcern: { w: 'majority' } });
            for (let k = 0; k < OPS; k++) await coll.insertOne({ _id: `${txn}-${k}`, txn }, { session });
            await session.commitTransaction();
            acked.add(txn);
          } catch (e) {
            return;  // the server is gone: this transaction's outcome is unknown
          } finally {
            session.endSession().catch(() => {});
          }
        }
      };
      const writers = [0, 1, 2].map(writer);
      await sleep(300 + Math.floor(Math.random() * 700));
      await crashSrv.kill9();
      stop = true;
      await Promise.all(writers);
      await c.close(true).catch(() => {});
      await crashSrv.restart();

      const check = new MongoClient(crashSrv.uri);
      await check.connect();
      try {
        const docs = await check.db('txn_crash').collection('docs').find({}).toArray();
        const perTxn = new Map();
        for (const d of docs) perTxn.set(d.txn, (perTxn.get(d.txn) || 0) + 1);
        for (const [txn, n] of perTxn) assert.equal(n, OPS, `cycle ${cycle}: transaction ${txn} is partial on disk`);
        for (const txn of acked) assert.ok(perTxn.has(txn), `cycle ${cycle}: acknowledged ${txn} was lost`);
      } finally {
        await check.close();
      }
    }

    // The whole history through one stream: every transaction's events come together.
    const c = new MongoClient(crashSrv.uri);
    await c.connect();
    try {
      const coll = c.db('txn_crash').collection('docs');
      const cs = coll.watch([], { startAtOperationTime: startTime, maxAwaitTimeMS: 200 });
      await coll.insertOne({ _id: 'end', txn: 'end' });
      const counts = new Map();
      let open = null;
      const limit = Date.now() + 60000;
      for (;;) {
        assert.ok(Date.now() < limit, 'stream replay timed out');
        const ev = await cs.tryNext();
        if (!ev) continue;
        if (ev.documentKey._id === 'end') break;
        const txn = ev.fullDocument.txn;
        if (txn !== open) {
          assert.ok(!counts.has(txn), `transaction ${txn} delivered in pieces`);
          open = txn;
        }
        counts.set(txn, (counts.get(txn) || 0) + 1);
      }
      await cs.close();
      for (const [txn, n] of counts) assert.equal(n, OPS, `transaction ${txn} delivered partially`);
      for (const txn of acked) assert.ok(counts.has(txn), `acknowledged ${txn} missing from the stream`);
      assert.ok(acked.size > 0, 'some transactions committed');
    } finally {
      await c.close();
    }
  } finally {
    await crashSrv.stop();
  }
});
