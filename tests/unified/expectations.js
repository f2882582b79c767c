'use strict';
// expectError and expectEvents assertions (unified test format "expectedError" and
// "expectedEventsForClient").
const { mongodb } = require('./deps');
const { match, MatchError, show } = require('./matcher');
const { bulkResult } = require('./operations');

const { MongoServerError, MongoBulkWriteError, MongoOperationTimeoutError } = mongodb;

// Code names that may only be reachable through a number (write errors carry code only).
const CODE_NAMES = {
  InternalError: 1, BadValue: 2, FailedToParse: 9, TypeMismatch: 14, IllegalOperation: 20, NamespaceNotFound: 26,
  IndexNotFound: 27, CursorNotFound: 43, NamespaceExists: 48, MaxTimeMSExpired: 50, CommandNotFound: 59,
  WriteConcernFailed: 64, InvalidOptions: 72, WriteConflict: 112, DocumentValidationFailure: 121,
  CappedPositionLost: 136, CursorKilled: 237, NoSuchTransaction: 251, ExceededTimeLimit: 262,
  OperationNotSupportedInTransaction: 263, ChangeStreamFatalError: 280, ChangeStreamHistoryLost: 286,
  DuplicateKey: 11000, Interrupted: 11601, InterruptedDueToReplStateChange: 11602, BSONObjectTooLarge: 10334,
  NotWritablePrimary: 10107, PrimarySteppedDown: 189, ShutdownInProgress: 91, UnknownError: 8,
};

function assert(cond, msg) {
  if (!cond) throw new MatchError(msg);
}

// A server error is one derived from a server response; everything else (argument
// validation, network, timeouts in the driver) is a client error.
function isServerError(err) {
  return err instanceof MongoServerError;
}

// Errors a bulk write aggregates: top level, each write error, the write concern error.
function aggregatedErrors(err) {
  const list = [err];
  if (Array.isArray(err.writeErrors)) list.push(...err.writeErrors);
  else if (err.writeErrors instanceof Map) list.push(...err.writeErrors.values());
  if (err.writeConcernError) list.push(err.writeConcernError);
  if (Array.isArray(err.writeConcernErrors)) list.push(...err.writeConcernErrors);
  return list;
}

function messageOf(e) {
  return String(e.errmsg ?? e.message ?? e.err?.errmsg ?? '');
}

function checkError(expected, err, ctx) {
  assert(err, 'expected an error, but the operation succeeded');
  const desc = `${err.constructor?.name}: ${err.message}`;
  if (expected.isClientError !== undefined) {
    assert(expected.isClientError === !isServerError(err), `expected isClientError=${expected.isClientError}, got ${desc}`);
  }
  if (expected.isTimeoutError !== undefined) {
    assert(expected.isTimeoutError === err instanceof MongoOperationTimeoutError, `expected isTimeoutError=${expected.isTimeoutError}, got ${desc}`);
  }
  const all = aggregatedErrors(err);
  if (expected.errorContains !== undefined) {
    const needle = String(expected.errorContains).toLowerCase();
    assert(all.some((e) => messageOf(e).toLowerCase().includes(needle)), `expected error containing "${expected.errorContains}", got ${desc}`);
  }
  if (expected.errorCode !== undefined) {
    assert(isServerError(err), `expected server error code ${expected.errorCode}, got client error ${desc}`);
    const want = Number(expected.errorCode);
    const codes = all.map((e) => e.code).filter((c) => c !== undefined);
    assert(codes.some((c) => Number(c) === want), `expected error code ${want}, got code(s) [${codes}] (${desc})`);
  }
  if (expected.errorCodeName !== undefined) {
    assert(isServerError(err), `expected server error ${expected.errorCodeName}, got client error ${desc}`);
    const want = String(expected.errorCodeName).toLowerCase();
    const names = all.map((e) => e.codeName ?? e.errorResponse?.codeName).filter(Boolean);
    const byCode = CODE_NAMES[expected.errorCodeName];
    const ok = names.some((n) => n.toLowerCase() === want) || (byCode !== undefined && all.some((e) => Number(e.code) === byCode));
    assert(ok, `expected codeName ${expected.errorCodeName}, got [${names}] codes [${all.map((e) => e.code)}] (${desc})`);
  }
  for (const label of expected.errorLabelsContain ?? []) {
    assert(typeof err.hasErrorLabel === 'function' && err.hasErrorLabel(label), `expected error label ${label}, got [${err.errorLabels ?? []}] (${desc})`);
  }
  for (const label of expected.errorLabelsOmit ?? []) {
    assert(!(typeof err.hasErrorLabel === 'function' && err.hasErrorLabel(label)), `expected no error label ${label}, got [${err.errorLabels ?? []}]`);
  }
  if (expected.errorResponse !== undefined) {
    assert(err.errorResponse, `expected a server error response, got ${desc}`);
    match(expected.errorResponse, err.errorResponse, '$.errorResponse', ctx, true);
  }
  if (expected.writeErrors !== undefined) {
    const actual = err.writeErrors instanceof Map ? Object.fromEntries(err.writeErrors) : err.writeErrors;
    assert(actual, `expected writeErrors, got ${desc}`);
    const keys = Object.keys(actual).map(String);
    assert(keys.length === Object.keys(expected.writeErrors).length, `expected write errors at [${Object.keys(expected.writeErrors)}], got [${keys}]`);
    for (const [k, v] of Object.entries(expected.writeErrors)) match(v, actual[k], `$.writeErrors.${k}`, ctx, true);
  }
  if (expected.writeConcernErrors !== undefined) {
    const actual = err.writeConcernErrors ?? [];
    assert(actual.length === expected.writeConcernErrors.length, `expected ${expected.writeConcernErrors.length} write concern error(s), got ${actual.length}`);
    expected.writeConcernErrors.forEach((v, i) => match(v, actual[i], `$.writeConcernErrors[${i}]`, ctx, true));
  }
  if (expected.expectResult !== undefined) {
    const partial = err instanceof MongoBulkWriteError ? bulkResult(err.result) : err.partialResult;
    match(expected.expectResult, partial, '$.expectError.expectResult', ctx, true);
  }
}

// The Node.js driver (7.x) adds wtimeout: 10000 to the writeConcern of every
// commitTransaction and abortTransaction it sends; the transactions spec tests, written
// for drivers that add it only to a retried commit, match that writeConcern exactly.
// Only that field, only on those two commands, and only when the test did not ask for a
// wtimeout is left out of the comparison; everything else about the command is checked.
function withoutDriverWtimeout(expected, ev) {
  const wc = ev.command?.writeConcern;
  if (!['commitTransaction', 'abortTransaction'].includes(ev.commandName)) return ev.command;
  if (!wc || wc.wtimeout !== 10000 || expected?.writeConcern?.wtimeout !== undefined) return ev.command;
  const { wtimeout, ...rest } = wc;
  return { ...ev.command, writeConcern: rest };
}

// One expected event against one observed record ({ type, event }).
function matchEvent(expected, record, path, ctx) {
  const keys = Object.keys(expected);
  assert(keys.length === 1, `${path}: expected event must have one key, got ${keys}`);
  const type = keys[0];
  const want = expected[type] ?? {};
  assert(record.type === type, `${path}: expected ${type}, got ${record.type} (${record.event.commandName ?? ''})`);
  const ev = record.event;
  for (const [field, value] of Object.entries(want)) {
    const sub = `${path}.${type}.${field}`;
    switch (field) {
      case 'command':
        match(value, withoutDriverWtimeout(value, ev), sub, ctx, true);
        break;
      case 'reply':
        match(value, ev.reply, sub, ctx, true);
        break;
      case 'hasServiceId':
        assert(value === (ev.serviceId != null), `${sub}: expected hasServiceId=${value}`);
        break;
      case 'hasServerConnectionId':
        assert(value === (ev.serverConnectionId != null), `${sub}: expected hasServerConnectionId=${value}`);
        break;
      case 'commandName':
      case 'databaseName':
        assert(ev[field] === value, `${sub}: expected ${value}, got ${ev[field]}`);
        break;
      case 'newDescription':
      case 'previousDescription':
        match(value, ev[field], sub, ctx, true);
        break;
      default:
        // CMAP/SDAM fields (reason, address...) compare as plain values.
        match(value, ev[field], sub, ctx, false);
    }
  }
}

function checkEvents(expectedList, entities, ctx) {
  for (const group of expectedList) {
    const client = entities.entry(group.client, 'client');
    const category = group.eventType ?? 'command';
    const observed = client.events.filter((r) => r.category === category);
    const expected = group.events;
    const describe = () => observed.map((r) => `${r.type}(${r.event.commandName ?? ''})`).join(', ');
    if (group.ignoreExtraEvents) {
      assert(observed.length >= expected.length, `${group.client}: expected at least ${expected.length} ${category} event(s), got ${observed.length}: ${describe()}`);
    } else {
      assert(observed.length === expected.length, `${group.client}: expected ${expected.length} ${category} event(s), got ${observed.length}: ${describe()}`);
    }
    expected.forEach((e, i) => matchEvent(e, observed[i], `${group.client}.events[${i}]`, ctx));
  }
}

module.exports = { checkError, checkEvents, matchEvent, isServerError, CODE_NAMES, show };
