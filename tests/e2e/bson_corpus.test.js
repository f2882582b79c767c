'use strict';
// Every valid case of the BSON corpus (../shared/spec/source/bson-corpus) is stored in
// brookd and read back byte for byte: brookd must keep field order, types and exact
// bytes of every BSON type, including deprecated ones.
//
// Each case's canonical_bson becomes the value of `doc` in { _id: <n>, doc: <case> }, so
// top-level key rules ($-prefixed or dotted names) do not apply; MongoDB 5.0+ stores such
// names inside embedded documents. Cases are inserted through the driver (documents
// decoded with promoteValues:false and re-encoded, checked to reproduce the exact bytes
// first); the few the JS BSON library cannot re-encode (DBPointer, undefined) go in through
// a hand-built OP_MSG insert with the raw bytes. Everything is read back with find
// { raw: true } and compared to the bytes that were sent.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { MongoClient, BSON } = require('mongodb');
const { startBrookd, REPO_ROOT } = require('./lib/brookd');
const { opMsgSections, exchange } = require('./lib/wire');

const CORPUS = path.join(REPO_ROOT, '..', 'shared', 'spec', 'source', 'bson-corpus', 'tests');
const DB = 'bson_corpus_e2e';
const COLL = 'docs';
const DECODE = { promoteValues: false, promoteBuffers: false, promoteLongs: false, bsonRegExp: true };

// { _id: Int32(id), doc: <caseBytes> } assembled by hand so the case bytes are untouched.
function wrap(id, caseBytes) {
  const idElem = Buffer.concat([Buffer.from([0x10]), Buffer.from('_id\0'), int32(id)]);
  const docElem = Buffer.concat([Buffer.from([0x03]), Buffer.from('doc\0'), caseBytes]);
  const body = Buffer.concat([idElem, docElem, Buffer.from([0])]);
  return Buffer.concat([int32(body.length + 4), body]);
}

function int32(n) {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
}

function driverCanEncode(bytes) {
  try {
    return Buffer.from(BSON.serialize(BSON.deserialize(bytes, DECODE))).equals(bytes);
  } catch {
    return false;
  }
}

const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort();

let srv;
let client;
let nextId = 1;
const totals = { cases: 0, viaDriver: 0, viaRaw: 0, mismatched: 0 };

test.before(async () => {
  srv = await startBrookd();
  client = new MongoClient(srv.uri, { serverSelectionTimeoutMS: 10000 });
  await client.connect();
  await client.db(DB).dropDatabase();
});

test.after(async () => {
  console.log(`bson corpus: ${totals.cases} valid cases, ${totals.viaDriver} inserted via the driver, ${totals.viaRaw} via raw OP_MSG, ${totals.mismatched} not byte-identical`);
  await client?.close();
  await srv?.stop();
});

for (const file of files) {
  const suite = JSON.parse(fs.readFileSync(path.join(CORPUS, file), 'utf8'));
  const cases = suite.valid ?? [];
  if (cases.length === 0) continue;
  test(`bson corpus ${file} (${cases.length} valid cases)`, async () => {
    const coll = client.db(DB).collection(COLL);
    const expected = new Map();
    const driverDocs = [];
    const rawDocs = [];
    for (const c of cases) {
      const id = nextId++;
      const bytes = wrap(id, Buffer.from(c.canonical_bson, 'hex'));
      expected.set(id, { bytes, description: c.description });
      if (driverCanEncode(bytes)) driverDocs.push(BSON.deserialize(bytes, DECODE));
      else rawDocs.push(bytes);
    }
    totals.cases += cases.length;
    totals.viaDriver += driverDocs.length;
    totals.viaRaw += rawDocs.length;

    if (driverDocs.length) await coll.insertMany(driverDocs, { ordered: true });
    for (const bytes of rawDocs) {
      const msg = opMsgSections([
        { kind: 0, doc: { insert: COLL, ordered: true, $db: DB } },
        { kind: 1, id: 'documents', docs: [bytes] },
      ]);
      const r = await exchange(srv.port, msg, { timeoutMs: 10000 });
      assert.equal(r.replies.length, 1, `raw insert got no reply (closed=${r.closed}, timedOut=${r.timedOut})`);
      const reply = r.replies[0].doc;
      assert.equal(reply.ok, 1, `raw insert failed: ${JSON.stringify(reply)}`);
      assert.equal(reply.n, 1, `raw insert not applied: ${JSON.stringify(reply)}`);
      assert.ok(!reply.writeErrors, `raw insert write error: ${JSON.stringify(reply.writeErrors)}`);
    }

    const ids = [...expected.keys()];
    const stored = await coll.find({ _id: { $gte: ids[0], $lte: ids[ids.length - 1] } }, { raw: true, sort: { _id: 1 } }).toArray();
    const problems = [];
    const seen = new Set();
    for (const raw of stored) {
      const bytes = Buffer.from(raw);
      const { _id: id } = BSON.deserialize(bytes);
      seen.add(id);
      const want = expected.get(id);
      if (!want) {
        problems.push(`unexpected document _id ${id}`);
      } else if (!bytes.equals(want.bytes)) {
        problems.push(`${want.description}: stored ${bytes.toString('hex')}, sent ${want.bytes.toString('hex')}`);
      }
    }
    for (const [id, want] of expected) if (!seen.has(id)) problems.push(`${want.description}: not found after insert (_id ${id})`);
    totals.mismatched += problems.length;
    assert.deepEqual(problems, [], `${problems.length} of ${cases.length} case(s) in ${file} did not round-trip:\n${problems.join('\n')}`);
  });
}
