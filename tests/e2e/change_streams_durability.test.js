'use strict';
// Change streams across SIGKILL. Each cycle (CS_CYCLES, default 20):
//   1. a consumer opens the stream where the previous cycle ended (resumeAfter the previous
//      cycle's last event; the first cycle uses startAtOperationTime);
//   2. three writers insert (j:true), update and delete (w:1, not waiting for the journal)
//      concurrently; the consumer reads half of what has been acknowledged so far and saves
//      its resume token;
//   3. brookd is SIGKILLed while the writers are still writing, then restarted; the writers
//      write a little more, then a marker is inserted;
//   4. resuming from the saved token must yield exactly the rest of the events up to the
//      marker: together with what the consumer read before the kill, the events are exactly
//      the collection's oplog entries in that range (read from local.oplog.rs, not through
//      the change-stream code), in order. So nothing delivered before the crash was lost
//      (streams only deliver durable events), nothing is missing after the token and
//      nothing is repeated. Every acknowledged j:true insert is among them.
// Every event's token is decoded (mongodb-resumetoken-decoder) and its clusterTime must be
// the event's clusterTime. CS_SEED replays the timing.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient, Timestamp } = require('mongodb');
const { decodeResumeToken } = require('mongodb-resumetoken-decoder');
const { startBrookd } = require('./lib/brookd');

const CYCLES = Number(process.env.CS_CYCLES ?? 20);
const SEED = Number(process.env.CS_SEED ?? Date.now() % 1e9);
const DB = 'cs_durability';
const COLL = 'events';
const NS = `${DB}.${COLL}`;
const WRITERS = 3;

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function connect(uri) {
  return new MongoClient(uri, {
    retryWrites: false,
    retryReads: false,
    serverSelectionTimeoutMS: 500,
    connectTimeoutMS: 2000,
  }).connect();
}

const tsKey = (ts) => BigInt(ts.high >>> 0) * 4294967296n + BigInt(ts.low >>> 0);
const OP_TYPES = { i: 'insert', u: 'update', d: 'delete' };

// What identifies an event, comparable with an oplog entry.
function eventKey(e) {
  return `${tsKey(e.clusterTime)}:${e.operationType}:${JSON.stringify(e.documentKey._id)}`;
}

function oplogKey(entry) {
  const id = entry.op === 'u' ? entry.o2._id : entry.o._id;
  // A replacement and an update are both 'u'; the writers below only use $set updates.
  return `${tsKey(entry.ts)}:${OP_TYPES[entry.op]}:${JSON.stringify(id)}`;
}

function checkToken(e, where) {
  const decoded = decodeResumeToken(e._id._data);
  assert.ok(decoded.timestamp.equals(e.clusterTime),
    `${where}: token clusterTime ${decoded.timestamp} differs from the event's ${e.clusterTime}`);
  assert.equal(decoded.tokenType, 128, `${where}: an event token`);
}

// Writers sharing one id space; each stops at its first error (the kill landed).
function startWriters(coll, rand, state, cycle) {
  let stop = false;
  const loops = [];
  for (let w = 0; w < WRITERS; w++) {
    loops.push((async () => {
      const mine = [];
      while (!stop) {
        const r = rand();
        try {
          if (mine.length > 0 && r < 0.25) {
            const id = mine[Math.floor(rand() * mine.length)];
            await coll.updateOne({ _id: id }, { $set: { v: state.nextValue++ } });
          } else if (mine.length > 2 && r < 0.35) {
            const id = mine.shift();
            await coll.deleteOne({ _id: id });
          } else {
            const id = `${cycle}-${w}-${state.nextId++}`;
            await coll.insertOne({ _id: id, v: state.nextValue++ }, { writeConcern: { w: 1, j: true } });
            mine.push(id);
            state.ackedInserts.add(id);
          }
          state.acked++;
        } catch {
          return;
        }
      }
    })());
  }
  return {
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

// Events from `stream` up to and including the insert of `markerId`.
async function readUntilMarker(stream, markerId, where) {
  const out = [];
  for (;;) {
    const e = await stream.next();
    checkToken(e, where);
    out.push(e);
    if (e.operationType === 'insert' && e.documentKey._id === markerId) return out;
  }
}

test(`a resumed stream yields exactly the rest after ${CYCLES} SIGKILLs (seed ${SEED})`, { timeout: 10 * 60 * 1000 }, async () => {
  const rand = prng(SEED);
  console.log(`cs durability: seed ${SEED}, ${CYCLES} cycles (replay with CS_SEED=${SEED})`);
  const srv = await startBrookd();
  const state = { nextId: 1, nextValue: 1, acked: 0, ackedInserts: new Set() };
  let client = await connect(srv.uri);
  let total = 0;
  try {
    // The chain starts just after a first marker.
    const first = await client.db(DB).collection(COLL).insertOne({ _id: 'marker-0' }, { writeConcern: { j: true } });
    assert.ok(first.acknowledged);
    const [firstEntry] = await client.db('local').collection('oplog.rs').find({ ns: NS, 'o._id': 'marker-0' }).toArray();
    let fromTs = firstEntry.ts;
    let resumeOptions = { startAtOperationTime: new Timestamp({ t: fromTs.high, i: fromTs.low + 1 }) };

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const where = `cycle ${cycle}`;
      const coll = client.db(DB).collection(COLL);
      const stream = coll.watch([], { ...resumeOptions, maxAwaitTimeMS: 100, batchSize: 1 + Math.floor(rand() * 20) });
      const writers = startWriters(coll, rand, state, cycle);
      const ackedAtStart = state.acked;
      const half = 2 + Math.floor(rand() * 30);
      const waitUntil = Date.now() + 20000;
      while (state.acked - ackedAtStart < 2 * half) {
        assert.ok(Date.now() < waitUntil, `${where}: the writers made no progress`);
        await sleep(5);
      }
      const before = [];
      for (let i = 0; i < half; i++) {
        const e = await stream.next();
        checkToken(e, where);
        before.push(e);
      }
      const token = stream.resumeToken;
      await sleep(rand() * 30);
      await srv.kill9();
      await writers.stop();
      await stream.close().catch(() => {});
      await client.close().catch(() => {});

      await srv.restart();
      client = await connect(srv.uri);
      const coll2 = client.db(DB).collection(COLL);
      const resumed = coll2.watch([], { resumeAfter: token, maxAwaitTimeMS: 100 });
      const more = startWriters(coll2, rand, state, `${cycle}r`);
      await sleep(20 + rand() * 60);
      await more.stop();
      const markerId = `marker-${cycle}`;
      await coll2.insertOne({ _id: markerId }, { writeConcern: { j: true } });
      const after = await readUntilMarker(resumed, markerId, where);
      await resumed.close();

      // The truth: the collection's oplog entries after the previous marker, to this one.
      const oplog = (await client.db('local').collection('oplog.rs').find({ ns: NS }).toArray())
        .filter((e) => tsKey(e.ts) > tsKey(fromTs))
        .sort((a, b) => (tsKey(a.ts) < tsKey(b.ts) ? -1 : 1));
      const markerAt = oplog.findIndex((e) => e.op === 'i' && e.o._id === markerId);
      assert.ok(markerAt >= 0, `${where}: the marker is in the oplog`);
      const expected = oplog.slice(0, markerAt + 1).map(oplogKey);
      const beforeKeys = before.map(eventKey);
      const afterKeys = after.map(eventKey);
      assert.deepEqual(beforeKeys, expected.slice(0, before.length),
        `${where}: events delivered before the SIGKILL are the first oplog entries (none lost)`);
      assert.deepEqual(afterKeys, expected.slice(before.length),
        `${where}: resuming yields exactly the rest (${afterKeys.length} vs ${expected.length - before.length})`);
      const seen = new Set(expected.filter((k) => k.includes(':insert:')).map((k) => JSON.parse(k.split(':insert:')[1])));
      for (const id of state.ackedInserts) {
        if (String(id).startsWith(`${cycle}-`) || String(id).startsWith(`${cycle}r-`)) {
          assert.ok(seen.has(id), `${where}: acknowledged j:true insert ${id} has its event`);
        }
      }
      total += before.length + after.length;
      console.log(`cs durability: ${where}: ${before.length} events before SIGKILL, ${after.length} after resuming`);
      fromTs = oplog[markerAt].ts;
      resumeOptions = { resumeAfter: after.at(-1)._id };
    }
    assert.ok(total >= CYCLES * 4, `only ${total} events over ${CYCLES} cycles`);
  } catch (e) {
    e.message += `\n(seed ${SEED}; brookd log tail:\n${srv.logTail(3000)})`;
    throw e;
  } finally {
    await client.close().catch(() => {});
    await srv.stop();
  }
});
