'use strict';
// Change-stream behaviours beyond the spec's prose tests, through the official Node.js
// driver: view DDL events (create/modify/drop of a view with showExpandedEvents), pre-image
// retention (setClusterParameter changeStreamOptions, expiry, restart), $redact after
// $changeStream, and how a waiting (awaitData) getMore ends when its cursor is killed or
// the server shuts down.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient, Long } = require('mongodb');
const { startBrookd } = require('./lib/brookd');
const { openStream, take } = require('./lib/streams');

const DB = 'cs_extra';
let srv;
let client;
let seq = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freshDb() {
  seq += 1;
  return client.db(`${DB}_${seq}`);
}

test.before(async () => {
  srv = await startBrookd();
  client = await new MongoClient(srv.uri).connect();
});

test.after(async () => {
  await client?.close();
  await srv?.stop();
});

// ---- 1. View DDL events ---------------------------------------------------------------

test('views: create, modify and drop are reported with showExpandedEvents, in MongoDB 7.0 shape', async () => {
  const db = freshDb();
  await db.createCollection('base');
  const expanded = await openStream(db, [], { showExpandedEvents: true });
  const classic = await openStream(db);
  const cluster = await openStream(client, [{ $match: { 'ns.db': db.databaseName } }], { showExpandedEvents: true });
  try {
    await db.createCollection('v', { viewOn: 'base', pipeline: [{ $match: { x: 1 } }] });
    await db.command({ collMod: 'v', viewOn: 'base', pipeline: [{ $project: { x: 1 } }] });
    await db.collection('v').drop();
    await db.collection('base').insertOne({ _id: 1 });

    const events = await take(expanded, 4);
    assert.deepEqual(events.map((e) => e.operationType), ['create', 'modify', 'drop', 'insert']);
    const [create, modify, drop] = events;
    assert.deepEqual(Object.keys(create), ['_id', 'operationType', 'clusterTime', 'wallTime', 'ns', 'operationDescription']);
    assert.deepEqual(create.ns, { db: db.databaseName, coll: 'v' });
    assert.deepEqual(create.operationDescription, { viewOn: 'base', pipeline: [{ $match: { x: 1 } }] });
    assert.deepEqual(Object.keys(modify), ['_id', 'operationType', 'clusterTime', 'wallTime', 'ns', 'operationDescription']);
    assert.deepEqual(modify.operationDescription, { viewOn: 'base', pipeline: [{ $project: { x: 1 } }] });
    assert.deepEqual(Object.keys(drop), ['_id', 'operationType', 'clusterTime', 'wallTime', 'ns']);
    assert.deepEqual(drop.ns, { db: db.databaseName, coll: 'v' });

    // The cluster-wide stream sees the same three; the classic stream only the insert.
    const all = await take(cluster, 4);
    assert.deepEqual(all.map((e) => e.operationType), ['create', 'modify', 'drop', 'insert']);
    const plain = await take(classic, 1);
    assert.equal(plain[0].operationType, 'insert');

    // Resuming after the view's create delivers the rest.
    const resumed = await openStream(db, [], { showExpandedEvents: true, resumeAfter: create._id });
    try {
      const rest = await take(resumed, 3);
      assert.deepEqual(rest.map((e) => e.operationType), ['modify', 'drop', 'insert']);
    } finally {
      await resumed.close();
    }
  } finally {
    await expanded.close();
    await classic.close();
    await cluster.close();
  }
});

// ---- 2. Pre-image retention -----------------------------------------------------------

test('getClusterParameter / setClusterParameter changeStreamOptions: shapes and errors', async () => {
  const admin = client.db('admin');
  const initial = await admin.command({ getClusterParameter: 'changeStreamOptions' });
  assert.equal(initial.clusterParameters.length, 1);
  assert.equal(initial.clusterParameters[0]._id, 'changeStreamOptions');
  assert.deepEqual(initial.clusterParameters[0].preAndPostImages, { expireAfterSeconds: 'off' });

  for (const bad of [{}, { preAndPostImages: {} }, { preAndPostImages: { expireAfterSeconds: 'unknown' } },
    { preAndPostImages: { expireAfterSeconds: -1 } }, { preAndPostImages: { expireAfterSeconds: 0 } }]) {
    await assert.rejects(admin.command({ setClusterParameter: { changeStreamOptions: bad } }),
      (e) => e.code === 2 && e.codeName === 'BadValue', JSON.stringify(bad));
  }
  await assert.rejects(client.db('test').command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: 10 } } } }),
    (e) => e.code === 13 && e.codeName === 'Unauthorized');
  await assert.rejects(client.db('test').command({ getClusterParameter: 'changeStreamOptions' }),
    (e) => e.code === 13);
  await assert.rejects(admin.command({ getClusterParameter: 'noSuchParameter' }), (e) => e.code === 4);
  await assert.rejects(admin.command({ getClusterParameter: [] }), (e) => e.code === 2);

  await admin.command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: Long.fromNumber(10) } } } });
  const set = await admin.command({ getClusterParameter: ['changeStreamOptions'] }, { promoteLongs: false });
  assert.ok(Long.isLong(set.clusterParameters[0].preAndPostImages.expireAfterSeconds));
  assert.equal(set.clusterParameters[0].preAndPostImages.expireAfterSeconds.toNumber(), 10);
  assert.ok(set.clusterParameters[0].clusterParameterTime.t > 0);

  await admin.command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: 'off' } } } });
  const off = await admin.command({ getClusterParameter: '*' });
  assert.deepEqual(off.clusterParameters[0].preAndPostImages, { expireAfterSeconds: 'off' });
});

test('pre-images expire after expireAfterSeconds; streams then see 47 (required) or null (whenAvailable)', async () => {
  const admin = client.db('admin');
  const db = freshDb();
  const coll = await db.createCollection('images', { changeStreamPreAndPostImages: { enabled: true } });
  await coll.insertOne({ _id: 1, v: 'first' });
  const start = (await db.command({ ping: 1 })).operationTime;
  await coll.updateOne({ _id: 1 }, { $set: { v: 'second' } });
  const onlyUpdates = [{ $match: { operationType: 'update' } }];

  // Before expiry both modes see the pre-image.
  const before = await openStream(coll, onlyUpdates, { startAtOperationTime: start, fullDocumentBeforeChange: 'required' });
  const [seen] = await take(before, 1);
  assert.deepEqual(seen.fullDocumentBeforeChange, { _id: 1, v: 'first' });
  await before.close();

  await admin.command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: 1 } } } });
  try {
    // The remover runs every few seconds; wait until the required stream fails.
    let err;
    const deadline = Date.now() + 20000;
    while (!err && Date.now() < deadline) {
      // The error may come with the aggregate's first batch or with a getMore.
      let cs;
      try {
        cs = await openStream(coll, onlyUpdates, { startAtOperationTime: start, fullDocumentBeforeChange: 'required' });
        await take(cs, 1, 3000);
      } catch (e) {
        if (e.code === 47) err = e;
        else if (!/timed out/.test(e.message)) throw e;
      } finally {
        await cs?.close();
      }
      if (!err) await sleep(500);
    }
    assert.ok(err, 'the pre-image was removed within 20 s');
    assert.equal(err.codeName, 'NoMatchingDocument');
    assert.match(err.message, /^Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event/);

    const available = await openStream(coll, onlyUpdates, { startAtOperationTime: start, fullDocumentBeforeChange: 'whenAvailable' });
    try {
      const [ev] = await take(available, 1);
      assert.equal(ev.operationType, 'update');
      assert.equal(ev.fullDocumentBeforeChange, null);
    } finally {
      await available.close();
    }
  } finally {
    await admin.command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: 'off' } } } });
  }
});

test('changeStreamOptions survives a restart', async () => {
  const admin = client.db('admin');
  await admin.command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: 3600 } } } });
  await client.close();
  await srv.restart();
  client = await new MongoClient(srv.uri).connect();
  const got = await client.db('admin').command({ getClusterParameter: 'changeStreamOptions' });
  assert.equal(Number(got.clusterParameters[0].preAndPostImages.expireAfterSeconds), 3600);
  await client.db('admin').command({ setClusterParameter: { changeStreamOptions: { preAndPostImages: { expireAfterSeconds: 'off' } } } });
});

// ---- 3. $redact ------------------------------------------------------------------------

test('$redact after $changeStream prunes events and embedded documents', async () => {
  const coll = freshDb().collection('redact');
  const cs = await openStream(coll, [{
    $redact: {
      $cond: {
        if: { $eq: ['$level', 'secret'] },
        then: '$$PRUNE',
        else: '$$DESCEND',
      },
    },
  }]);
  try {
    await coll.insertOne({ _id: 1, open: { a: 1 }, hidden: { level: 'secret', b: 2 }, list: [{ level: 'secret' }, { c: 3 }] });
    await coll.insertOne({ _id: 2, level: 'secret' }); // the fullDocument goes, the event stays
    const events = await take(cs, 2);
    assert.deepEqual(events[0].fullDocument, { _id: 1, open: { a: 1 }, list: [{ c: 3 }] });
    assert.equal(events[1].fullDocument, undefined);
    assert.deepEqual(events[1].documentKey, { _id: 2 });

    const keepOnly = await openStream(coll, [{ $redact: { $cond: [{ $eq: ['$operationType', 'delete'] }, '$$KEEP', '$$PRUNE'] } }]);
    try {
      await coll.insertOne({ _id: 3 });
      await coll.deleteOne({ _id: 3 });
      const [only] = await take(keepOnly, 1);
      assert.equal(only.operationType, 'delete');
    } finally {
      await keepOnly.close();
    }
  } finally {
    await cs.close();
  }
});

// ---- 4. Waiting getMores: killCursors and shutdown ------------------------------------

async function openRawStream(c, dbName, collName) {
  const db = c.db(dbName);
  await db.createCollection(collName).catch(() => {});
  const reply = await db.command({ aggregate: collName, pipeline: [{ $changeStream: {} }], cursor: {} });
  return reply.cursor.id;
}

test('killCursors ends a waiting getMore with CursorKilled', async () => {
  const dbName = `${DB}_kill`;
  const id = await openRawStream(client, dbName, 'k');
  const other = await new MongoClient(srv.uri).connect();
  try {
    const started = Date.now();
    // Settled into a value at once: the rejection may come before the assertion below.
    const waiting = client.db(dbName).command({ getMore: id, collection: 'k', maxTimeMS: 20000 })
      .then(() => null, (e) => e);
    await sleep(300); // let the getMore reach its wait
    const killed = await other.db(dbName).command({ killCursors: 'k', cursors: [id] });
    assert.equal(killed.cursorsKilled.length, 1);
    const err = await waiting;
    assert.ok(err, 'the getMore failed');
    assert.equal(err.code, 237);
    assert.equal(err.codeName, 'CursorKilled');
    assert.ok(!err.hasErrorLabel('ResumableChangeStreamError'), 'a killed stream is not resumed');
    assert.ok(Date.now() - started < 5000, 'the getMore ended at the kill, not at maxTimeMS');
    // The cursor is gone.
    await assert.rejects(client.db(dbName).command({ getMore: id, collection: 'k' }), (e) => e.code === 43);
  } finally {
    await other.close();
  }
});

test('a waiting getMore gets InterruptedAtShutdown when the server stops', async () => {
  const own = await startBrookd();
  const c = await new MongoClient(own.directUri, { serverSelectionTimeoutMS: 2000 }).connect();
  try {
    const id = await openRawStream(c, `${DB}_shutdown`, 's');
    const started = Date.now();
    const waiting = c.db(`${DB}_shutdown`).command({ getMore: id, collection: 's', maxTimeMS: 30000 })
      .then(() => null, (e) => e);
    await sleep(300);
    const stopping = own.stop();
    const err = await waiting;
    assert.ok(err, 'the getMore failed');
    assert.equal(err.code, 11600);
    assert.equal(err.codeName, 'InterruptedAtShutdown');
    // Resumable, as MongoDB labels it on a change stream's getMore.
    assert.ok(err.hasErrorLabel('ResumableChangeStreamError'), JSON.stringify(err.errorResponse));
    assert.ok(Date.now() - started < 10000, 'answered at shutdown, not at maxTimeMS');
    await stopping;
  } finally {
    await c.close().catch(() => {});
    await own.stop().catch(() => {});
  }
});
