'use strict';
// mongosh (the real shell, from node_modules) drives a CRUD session against brookd; the
// script prints one Extended JSON line per step and the test checks each line.
//
// mongosh runs with telemetry and update checks off and a private HOME, so it only
// ever talks to the brookd on loopback.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startBrookd } = require('./lib/brookd');
const { Mongosh, steps, STEP_HELPER } = require('./lib/mongosh');

let srv;
let shell;

test.before(async () => {
  srv = await startBrookd();
  shell = new Mongosh('brook-mongosh-home-');
});

test.after(async () => {
  await srv?.stop();
  shell?.close();
});

const SCRIPT = String.raw`
${STEP_HELPER}
const d = db.getSiblingDB('mongosh_e2e');
d.dropDatabase();
const hello = d.hello();
step('hello', { setName: hello.setName, isWritablePrimary: hello.isWritablePrimary });
step('ping', d.runCommand({ ping: 1 }).ok);
step('insertOne', d.items.insertOne({ _id: 1, name: 'apple', qty: 5, tags: ['red'] }));
step('insertMany', d.items.insertMany([
  { _id: 2, name: 'banana', qty: 10, tags: ['yellow'] },
  { _id: 3, name: 'cherry', qty: 15, tags: ['red', 'small'] },
]));
step('findRange', d.items.find({ qty: { $gte: 10 } }, { name: 1 }).sort({ _id: -1 }).toArray());
step('findOne', d.items.findOne({ tags: 'small' }));
step('updateOne', d.items.updateOne({ _id: 1 }, { $inc: { qty: 1 }, $push: { tags: 'sweet' } }));
step('updateMany', d.items.updateMany({ tags: 'red' }, { $set: { color: 'red' } }));
step('upsert', d.items.updateOne({ _id: 4 }, { $set: { name: 'date', qty: 1 } }, { upsert: true }));
step('replaceOne', d.items.replaceOne({ _id: 2 }, { name: 'banana', qty: 11 }));
step('count', d.items.countDocuments({ qty: { $lt: 12 } }));
step('aggregate', d.items.aggregate([
  { $match: { qty: { $gt: 1 } } },
  { $group: { _id: null, total: { $sum: '$qty' }, n: { $sum: 1 } } },
]).toArray());
step('createIndex', d.items.createIndex({ name: 1 }, { unique: true }));
step('indexes', d.items.getIndexes().map((i) => i.name).sort());
try {
  d.items.insertOne({ _id: 5, name: 'apple' });
  step('duplicate', 'no error');
} catch (e) {
  step('duplicate', { code: e.code });
}
step('deleteOne', d.items.deleteOne({ _id: 4 }));
step('deleteMany', d.items.deleteMany({ qty: { $gte: 11 } }));
step('final', d.items.find().sort({ _id: 1 }).toArray());
step('collections', d.getCollectionNames());
step('dropIndex', d.items.dropIndex('name_1').ok);
`;

test('mongosh CRUD session against brookd', async () => {
  const r = await shell.run(srv.uri, SCRIPT);
  const got = steps(r.stdout);
  const context = `mongosh exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 0, context);
  assert.deepEqual(got.hello, { setName: 'rs0', isWritablePrimary: true }, context);
  assert.equal(got.ping, 1);
  assert.deepEqual(got.insertOne, { acknowledged: true, insertedId: 1 });
  assert.deepEqual(got.insertMany, { acknowledged: true, insertedIds: { 0: 2, 1: 3 } });
  assert.deepEqual(got.findRange, [{ _id: 3, name: 'cherry' }, { _id: 2, name: 'banana' }]);
  assert.deepEqual(got.findOne, { _id: 3, name: 'cherry', qty: 15, tags: ['red', 'small'] });
  assert.deepEqual(got.updateOne, { acknowledged: true, insertedId: null, matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
  assert.deepEqual(got.updateMany, { acknowledged: true, insertedId: null, matchedCount: 2, modifiedCount: 2, upsertedCount: 0 });
  assert.deepEqual(got.upsert, { acknowledged: true, insertedId: 4, matchedCount: 0, modifiedCount: 0, upsertedCount: 1 });
  assert.deepEqual(got.replaceOne, { acknowledged: true, insertedId: null, matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
  assert.equal(got.count, 3); // apple 6, banana 11, date 1
  assert.deepEqual(got.aggregate, [{ _id: null, total: 32, n: 3 }]); // 6 + 11 + 15
  assert.equal(got.createIndex, 'name_1');
  assert.deepEqual(got.indexes, ['_id_', 'name_1']);
  assert.deepEqual(got.duplicate, { code: 11000 });
  assert.deepEqual(got.deleteOne, { acknowledged: true, deletedCount: 1 });
  assert.deepEqual(got.deleteMany, { acknowledged: true, deletedCount: 2 });
  assert.deepEqual(got.final, [{ _id: 1, name: 'apple', qty: 6, tags: ['red', 'sweet'], color: 'red' }]);
  assert.deepEqual(got.collections, ['items']);
  assert.equal(got.dropIndex, 1);
});

test('mongosh reports a server error for an unknown command', async () => {
  const r = await shell.run(srv.directUri, `
    let res;
    try {
      res = db.getSiblingDB('admin').runCommand({ brookNoSuchCommand: 1 });
    } catch (e) {
      res = e; // mongosh throws ok:0 replies as MongoServerError
    }
    print('STEP res ' + EJSON.stringify({ ok: res.ok ?? 0, code: res.code, codeName: res.codeName }));
  `);
  const got = steps(r.stdout);
  assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.deepEqual(got.res, { ok: 0, code: 59, codeName: 'CommandNotFound' });
});
