'use strict';
// Unit tests for the unified-format matcher: each rule of "Evaluating Matches" has a
// passing and a failing case, so a regression in the runner cannot hide server bugs.
const test = require('node:test');
const assert = require('node:assert/strict');
const { mongodb } = require('./deps');
const { match, matchRootList, exactEquals, MatchError } = require('./matcher');
const { EntityMap } = require('./entities');
const { parseTestFile } = require('./values');

const { Int32, Long, Double, Decimal128, ObjectId, Binary, Timestamp, BSONRegExp } = mongodb.BSON;

const ok = (expected, actual, ctx, root = true) => assert.doesNotThrow(() => match(expected, actual, '$', ctx ?? {}, root));
const no = (expected, actual, ctx, root = true, re) => assert.throws(() => match(expected, actual, '$', ctx ?? {}, root), re ?? MatchError);
const ej = (s) => parseTestFile(s);

test('numbers compare by value across int32, int64 and double', () => {
  ok(new Int32(1), 1);
  ok(new Int32(1), 1.0);
  ok(1, new Double(1));
  ok(Long.fromNumber(5), 5);
  ok(ej('{"$numberLong":"9007199254740993"}'), Long.fromString('9007199254740993'));
  no(new Int32(1), 1.5);
  no(Long.fromString('9007199254740993'), 9007199254740992);
  no(new Int32(1), '1');
  no(1, true);
});

test('decimal128 is not a flexible numeric', () => {
  ok(Decimal128.fromString('1.5'), Decimal128.fromString('1.5'));
  no(Decimal128.fromString('1'), 1);
});

test('root documents allow extra fields, nested documents do not', () => {
  ok({ x: 1 }, { x: 1, y: 1 });
  no({ x: 1, y: 1 }, { x: 1 });
  no({ x: { y: 1 } }, { x: { y: 1, z: 1 } });
  no({ x: { y: 1 } }, { x: { y: 1, z: 1 } }, {}, false);
  no({ x: 1 }, { x: 1, y: 1 }, {}, false);
});

test('key order does not matter', () => {
  ok({ x: 1, y: 2 }, { y: 2, x: 1 }, {}, false);
});

test('arrays need the same length and element-wise matches', () => {
  ok([1, 2, 3], [1, 2, 3]);
  no([1, 2, 3], [1, 2, 3, 4]);
  no([1, 2], [2, 1]);
  // distinct-style arrays of documents are not root-level: extra fields fail.
  no([{ x: 1 }], [{ x: 1, y: 1 }]);
});

test('matchRootList treats each element as a root document', () => {
  assert.doesNotThrow(() => matchRootList([{ x: 1 }, { x: 2 }], [{ x: 1, y: 1 }, { x: 2, y: 2 }]));
  assert.throws(() => matchRootList([{ x: 1 }], [{ x: 1 }, { x: 2 }]), MatchError);
  assert.throws(() => matchRootList([{ x: 1 }], [{ x: 3 }]), MatchError);
});

test('$$exists', () => {
  ok({ a: { $$exists: true } }, { a: null });
  no({ a: { $$exists: true } }, {});
  ok({ a: { $$exists: false } }, { b: 1 });
  no({ a: { $$exists: false } }, { a: 1 });
});

test('$$type with single and multiple names', () => {
  ok({ a: { $$type: 'string' } }, { a: 'x' });
  no({ a: { $$type: 'string' } }, { a: 1 });
  ok({ a: { $$type: ['int', 'long'] } }, { a: 5 });
  ok({ a: { $$type: 'long' } }, { a: Long.fromNumber(5) });
  ok({ a: { $$type: 'double' } }, { a: 1.5 });
  no({ a: { $$type: 'int' } }, { a: 1.5 });
  ok({ a: { $$type: 'objectId' } }, { a: new ObjectId() });
  ok({ a: { $$type: 'binData' } }, { a: new Binary(Buffer.from('ab')) });
  ok({ a: { $$type: 'timestamp' } }, { a: new Timestamp({ t: 1, i: 1 }) });
  ok({ a: { $$type: 'date' } }, { a: new Date() });
  ok({ a: { $$type: 'object' } }, { a: { b: 1 } });
  ok({ a: { $$type: 'array' } }, { a: [1, 'x'] });
  no({ a: { $$type: 'object' } }, { a: [1] });
  no({ a: { $$type: 'string' } }, {});
});

test('$$unsetOrMatches', () => {
  ok({ insertedId: { $$unsetOrMatches: 2 } }, {});
  ok({ insertedId: { $$unsetOrMatches: 2 } }, { insertedId: 2 });
  no({ insertedId: { $$unsetOrMatches: 2 } }, { insertedId: 3 });
  ok({ $$unsetOrMatches: { insertedId: 1 } }, undefined);
  // Does not change root-ness: the whole result stays a root document.
  ok({ $$unsetOrMatches: { insertedId: 1 } }, { insertedId: 1, extra: true });
  no({ a: { $$unsetOrMatches: { b: 1 } } }, { a: { b: 1, c: 2 } });
});

test('$$lte', () => {
  ok({ a: { $$lte: 5 } }, { a: 5 });
  ok({ a: { $$lte: 1 } }, { a: 0.0 });
  no({ a: { $$lte: 1 } }, { a: 1.1 });
  no({ a: { $$lte: 1 } }, { a: 'x' });
});

test('$$matchesEntity and $$sessionLsid', () => {
  const entities = new EntityMap();
  const oid = new ObjectId();
  entities.add('oid0', 'bson', oid);
  const lsid = { id: new Binary(Buffer.alloc(16, 7), 4) };
  entities.add('session0', 'session', {}, { lsid });
  ok({ _id: { $$matchesEntity: 'oid0' } }, { _id: oid }, { entities });
  no({ _id: { $$matchesEntity: 'oid0' } }, { _id: new ObjectId() }, { entities });
  assert.throws(() => match({ _id: { $$matchesEntity: 'nope' } }, { _id: 1 }, '$', { entities }, true), /not defined/);
  ok({ lsid: { $$sessionLsid: 'session0' } }, { lsid: { id: new Binary(Buffer.alloc(16, 7), 4) } }, { entities });
  no({ lsid: { $$sessionLsid: 'session0' } }, { lsid: { id: new Binary(Buffer.alloc(16, 8), 4) } }, { entities });
});

test('$$matchAsDocument and $$matchAsRoot', () => {
  ok({ c: { $$matchAsDocument: { a: 1 } } }, { c: '{"a": 1}' });
  no({ c: { $$matchAsDocument: { a: 1 } } }, { c: '{"a": 1, "b": 2}' });
  ok({ c: { $$matchAsDocument: { $$matchAsRoot: { a: 1 } } } }, { c: '{"a": 1, "b": 2}' });
  ok({ x: { $$matchAsRoot: { a: 1 } } }, { x: { a: 1, b: 2 } });
  no({ c: { $$matchAsDocument: { a: 1 } } }, { c: 42 });
});

test('$$matchesHexBytes', () => {
  ok({ $$matchesHexBytes: '12ab' }, Buffer.from([0x12, 0xab]));
  no({ $$matchesHexBytes: '12ab' }, Buffer.from([0x12]));
  assert.throws(() => match({ $$matchesHexBytes: 'zz' }, Buffer.alloc(1)), /malformed/);
});

test('unknown special operators are errors, not silent passes', () => {
  assert.throws(() => match({ $$bogus: 1 }, 1), /unknown special operator/);
});

test('BSON values from EJSON compare with driver values', () => {
  ok(ej('{"$oid":"5f0000000000000000000001"}'), new ObjectId('5f0000000000000000000001'));
  ok(ej('{"$date":{"$numberLong":"1000"}}'), new Date(1000));
  no(ej('{"$date":{"$numberLong":"1000"}}'), new Date(1001));
  ok(ej('{"$regularExpression":{"pattern":"^a","options":"i"}}'), /^a/i);
  ok(new BSONRegExp('x', 'im'), /x/mi);
  ok(ej('{"$binary":{"base64":"AQI=","subType":"00"}}'), new Binary(Buffer.from([1, 2])));
  no(ej('{"$binary":{"base64":"AQI=","subType":"00"}}'), new Binary(Buffer.from([1, 3])));
  ok(ej('{"$timestamp":{"t":1,"i":2}}'), new Timestamp({ t: 1, i: 2 }));
  ok(null, null);
  no(null, undefined);
  no({ a: null }, {});
});

test('exactEquals for outcome: no extra fields even at the root', () => {
  assert.doesNotThrow(() => exactEquals({ _id: 1, x: new Int32(2) }, { x: 2, _id: 1 }));
  assert.throws(() => exactEquals({ _id: 1 }, { _id: 1, x: 1 }), MatchError);
  assert.throws(() => exactEquals({ _id: 1, x: 1 }, { _id: 1 }), MatchError);
  assert.throws(() => exactEquals({ a: [1, 2] }, { a: [1, 2, 3] }), MatchError);
});

test('mismatch messages name the path', () => {
  assert.throws(() => match({ a: { b: [1, 2] } }, { a: { b: [1, 3] } }, '$', {}, true), /\$\.a\.b\[1\]: expected 2, got 3/);
});

test('Maps (driver-built command fields such as sort) match as documents', () => {
  ok({ sort: { _id: 1, x: -1 } }, { sort: new Map([['x', -1], ['_id', 1]]) });
  no({ sort: { _id: 1 } }, { sort: new Map([['_id', -1]]) });
});
