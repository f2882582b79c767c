'use strict';
// Durability under SIGKILL: a writer inserts and updates with { j: true } while brookd is
// killed at random moments (CRASH_CYCLES times, default 20). After every restart:
//   - every acknowledged insert is present, and every acknowledged update's value (or a
//     later one the writer sent but never saw acknowledged) is there;
//   - nothing appears that the writer never sent;
//   - local.oplog.rs holds an entry for every acknowledged write, and their ts order is
//     the order in which the writes were acknowledged (the writer is sequential).
// CRASH_SEED makes the kill timing reproducible; the seed is printed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient } = require('mongodb');
const { startBrookd } = require('./lib/brookd');

const CYCLES = Number(process.env.CRASH_CYCLES ?? 20);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1e9);
const DB = 'crash_e2e';
const COLL = 'docs';
const NS = `${DB}.${COLL}`;

// mulberry32: small deterministic PRNG so a failing seed can be replayed.
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
  // No retries: a write either gets its acknowledgment or an error, nothing in between
  // is re-sent behind our back. Short timeouts: the server is killed on purpose.
  return new MongoClient(uri, {
    retryWrites: false,
    retryReads: false,
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    writeConcern: { w: 1, j: true },
  }).connect();
}

// Every number stored under a field named `v` anywhere in an oplog entry's o, whatever the
// update's shape ($v:2 diff puts it at o.diff.u.v, $set at o.$set.v, a replacement at o.v).
function valuesOfV(o, out = []) {
  if (!o || typeof o !== 'object') return out;
  for (const [k, x] of Object.entries(o)) {
    if (k === 'v' && (typeof x === 'number' || typeof x?.valueOf() === 'number')) out.push(Number(x));
    else if (x && typeof x === 'object' && !x._bsontype) valuesOfV(x, out);
  }
  return out;
}

function tsKey(ts) {
  return BigInt(ts.t) * 4294967296n + BigInt(ts.i);
}

test(`acknowledged j:true writes survive ${CYCLES} SIGKILLs (seed ${SEED})`, { timeout: 15 * 60 * 1000 }, async () => {
  const rand = prng(SEED);
  console.log(`crash: seed ${SEED}, ${CYCLES} cycles (replay with CRASH_SEED=${SEED})`);
  const srv = await startBrookd();
  // State across all cycles.
  const acked = []; // { kind: 'i'|'u', id, value } in acknowledgment order
  const ackedValue = new Map(); // id -> last acknowledged v
  const attemptedIds = new Set(); // every _id ever sent in an insert
  const maxSent = new Map(); // id -> highest v ever sent
  let nextId = 1;
  let nextValue = 1;

  try {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const client = await connect(srv.uri);
      const coll = client.db(DB).collection(COLL);
      let stop = false;
      let writes = 0;
      const writer = (async () => {
        while (!stop) {
          const ids = [...ackedValue.keys()];
          const doUpdate = ids.length > 0 && rand() < 0.4;
          try {
            if (doUpdate) {
              const id = ids[Math.floor(rand() * ids.length)];
              const value = nextValue++;
              maxSent.set(id, value);
              await coll.updateOne({ _id: id }, { $set: { v: value } });
              acked.push({ kind: 'u', id, value });
              ackedValue.set(id, value);
            } else {
              const id = nextId++;
              const value = nextValue++;
              attemptedIds.add(id);
              maxSent.set(id, value);
              await coll.insertOne({ _id: id, v: value, pad: 'x'.repeat(Math.floor(rand() * 200)) });
              acked.push({ kind: 'i', id, value });
              ackedValue.set(id, value);
            }
            writes++;
          } catch {
            return; // the kill landed; everything unacknowledged is now "maybe"
          }
        }
      })();

      await sleep(20 + rand() * 400);
      await srv.kill9();
      stop = true;
      await writer;
      await client.close().catch(() => {});
      console.log(`crash: cycle ${cycle}: ${writes} acknowledged writes before SIGKILL`);
      await srv.restart();
      await verify(srv, { acked, ackedValue, attemptedIds, maxSent, cycle });
    }
    // Kills may land early, but over all cycles the writer must have made progress, or
    // the test proved nothing.
    assert.ok(acked.length >= CYCLES, `only ${acked.length} writes were acknowledged over ${CYCLES} cycles`);
  } catch (e) {
    e.message += `\n(seed ${SEED}; brookd log tail:\n${srv.logTail(3000)})`;
    throw e;
  } finally {
    await srv.stop();
  }
});

async function verify(srv, { acked, ackedValue, attemptedIds, maxSent, cycle }) {
  const client = await connect(srv.uri);
  try {
    const docs = await client.db(DB).collection(COLL).find({}).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    for (const [id, value] of ackedValue) {
      const doc = byId.get(id);
      assert.ok(doc, `cycle ${cycle}: acknowledged insert _id ${id} is missing after restart`);
      // A later update may have been applied but not acknowledged before the kill.
      assert.ok(doc.v >= value && doc.v <= maxSent.get(id), `cycle ${cycle}: _id ${id} has v=${doc.v}, acknowledged ${value}, highest sent ${maxSent.get(id)}`);
    }
    for (const doc of docs) {
      assert.ok(attemptedIds.has(doc._id), `cycle ${cycle}: document _id ${doc._id} was never written by the test`);
    }

    const oplog = await client.db('local').collection('oplog.rs').find({ ns: NS }).toArray();
    const inserts = new Map(); // _id -> entry
    const updates = new Map(); // "_id/v" -> entry
    for (const e of oplog) {
      if (e.op === 'i' && e.o && !inserts.has(e.o._id)) inserts.set(e.o._id, e);
      if (e.op === 'u' && e.o2) for (const v of valuesOfV(e.o)) updates.set(`${e.o2._id}/${v}`, e);
    }
    let prev = -1n;
    let prevDesc = '';
    for (const w of acked) {
      let entry;
      if (w.kind === 'i') {
        entry = inserts.get(w.id);
      } else {
        entry = updates.get(`${w.id}/${w.value}`);
      }
      const desc = `${w.kind === 'i' ? 'insert' : 'update'} _id ${w.id} v=${w.value}`;
      assert.ok(entry, `cycle ${cycle}: no oplog entry in local.oplog.rs for acknowledged ${desc}`);
      assert.ok(entry.ts && entry.ts._bsontype === 'Timestamp', `cycle ${cycle}: oplog entry for ${desc} has no Timestamp ts: ${JSON.stringify(entry)}`);
      const key = tsKey(entry.ts);
      assert.ok(key > prev, `cycle ${cycle}: oplog ts of ${desc} (${entry.ts}) is not after that of ${prevDesc}, yet it was acknowledged later`);
      prev = key;
      prevDesc = desc;
    }
  } finally {
    await client.close();
  }
}
