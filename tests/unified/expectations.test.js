'use strict';
// Unit tests for expectError and expectEvents evaluation, on synthetic driver errors and
// recorded events, so error-code and event-order assertions are known to bite.
const test = require('node:test');
const assert = require('node:assert/strict');
const { mongodb } = require('./deps');
const { checkError, checkEvents } = require('./expectations');
const { EntityMap } = require('./entities');
const { validateArgs, ArgumentError } = require('./operations');
const { MatchError } = require('./matcher');

const { MongoServerError, MongoNetworkError, MongoInvalidArgumentError, MongoBulkWriteError } = mongodb;

function serverError(fields) {
  return new MongoServerError({ ok: 0, errmsg: 'E11000 duplicate key error collection: db.c index: _id_', code: 11000, codeName: 'DuplicateKey', ...fields });
}

const passes = (expected, err) => assert.doesNotThrow(() => checkError(expected, err, {}));
const fails = (expected, err) => assert.throws(() => checkError(expected, err, {}), MatchError);

test('an expected error must happen', () => {
  fails({ isError: true }, null);
  passes({ isError: true }, new Error('x'));
});

test('isClientError separates server replies from driver-side errors', () => {
  passes({ isClientError: true }, new MongoInvalidArgumentError('bad'));
  passes({ isClientError: true }, new MongoNetworkError('connection closed'));
  fails({ isClientError: true }, serverError());
  passes({ isClientError: false }, serverError());
  fails({ isClientError: false }, new MongoNetworkError('closed'));
});

test('errorCode, errorCodeName and errorContains', () => {
  passes({ errorCode: 11000, errorCodeName: 'duplicatekey', errorContains: 'DUPLICATE KEY' }, serverError());
  fails({ errorCode: 11001 }, serverError());
  fails({ errorCodeName: 'NamespaceNotFound' }, serverError());
  fails({ errorContains: 'no such thing' }, serverError());
  // Codes are server facts: a client error never satisfies errorCode.
  fails({ errorCode: 11000 }, Object.assign(new MongoInvalidArgumentError('x'), { code: 11000 }));
});

test('error labels', () => {
  const e = serverError({ errorLabels: ['TransientTransactionError'] });
  passes({ errorLabelsContain: ['TransientTransactionError'], errorLabelsOmit: ['RetryableWriteError'] }, e);
  fails({ errorLabelsContain: ['RetryableWriteError'] }, e);
  fails({ errorLabelsOmit: ['TransientTransactionError'] }, e);
});

test('errorResponse matches the server reply as a root document', () => {
  const e = serverError({ errInfo: { a: 1 } });
  passes({ errorResponse: { code: 11000 } }, e);
  fails({ errorResponse: { code: 2 } }, e);
});

test('bulk write errors are searched for codes, names and messages', () => {
  const result = { insertedCount: 1, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, upsertedIds: {}, insertedIds: { 0: 1 } };
  const err = new MongoBulkWriteError(
    { message: 'write errors', code: 11000, writeErrors: [{ index: 1, code: 11000, errmsg: 'E11000 dup key on _id' }] },
    result,
  );
  passes({ errorCode: 11000, errorCodeName: 'DuplicateKey', errorContains: 'dup key' }, err);
  fails({ errorCode: 121 }, err);
});

function clientWith(events) {
  const entities = new EntityMap();
  entities.add('client0', 'client', {}, { events });
  return entities;
}

const started = (commandName, command) => ({ type: 'commandStartedEvent', category: 'command', event: { commandName, databaseName: 'db', command } });
const succeeded = (commandName, reply) => ({ type: 'commandSucceededEvent', category: 'command', event: { commandName, databaseName: 'db', reply } });

test('expectEvents: count, order, type and root-level command matching', () => {
  const entities = clientWith([started('insert', { insert: 'c', documents: [{ _id: 1 }], lsid: {} }), succeeded('insert', { ok: 1, n: 1 })]);
  const ok = (events, extra = {}) => assert.doesNotThrow(() => checkEvents([{ client: 'client0', events, ...extra }], entities, { entities }));
  const no = (events, extra = {}) => assert.throws(() => checkEvents([{ client: 'client0', events, ...extra }], entities, { entities }), MatchError);
  ok([{ commandStartedEvent: { command: { insert: 'c', documents: [{ _id: 1 }] }, commandName: 'insert' } }, { commandSucceededEvent: { reply: { n: 1 } } }]);
  no([{ commandStartedEvent: { command: { insert: 'c' } } }]); // one event missing
  ok([{ commandStartedEvent: { command: { insert: 'c' } } }], { ignoreExtraEvents: true });
  no([{ commandSucceededEvent: {} }, { commandStartedEvent: {} }]); // wrong order
  no([{ commandStartedEvent: { command: { insert: 'c', documents: [{ _id: 2 }] } } }, { commandSucceededEvent: {} }]);
  no([{ commandStartedEvent: { databaseName: 'other' } }, { commandSucceededEvent: {} }]);
  no([], {});
  no([{ commandStartedEvent: {} }, { commandSucceededEvent: {} }, { commandStartedEvent: {} }], { ignoreExtraEvents: true });
});

test('arguments are validated: missing required and unknown ones are runner errors', () => {
  assert.doesNotThrow(() => validateArgs('insertOne', { document: {}, session: 's' }));
  assert.throws(() => validateArgs('insertOne', { foo: 'bar' }), ArgumentError);
  assert.throws(() => validateArgs('insertOne', { document: {}, foo: 'bar' }), ArgumentError);
  assert.throws(() => validateArgs('createFindCursor', {}), ArgumentError);
  assert.doesNotThrow(() => validateArgs('notValidatedOperation', { anything: 1 }));
});

test("the Node driver's wtimeout on commit/abortTransaction is tolerated, nothing else", () => {
  const { matchEvent } = require('./expectations');
  const record = (commandName, writeConcern) => ({
    type: 'commandStartedEvent',
    event: { commandName, command: { [commandName]: 1, writeConcern } },
  });
  const want = { commandStartedEvent: { command: { writeConcern: { w: 'majority' } } } };
  matchEvent(want, record('commitTransaction', { w: 'majority', wtimeout: 10000 }), '$', {});
  matchEvent(want, record('abortTransaction', { w: 'majority', wtimeout: 10000 }), '$', {});
  assert.throws(() => matchEvent(want, record('insert', { w: 'majority', wtimeout: 10000 }), '$', {}), MatchError);
  assert.throws(() => matchEvent(want, record('commitTransaction', { w: 'majority', wtimeout: 5 }), '$', {}), MatchError);
  const asked = { commandStartedEvent: { command: { writeConcern: { w: 'majority', wtimeout: 200 } } } };
  assert.throws(() => matchEvent(asked, record('commitTransaction', { w: 'majority', wtimeout: 10000 }), '$', {}), MatchError);
});
