'use strict';
// Records real driver traffic as fuzz seeds: starts a brookd (--auth, BROOKD or
// build/bin/brookd), puts a TCP proxy in front of it, runs the Node driver through a
// representative session (handshake, both SCRAM mechanisms, zlib compression, CRUD,
// aggregation, a change stream with getMore and resume), and writes what crossed the
// proxy into OUTDIR/<target>/rec-*:
//   wire_frame_fuzz     every client frame, as sent;
//   command_parse_fuzz  and bson_validate_fuzz: each uncompressed command body;
//   scram_fuzz          each saslStart/saslContinue pair (proofs are for the recorded
//                       server nonce, so they fail in the target, which is fine: the
//                       message shapes are the driver's);
//   resume_token_fuzz   every resume token the server handed back.
// Usage: node fuzz/record_traffic.js OUTDIR. Used by scripts/fuzz.sh when a brookd exists.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const E2E = path.join(__dirname, '..', 'tests', 'e2e');
const { MongoClient } = require(path.join(E2E, 'node_modules', 'mongodb'));
const { BSON } = require(path.join(E2E, 'node_modules', 'mongodb'));
const { startBrookd } = require(path.join(E2E, 'lib', 'brookd'));

const OP_QUERY = 2004;
const OP_MSG = 2013;
const out = process.argv[2];
if (!out) {
  console.error('usage: node fuzz/record_traffic.js OUTDIR');
  process.exit(2);
}
const counts = {};
function save(target, bytes) {
  const dir = path.join(out, target);
  fs.mkdirSync(dir, { recursive: true });
  counts[target] = (counts[target] || 0) + 1;
  fs.writeFileSync(path.join(dir, `rec-${String(counts[target]).padStart(4, '0')}`), bytes);
}

// Splits a byte stream into frames by their length prefix; calls onFrame for each.
function framer(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const len = buf.readInt32LE(0);
      if (len < 16 || buf.length < len) break;
      onFrame(buf.subarray(0, len));
      buf = buf.subarray(len);
    }
  };
}

// The command document of an uncompressed OP_MSG (section 0) or OP_QUERY (the legacy
// handshake, which carries hello and speculative authentication), or null.
function commandBody(frame) {
  const op = frame.readInt32LE(12);
  let at;
  if (op === OP_MSG && frame[20] === 0) {
    at = 21;
  } else if (op === OP_QUERY) {
    at = frame.indexOf(0, 20) + 1 + 8;  // flags, ns cstring, numberToSkip, numberToReturn
  } else {
    return null;
  }
  return frame.subarray(at, at + frame.readInt32LE(at));
}

function collectTokens(value, found) {
  if (value === null || typeof value !== 'object') return;
  if (typeof value._data === 'string') found.add(value._data);
  for (const v of Object.values(value)) collectTokens(v, found);
}

async function main() {
  const srv = await startBrookd({ args: ['--auth'] });
  const tokens = new Set();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(srv.port, '127.0.0.1');
    let pendingFirst = null;  // the client-first message of a conversation in progress
    client.on('data', framer((frame) => {
      save('wire_frame_fuzz', frame);
      const body = commandBody(frame);
      if (!body) return;
      save('command_parse_fuzz', body);
      save('bson_validate_fuzz', body);
      const doc = BSON.deserialize(body, { promoteBuffers: true });
      // The first SCRAM message comes in saslStart, or speculatively inside hello.
      const start = doc.saslStart ? doc : doc.speculativeAuthenticate;
      if (start && start.saslStart && start.payload) {
        pendingFirst = { mech: start.mechanism === 'SCRAM-SHA-1' ? 1 : 0, payload: Buffer.from(start.payload) };
      } else if (doc.saslContinue && pendingFirst && doc.payload.length) {
        save('scram_fuzz', Buffer.concat([Buffer.from([pendingFirst.mech]), pendingFirst.payload,
          Buffer.from([0]), Buffer.from(doc.payload)]));
        pendingFirst = null;
      }
    }));
    upstream.on('data', framer((frame) => {
      const body = commandBody(frame);
      if (body) collectTokens(BSON.deserialize(body), tokens);
    }));
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const base = `mongodb://127.0.0.1:${proxy.address().port}/?directConnection=true&serverSelectionTimeoutMS=5000`;
  const clients = [];
  const connect = async (cred, extra = '') => {
    const c = new MongoClient(base.replace('mongodb://', `mongodb://${cred}`) + extra);
    clients.push(c);
    await c.connect();
    return c;
  };
  try {
    const anon = await connect('');
    await anon.db('admin').command({ createUser: 'rec', pwd: 'recpw', roles: ['root'] });
    await connect('rec:recpw@', '&authMechanism=SCRAM-SHA-1');
    const c = await connect('rec:recpw@', '&authMechanism=SCRAM-SHA-256&compressors=zlib');
    const plain = await connect('rec:recpw@');
    const coll = plain.db('shop').collection('orders');
    await coll.insertMany([{ _id: 1, item: 'a', qty: 5, tags: ['x', 'y'], d: new Date(0) },
      { _id: 2, item: 'b', qty: 1, sizes: [{ s: 'M', n: 2 }] }, { _id: 3, item: 'c' }]);
    await coll.find({ qty: { $gte: 1 }, item: { $in: ['a', 'b'] } }).sort({ qty: -1 })
      .project({ item: 1, tags: { $slice: 1 } }).limit(5).toArray();
    await coll.find({ $or: [{ 'sizes.s': 'M' }, { tags: { $elemMatch: { $eq: 'x' } } }] }).batchSize(1).toArray();
    await coll.updateOne({ _id: 1 }, { $set: { qty: 6 }, $push: { tags: { $each: ['z'], $slice: -3 } } });
    await coll.updateMany({ 'sizes.s': 'M' }, { $inc: { 'sizes.$[e].n': 1 } }, { arrayFilters: [{ 'e.s': 'M' }] });
    await coll.updateOne({ _id: 9 }, [{ $set: { made: { $concat: ['up', 'sert'] } } }], { upsert: true });
    await coll.replaceOne({ _id: 3 }, { item: 'c2' });
    await coll.findOneAndUpdate({ _id: 2 }, { $unset: { sizes: '' } }, { returnDocument: 'after' });
    await coll.aggregate([{ $match: { qty: { $gt: 0 } } }, { $group: { _id: '$item', n: { $sum: '$qty' } } }]).toArray();
    await coll.countDocuments({ qty: { $exists: true } });
    await coll.distinct('item');
    await coll.createIndex({ item: 1, qty: -1 });
    await c.db('shop').collection('orders').find({}).toArray();  // zlib-compressed frames
    const stream = coll.watch([{ $match: { operationType: { $in: ['insert', 'update'] } } }],
      { fullDocument: 'updateLookup', maxAwaitTimeMS: 200 });
    await stream.tryNext();
    await coll.insertOne({ _id: 10, item: 'streamed' });
    const ev = await stream.next();
    await stream.close();
    const resumed = coll.watch([], { resumeAfter: ev._id, maxAwaitTimeMS: 200 });
    await resumed.tryNext();
    await resumed.close();
    const dbStream = plain.db('shop').watch([], { startAfter: ev._id, showExpandedEvents: true, maxAwaitTimeMS: 200 });
    await dbStream.tryNext();
    await dbStream.close();
    await coll.deleteMany({ _id: { $gt: 5 } });
    await plain.db('shop').command({ listCollections: 1, nameOnly: true });
    await plain.db('admin').command({ listDatabases: 1 });
  } finally {
    for (const cl of clients) await cl.close().catch(() => {});
    proxy.close();
    await srv.stop();
  }
  for (const t of tokens) {
    if (!/^[0-9A-Fa-f]*$/.test(t) || t.length % 2) continue;
    save('resume_token_fuzz', Buffer.concat([Buffer.from([1]), Buffer.from(t, 'hex')]));
  }
  console.log('recorded:', Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', '));
}

main().catch((e) => {
  console.error('record_traffic failed:', e);
  process.exit(1);
});
