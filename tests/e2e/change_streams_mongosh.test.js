'use strict';
// Change streams through mongosh (the real shell, from node_modules): db.coll.watch(),
// db.watch() and Mongo().watch(), fullDocument: 'updateLookup', getResumeToken() and
// resumeAfter. The script prints one Extended JSON line per step (as crud_mongosh.test.js)
// and the test checks each line.
const test = require('node:test');
const assert = require('node:assert/strict');
const { decodeResumeToken } = require('mongodb-resumetoken-decoder');
const { startBrookd } = require('./lib/brookd');
const { Mongosh, steps, STEP_HELPER } = require('./lib/mongosh');

let srv;
let shell;

test.before(async () => {
  srv = await startBrookd();
  shell = new Mongosh('brook-mongosh-cs-home-');
});

test.after(async () => {
  await srv?.stop();
  shell?.close();
});

const SCRIPT = String.raw`
${STEP_HELPER}
const d = db.getSiblingDB('mongosh_cs');
d.dropDatabase();
d.getSiblingDB('mongosh_cs_other').dropDatabase();
const opts = { maxAwaitTimeMS: 200 };
const cs = d.items.watch([], { ...opts, fullDocument: 'updateLookup' });
const dbcs = d.watch([], opts);
const clcs = db.getMongo().watch([], opts);
step('emptyTry', cs.tryNext());
step('tokenBefore', cs.getResumeToken());
d.items.insertOne({ _id: 1, n: 1 });
d.items.updateOne({ _id: 1 }, { $inc: { n: 1 } });
d.items.deleteOne({ _id: 1 });
d.getSiblingDB('mongosh_cs_other').c.insertOne({ _id: 'o' });
const events = [];
while (events.length < 3) { const e = cs.tryNext(); if (e) events.push(e); }
step('events', events);
step('tokenAfter', cs.getResumeToken());
const dbEvents = [];
while (dbEvents.length < 3) { const e = dbcs.tryNext(); if (e) dbEvents.push(e.ns.coll + ':' + e.operationType); }
step('dbEvents', dbEvents);
const clEvents = [];
while (clEvents.length < 4) { const e = clcs.tryNext(); if (e) clEvents.push(e.ns.db + '.' + e.ns.coll + ':' + e.operationType); }
step('clEvents', clEvents);
const resumed = d.items.watch([], { ...opts, resumeAfter: events[0]._id });
const rest = [];
while (rest.length < 2) { const e = resumed.tryNext(); if (e) rest.push(e.operationType); }
step('resumed', rest);
cs.close(); dbcs.close(); clcs.close(); resumed.close();
step('closed', cs.isClosed());
`;

test('mongosh watch(): collection, database and deployment streams, lookup and resume', async () => {
  const r = await shell.run(srv.uri, SCRIPT);
  assert.equal(r.code, 0, `mongosh failed:\n${r.stderr}\n${r.stdout}`);
  const s = steps(r.stdout);
  assert.equal(s.emptyTry, null);
  assert.equal(decodeResumeToken(s.tokenBefore._data).tokenType, 0, 'a high-water mark before any event');
  const [ins, upd, del] = s.events;
  assert.equal(ins.operationType, 'insert');
  assert.deepEqual(ins.fullDocument, { _id: 1, n: 1 });
  assert.equal(upd.operationType, 'update');
  assert.deepEqual(upd.updateDescription.updatedFields, { n: 2 });
  assert.ok(upd.fullDocument === null || upd.fullDocument.n === 2, 'updateLookup: the current document or null');
  assert.equal(del.operationType, 'delete');
  for (const e of s.events) {
    assert.deepEqual(e.ns, { db: 'mongosh_cs', coll: 'items' });
    const decoded = decodeResumeToken(e._id._data);
    assert.ok(decoded.timestamp.equals(e.clusterTime), 'token clusterTime equals clusterTime');
  }
  assert.ok(s.tokenAfter._data >= del._id._data, 'the token moved past the last event');
  assert.deepEqual(s.dbEvents, ['items:insert', 'items:update', 'items:delete']);
  assert.deepEqual(s.clEvents, [
    'mongosh_cs.items:insert', 'mongosh_cs.items:update', 'mongosh_cs.items:delete', 'mongosh_cs_other.c:insert',
  ]);
  assert.deepEqual(s.resumed, ['update', 'delete']);
  assert.equal(s.closed, true);
});
