'use strict';
// Value conversion between test-file Extended JSON and driver arguments.
//
// Test files are parsed with EJSON relaxed:false so documents keep their exact BSON
// types (1 stays int32, 1.0 stays double, $numberLong stays int64) when inserted or sent.
// Driver *options* (limit, batchSize, upsert, maxTimeMS, sort...) must be plain JS values,
// so plain() unwraps numeric wrappers everywhere except inside the document-valued
// arguments listed in DOCUMENT_ARGS.
const { mongodb } = require('./deps');

const { ReadPreference, BSON } = mongodb;

// Arguments whose value is user data sent to the server verbatim.
const DOCUMENT_ARGS = new Set([
  'filter', 'update', 'replacement', 'document', 'documents', 'pipeline', 'let', 'command',
  'arrayFilters', 'comment', 'validator', 'failPoint', 'resumeAfter', 'startAfter',
  'startAtOperationTime', 'min', 'max', 'query',
]);

function plain(v) {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plain);
  switch (v._bsontype) {
    case 'Int32':
    case 'Double':
      return v.valueOf();
    case 'Long':
      return v.toNumber();
    case undefined:
      break;
    default:
      return v;
  }
  if (v instanceof Date || Buffer.isBuffer(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x);
  return out;
}

// Converts an operation's arguments: document-valued ones keep their BSON types.
function convertArgs(args = {}) {
  const out = {};
  for (const [k, v] of Object.entries(args)) out[k] = DOCUMENT_ARGS.has(k) ? v : plain(v);
  return out;
}

function readPreference(rp) {
  if (!rp) return rp;
  const p = plain(rp);
  const opts = {};
  if (p.maxStalenessSeconds !== undefined) opts.maxStalenessSeconds = p.maxStalenessSeconds;
  if (p.hedge !== undefined) opts.hedge = p.hedge;
  return new ReadPreference(p.mode, p.tagSets, opts);
}

// EJSON parse used for every test file.
function parseTestFile(text) {
  return BSON.EJSON.parse(text, { relaxed: false });
}

module.exports = { plain, convertArgs, readPreference, parseTestFile, DOCUMENT_ARGS };
