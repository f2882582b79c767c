'use strict';
// Hostile input on raw sockets: lying lengths, truncated frames, unknown opcodes,
// malformed BSON, absurd nesting, invalid UTF-8, oversized documents. brookd may answer
// with an error or close the connection, but it must never accept garbage as a valid
// command, hang the connection on a complete frame, or die: after every case a separate
// connection must still get an answer to hello and ping, and the process must be alive.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient, MongoServerError, BSON } = require('mongodb');
const { startBrookd } = require('./lib/brookd');
const { frame, opMsg, opMsgSections, exchange, helloOk } = require('./lib/wire');

const DB = 'hostile_e2e';
const MAX_BSON = 16 * 1024 * 1024;

let srv;
let client;

test.before(async () => {
  srv = await startBrookd();
  client = new MongoClient(srv.uri, { serverSelectionTimeoutMS: 10000 });
  await client.connect();
});

test.after(async () => {
  await client?.close();
  await srv?.stop();
});

// The server survived: process alive, a fresh connection answers hello, and ping works.
async function assertAlive(what) {
  assert.ok(srv.running, `brookd died after ${what}; log:\n${srv.logTail()}`);
  const hello = await helloOk(srv.port, { timeoutMs: 5000 });
  assert.ok(hello, `brookd did not answer hello on a new connection after ${what}; log:\n${srv.logTail()}`);
  const ping = await client.db('admin').command({ ping: 1 });
  assert.equal(ping.ok, 1);
}

// The connection was refused politely: closed, or an ok:0 reply. Never ok:1.
function assertRejected(r, what) {
  if (r.replies.length > 0) {
    const doc = r.replies[0].doc;
    assert.notEqual(doc.ok, 1, `${what} was accepted: ${JSON.stringify(doc)}`);
  } else {
    assert.ok(r.closed, `${what}: the server neither replied nor closed the connection (timed out)`);
  }
}

// An insert was refused: connection closed, ok:0, or ok:1 with writeErrors and n:0.
function assertInsertRejected(r, what) {
  if (r.replies.length > 0) {
    const doc = r.replies[0].doc;
    const refused = doc.ok !== 1 || (Array.isArray(doc.writeErrors) && doc.writeErrors.length > 0 && doc.n === 0);
    assert.ok(refused, `${what} was inserted: ${JSON.stringify(doc)}`);
  } else {
    assert.ok(r.closed, `${what}: the server neither replied nor closed the connection (timed out)`);
  }
}

const int32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
};

// A BSON document from raw element bytes (type, cstring name, value).
function rawDoc(...elements) {
  const body = Buffer.concat([...elements, Buffer.from([0])]);
  return Buffer.concat([int32(body.length + 4), body]);
}
const cstr = (s) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const strElem = (name, bytes) => Buffer.concat([Buffer.from([0x02]), cstr(name), int32(bytes.length + 1), bytes, Buffer.from([0])]);

// depth nested documents {a: {a: ... {}}}, built iteratively: a recursive encoder would
// overflow the JS stack long before the server's limit is reached.
function nested(depth) {
  const head = Buffer.alloc(depth * 7);
  for (let k = depth; k >= 1; k--) {
    const off = (depth - k) * 7;
    head.writeInt32LE(5 + 8 * k, off);
    head[off + 4] = 0x03;
    head[off + 5] = 0x61; // 'a'
    head[off + 6] = 0x00;
  }
  return Buffer.concat([head, Buffer.from([5, 0, 0, 0, 0]), Buffer.alloc(depth, 0)]);
}

const insertCmd = (docs) =>
  opMsgSections([
    { kind: 0, doc: { insert: 'c', ordered: true, $db: DB } },
    { kind: 1, id: 'documents', docs },
  ]);

const hello = () => BSON.serialize({ hello: 1, $db: 'admin' });

const framingCases = [
  {
    name: 'truncated frame (length 200, 40 bytes sent, then EOF)',
    bytes: () => frame(2013, Buffer.alloc(24)).subarray(0, 40).fill(0, 16),
    patch: (b) => b.writeInt32LE(200, 0),
    end: true,
  },
  { name: 'message length smaller than the header (10)', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { lengthOverride: 10 }) },
  { name: 'message length zero', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { lengthOverride: 0 }) },
  { name: 'negative message length', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { lengthOverride: -1 }) },
  { name: 'message length above maxMessageSizeBytes (48 MB + 1)', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { lengthOverride: 48000001 }) },
  { name: 'message length 2 GB', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { lengthOverride: 0x7fffffff }) },
  {
    name: 'length shorter than the actual OP_MSG (body cut inside the BSON)',
    bytes: () => {
      const b = opMsg({ ping: 1, $db: 'admin' });
      return Buffer.concat([int32(b.length - 6), b.subarray(4, b.length - 6)]);
    },
  },
  { name: 'unknown opcode 9999', bytes: () => frame(9999, Buffer.concat([int32(0), Buffer.from([0]), hello()])) },
  { name: 'OP_MSG with no sections', bytes: () => frame(2013, int32(0)) },
  { name: 'OP_MSG with an unknown section kind 7', bytes: () => frame(2013, Buffer.concat([int32(0), Buffer.from([7]), hello()])) },
  // Bits 0-15 are "required": a server must refuse one it does not know (bit 1 is
  // moreToCome, which it knows, so bit 5 it is).
  { name: 'OP_MSG with unknown required flag bit 5', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { flags: 1 << 5 }) },
  { name: 'OP_MSG with checksumPresent but no checksum', bytes: () => opMsg({ ping: 1, $db: 'admin' }, { flags: 1 }) },
  {
    name: 'OP_MSG with two body (kind 0) sections',
    bytes: () => frame(2013, Buffer.concat([int32(0), Buffer.from([0]), hello(), Buffer.from([0]), hello()])),
  },
  {
    name: 'OP_MSG kind 1 section whose size runs past the message',
    bytes: () => frame(2013, Buffer.concat([int32(0), Buffer.from([0]), BSON.serialize({ insert: 'c', $db: DB }), Buffer.from([1]), int32(5000), cstr('documents')])),
  },
];

const bsonCases = [
  { name: 'BSON length larger than the section', doc: () => Buffer.concat([int32(500), hello().subarray(4)]) },
  { name: 'BSON length smaller than 5', doc: () => Buffer.concat([int32(3), hello().subarray(4)]) },
  { name: 'BSON missing its terminating 0', doc: () => { const h = hello(); return Buffer.concat([int32(h.length - 1), h.subarray(4, h.length - 1)]); } },
  { name: 'BSON element of unknown type 0x42', doc: () => rawDoc(Buffer.from([0x42]), cstr('hello'), int32(1), strElem('$db', Buffer.from('admin'))) },
  { name: 'BSON string with negative length', doc: () => rawDoc(Buffer.from([0x02]), cstr('ping'), int32(-5), Buffer.from('x\0')) },
  { name: 'BSON string without its trailing 0', doc: () => rawDoc(Buffer.from([0x02]), cstr('ping'), int32(2), Buffer.from('xy')) },
  { name: 'BSON field name running to the end (no cstring terminator)', doc: () => Buffer.concat([int32(12), Buffer.from([0x10]), Buffer.from('abcdefg')]) },
];

for (const c of framingCases) {
  test(`framing: ${c.name}`, async () => {
    const bytes = c.bytes();
    if (c.patch) c.patch(bytes);
    const r = await exchange(srv.port, bytes, { timeoutMs: 5000, endAfterWrite: c.end ?? false });
    assertRejected(r, c.name);
    await assertAlive(c.name);
  });
}

for (const c of bsonCases) {
  test(`malformed BSON: ${c.name}`, async () => {
    const r = await exchange(srv.port, opMsg(c.doc()), { timeoutMs: 5000 });
    assertRejected(r, c.name);
    await assertAlive(c.name);
  });
}

// MongoDB stores at most 180 levels (BSONDepth: 200 for parsing, less 20 system levels);
// deeper documents get 15 Overflow and nothing is written.
test('nesting depth 185 is refused for a stored document (limit 180)', async () => {
  let doc = {};
  for (let i = 0; i < 185; i++) doc = { a: doc };
  const coll = client.db(DB).collection('deep');
  await assert.rejects(coll.insertOne({ _id: 'deep185', doc }), (e) => e.constructor.name.startsWith('Mongo') && e.code === 15);
  assert.equal(await coll.countDocuments({ _id: 'deep185' }), 0);
  let ok = {};
  for (let i = 0; i < 150; i++) ok = { a: ok };
  await coll.insertOne({ _id: 'deep150', doc: ok });
  assert.equal(await coll.countDocuments({ _id: 'deep150' }), 1);
  await assertAlive('depth 185');
});

test('nesting depth 100000 in a command does not crash the server', async () => {
  const r = await exchange(srv.port, insertCmd([deepWithId(100000)]), { timeoutMs: 15000 });
  assertInsertRejected(r, 'depth 100000 document');
  const r2 = await exchange(srv.port, opMsg(nested(100000)), { timeoutMs: 15000 });
  assertRejected(r2, 'depth 100000 command body');
  await assertAlive('depth 100000');
});

// { _id: 1, a: <depth-1 nested> } as raw bytes.
function deepWithId(depth) {
  const inner = nested(depth - 1);
  return rawDoc(Buffer.from([0x10]), cstr('_id'), int32(1), Buffer.from([0x03]), cstr('a'), inner);
}

test('invalid UTF-8 in a string value and in a field name gets an answer, not a crash', async () => {
  const badValue = rawDoc(Buffer.from([0x10]), cstr('_id'), int32(7), strElem('s', Buffer.from([0x61, 0xff, 0xfe, 0x62])));
  const r = await exchange(srv.port, insertCmd([badValue]), { timeoutMs: 5000 });
  assert.ok(r.replies.length === 1 || r.closed, 'no answer to an insert with invalid UTF-8');
  const badName = rawDoc(Buffer.from([0x10]), cstr('_id'), int32(8), Buffer.from([0x10, 0xc3, 0x28, 0x00]), int32(1));
  const r2 = await exchange(srv.port, insertCmd([badName]), { timeoutMs: 5000 });
  assert.ok(r2.replies.length === 1 || r2.closed, 'no answer to an insert with an invalid UTF-8 field name');
  const badCmd = rawDoc(strElem('ping', Buffer.from([0xff])), strElem('$db', Buffer.from([0xc0, 0xaf])));
  const r3 = await exchange(srv.port, opMsg(badCmd), { timeoutMs: 5000 });
  assert.ok(r3.replies.length === 1 || r3.closed, 'no answer to a command with an invalid UTF-8 $db');
  await assertAlive('invalid UTF-8');
});

// 17 MB is past MongoDB's internal limit (16 MB + 16 KB), where it answers 10334.
function isTooLarge(doc) {
  if (!doc) return false;
  if (doc.code === 10334 || doc.codeName === 'BSONObjectTooLarge') return true;
  return (doc.writeErrors ?? []).some((w) => w.code === 10334 || w.codeName === 'BSONObjectTooLarge');
}

test('a document over 16 MB is refused with BSONObjectTooLarge (raw OP_MSG)', async () => {
  const big = rawDoc(strElem('_id', Buffer.from('big-raw')), strElem('s', Buffer.alloc(MAX_BSON + 1024 * 1024, 0x61)));
  const r = await exchange(srv.port, insertCmd([big]), { timeoutMs: 20000 });
  assert.equal(r.replies.length, 1, `no reply to an oversized insert (closed=${r.closed})`);
  const doc = r.replies[0].doc;
  assert.ok(isTooLarge(doc), `expected code 10334 BSONObjectTooLarge, got ${JSON.stringify(doc)}`);
  assert.equal(await client.db(DB).collection('c').countDocuments({ _id: 'big-raw' }), 0);
  await assertAlive('oversized document');
});

test('a document over 16 MB is refused through the driver', async () => {
  const coll = client.db(DB).collection('big');
  const err = await coll.insertOne({ _id: 'big', s: 'a'.repeat(MAX_BSON + 1024 * 1024) }).then(
    () => null,
    (e) => e,
  );
  assert.ok(err, 'a 17 MB insert succeeded');
  // The driver may refuse before sending (a client-side size error); if the server
  // answered, it must say 10334.
  if (err instanceof MongoServerError) {
    assert.ok(err.code === 10334 || err.codeName === 'BSONObjectTooLarge' || /BSONObjectTooLarge|too large/i.test(err.message), `unexpected error ${err.code} ${err.message}`);
  }
  assert.equal(await coll.countDocuments({ _id: 'big' }), 0);
  await assertAlive('oversized document via driver');
});

test('many connections that open and drop at once', async () => {
  const half = opMsg({ ping: 1, $db: 'admin' }).subarray(0, 10);
  await Promise.all(Array.from({ length: 200 }, () => exchange(srv.port, half, { timeoutMs: 2000, endAfterWrite: true })));
  await assertAlive('200 dropped connections');
});
