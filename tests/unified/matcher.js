'use strict';
// "Evaluating Matches" from the unified test format spec: expected values (parsed from
// canonical/relaxed Extended JSON) against actual driver values.
//
// match(expected, actual, { entities, isRoot }) throws MatchError whose message names the
// path of the first mismatch, e.g. "$.documents[1].x: expected 2, got 3".
//
// Numbers compare by value across int32/int64/double (not Decimal128); root-level
// documents may carry extra keys, nested ones may not; key order never matters.
const { BSON } = require('./deps').mongodb;

const { EJSON, Int32, Double, Long, Decimal128, Binary, BSONRegExp } = BSON;

class MatchError extends Error {}

function fail(path, msg) {
  throw new MatchError(`${path}: ${msg}`);
}

function show(v) {
  if (v === undefined) return 'undefined (missing)';
  try {
    return EJSON.stringify(v, { relaxed: true });
  } catch {
    return String(v);
  }
}

function isNumeric(v) {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof Int32 || v instanceof Double || v instanceof Long;
}

// Numbers as a comparable pair: bigint for exact integers, number otherwise.
function numValue(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v;
  if (v instanceof Long) return v.toBigInt();
  return v.valueOf();
}

function numEquals(a, b) {
  const x = numValue(a);
  const y = numValue(b);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x === y;
  if (typeof x === 'bigint') return Number.isInteger(y) ? x === BigInt(y) : false;
  if (typeof y === 'bigint') return Number.isInteger(x) ? BigInt(x) === y : false;
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  return x === y;
}

function numLte(a, b) {
  const x = numValue(a);
  const y = numValue(b);
  if (typeof x === 'bigint' || typeof y === 'bigint') {
    const bx = typeof x === 'bigint' ? x : BigInt(Math.floor(x));
    const by = typeof y === 'bigint' ? y : BigInt(Math.ceil(y));
    return bx <= by;
  }
  return x <= y;
}

// A plain document (not a BSON value class, array, Date, Buffer...).
function isDocument(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if (v._bsontype !== undefined) return false;
  if (v instanceof Date || v instanceof RegExp || Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return false;
  return true;
}

function isOperator(v) {
  if (!isDocument(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0].startsWith('$$');
}

// BSON type names as used by the $type query operator.
function bsonTypeNames(v) {
  if (v === undefined) return [];
  if (v === null) return ['null'];
  if (typeof v === 'string') return ['string'];
  if (typeof v === 'boolean') return ['bool'];
  // Drivers promote int32/int64/double to a JS number, so an integral number may have
  // been any of them on the wire; accept all three rather than guess.
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return ['double', 'number'];
    const names = ['long', 'double', 'number'];
    if (v >= -2147483648 && v <= 2147483647) names.unshift('int');
    return names;
  }
  if (typeof v === 'bigint') return ['long', 'number'];
  if (Array.isArray(v)) return ['array'];
  if (v instanceof Date) return ['date'];
  if (v instanceof RegExp) return ['regex'];
  if (Buffer.isBuffer(v)) return ['binData'];
  switch (v._bsontype) {
    case 'Int32': return ['int', 'number'];
    case 'Double': return ['double', 'number'];
    case 'Long': return ['long', 'number'];
    case 'Decimal128': return ['decimal', 'number'];
    case 'ObjectId': return ['objectId'];
    case 'Binary': return ['binData'];
    case 'Timestamp': return ['timestamp'];
    case 'BSONRegExp': return ['regex'];
    case 'Code': return v.scope ? ['javascriptWithScope'] : ['javascript'];
    case 'BSONSymbol': return ['symbol'];
    case 'MinKey': return ['minKey'];
    case 'MaxKey': return ['maxKey'];
    case 'DBRef': return ['object'];
    case 'DBPointer': return ['dbPointer'];
    default: break;
  }
  if (isDocument(v)) return ['object'];
  return [];
}

// Canonical EJSON with object keys sorted, so values that embed documents (CodeWScope,
// DBRef) compare regardless of key order.
function canonical(v) {
  const sortKeys = (x) => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (x && typeof x === 'object') {
      const out = {};
      for (const k of Object.keys(x).sort()) out[k] = sortKeys(x[k]);
      return out;
    }
    return x;
  };
  return JSON.stringify(sortKeys(EJSON.serialize(normalizeScalar(v), { relaxed: false })));
}

// Driver-returned JS values and EJSON-parsed values use different classes for the same
// BSON type (RegExp vs BSONRegExp, Buffer vs Binary); bring them to one form.
function normalizeScalar(v) {
  if (v instanceof RegExp) return new BSONRegExp(v.source, v.flags.split('').sort().join(''));
  if (v instanceof BSONRegExp) return new BSONRegExp(v.pattern, v.options.split('').sort().join(''));
  if (Buffer.isBuffer(v)) return new Binary(v);
  return v;
}

function scalarEquals(expected, actual) {
  if (isNumeric(expected) && isNumeric(actual)) return numEquals(expected, actual);
  if (isNumeric(expected) !== isNumeric(actual)) return false;
  if (expected === null || actual === null) return expected === actual;
  if (typeof expected !== 'object' || typeof actual !== 'object') return expected === actual;
  if (expected instanceof Decimal128 || actual instanceof Decimal128) {
    return expected instanceof Decimal128 && actual instanceof Decimal128 && expected.toString() === actual.toString();
  }
  return canonical(expected) === canonical(actual);
}

function lookupEntity(ctx, name, path) {
  if (!ctx.entities) fail(path, `no entity map to resolve ${name}`);
  return ctx.entities.get(name);
}

// Special operators that may stand in for a whole value. `present` says whether the key
// existed in the parent document (matters for $$exists/$$unsetOrMatches).
function matchOperator(op, arg, actual, present, path, ctx, isRoot) {
  switch (op) {
    case '$$exists':
      if (arg && !present) fail(path, 'expected field to exist');
      if (!arg && present) fail(path, `expected field to be absent, got ${show(actual)}`);
      return;
    case '$$unsetOrMatches':
      if (!present || actual === undefined) return;
      return match(arg, actual, path, ctx, isRoot);
    case '$$type': {
      if (!present || actual === undefined) fail(path, `expected a value of type ${JSON.stringify(arg)}, field is missing`);
      const wanted = Array.isArray(arg) ? arg : [arg];
      const names = bsonTypeNames(actual);
      if (!wanted.some((t) => names.includes(t))) fail(path, `expected type ${wanted.join('|')}, got ${names.join('|') || typeof actual} (${show(actual)})`);
      return;
    }
    case '$$matchesEntity': {
      const ent = lookupEntity(ctx, arg, path);
      return match(ent, actual, path, ctx, isRoot);
    }
    case '$$matchesHexBytes': {
      if (typeof arg !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(arg)) throw new Error(`malformed $$matchesHexBytes ${arg}`);
      const bytes = actual instanceof Binary ? Buffer.from(actual.buffer) : Buffer.isBuffer(actual) ? actual : null;
      if (!bytes) fail(path, `expected bytes, got ${show(actual)}`);
      if (bytes.toString('hex') !== arg.toLowerCase()) fail(path, `expected bytes ${arg}, got ${bytes.toString('hex')}`);
      return;
    }
    case '$$sessionLsid': {
      const lsid = ctx.entities ? ctx.entities.sessionLsid(arg) : undefined;
      if (!lsid) throw new Error(`$$sessionLsid: ${arg} is not a session entity`);
      if (!present) fail(path, `expected lsid of ${arg}, field is missing`);
      return match(lsid, actual, path, { ...ctx }, false);
    }
    case '$$lte':
      if (!present || !isNumeric(actual)) fail(path, `expected a number <= ${show(arg)}, got ${show(actual)}`);
      if (!numLte(actual, arg)) fail(path, `expected <= ${show(arg)}, got ${show(actual)}`);
      return;
    case '$$matchAsDocument': {
      if (typeof actual !== 'string') fail(path, `expected an Extended JSON string, got ${show(actual)}`);
      let parsed;
      try {
        parsed = EJSON.parse(actual, { relaxed: false });
      } catch (e) {
        fail(path, `actual is not Extended JSON: ${e.message}`);
      }
      // Spec: the parsed value is NOT root-level unless $$matchAsRoot says so.
      return match(arg, parsed, path, ctx, false);
    }
    case '$$matchAsRoot':
      return match(arg, actual, path, ctx, true);
    case '$$placeholder':
      throw new Error(`$$placeholder cannot be matched at ${path}`);
    default:
      throw new Error(`unknown special operator ${op} at ${path}`);
  }
}

// The driver keeps some command fields as Maps (e.g. find's sort) to preserve key order;
// for matching they are documents.
const asDoc = (v) => (v instanceof Map ? Object.fromEntries(v) : v);

function match(expected, actual, path = '$', ctx = {}, isRoot = false) {
  actual = asDoc(actual);
  if (isOperator(expected)) {
    const op = Object.keys(expected)[0];
    return matchOperator(op, expected[op], actual, actual !== undefined, path, ctx, isRoot);
  }
  if (isDocument(expected)) {
    if (!isDocument(actual)) fail(path, `expected a document, got ${show(actual)}`);
    for (const [key, value] of Object.entries(expected)) {
      const sub = `${path}.${key}`;
      const present = Object.prototype.hasOwnProperty.call(actual, key) && actual[key] !== undefined;
      if (isOperator(value)) {
        const op = Object.keys(value)[0];
        matchOperator(op, value[op], present ? actual[key] : undefined, present, sub, ctx, false);
        continue;
      }
      if (!present) fail(sub, `expected ${show(value)}, field is missing`);
      match(value, actual[key], sub, ctx, false);
    }
    if (!isRoot) {
      const extra = Object.keys(actual).filter((k) => actual[k] !== undefined && !Object.prototype.hasOwnProperty.call(expected, k));
      if (extra.length) fail(path, `unexpected extra field(s) ${extra.join(', ')} in nested document ${show(actual)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) fail(path, `expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length) fail(path, `expected ${expected.length} element(s), got ${actual.length}: ${show(actual)}`);
    expected.forEach((v, i) => match(v, actual[i], `${path}[${i}]`, ctx, false));
    return;
  }
  if (!scalarEquals(expected, actual)) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
}

// Like match() for a list of root-level documents (find/aggregate results).
function matchRootList(expected, actual, ctx = {}) {
  if (isOperator(expected)) return match(expected, actual, '$', ctx, true);
  if (!Array.isArray(expected)) return match(expected, actual, '$', ctx, true);
  if (!Array.isArray(actual)) fail('$', `expected an array, got ${show(actual)}`);
  if (actual.length !== expected.length) fail('$', `expected ${expected.length} document(s), got ${actual.length}: ${show(actual)}`);
  expected.forEach((v, i) => match(v, actual[i], `$[${i}]`, ctx, true));
}

// Exact comparison for test.outcome: same keys and values, any key order, flexible numbers.
function exactEquals(expected, actual, path = '$') {
  actual = asDoc(actual);
  if (isDocument(expected)) {
    if (!isDocument(actual)) fail(path, `expected a document, got ${show(actual)}`);
    const ek = Object.keys(expected).sort();
    const ak = Object.keys(actual).filter((k) => actual[k] !== undefined).sort();
    if (ek.join('\0') !== ak.join('\0')) fail(path, `expected fields [${ek}], got [${ak}] in ${show(actual)}`);
    for (const k of ek) exactEquals(expected[k], actual[k], `${path}.${k}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    expected.forEach((v, i) => exactEquals(v, actual[i], `${path}[${i}]`));
    return;
  }
  if (!scalarEquals(expected, actual)) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
}

module.exports = { match, matchRootList, exactEquals, MatchError, isDocument, isOperator, bsonTypeNames, show, numEquals };
