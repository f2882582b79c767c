#!/usr/bin/env node
'use strict';
// A deliberately small in-memory stand-in for brookd, used ONLY by the self-tests of the
// test infrastructure (tests/unified/selftest.test.js): it lets the harness, the unified
// runner and the crash test's bookkeeping be exercised before, and independently of, the
// real server. It is not a reference for behaviour: brookd follows MongoDB, not this.
//
// Same flags as brookd (--port, --bind_ip, --dbpath; others ignored). Speaks OP_MSG and
// the OP_QUERY handshake. State (collections, indexes, oplog) is rewritten to
// <dbpath>/fake-state.json synchronously before each write is acknowledged, so SIGKILL
// loses nothing acknowledged.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { BSON } = require(require.resolve('mongodb', { paths: [path.join(__dirname, '..')] }));

const { Long, Timestamp, EJSON, ObjectId } = BSON;

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const PORT = Number(flag('--port', '27017'));
const HOST = flag('--bind_ip', '127.0.0.1');
const DBPATH = flag('--dbpath', './data');
const STATE = path.join(DBPATH, 'fake-state.json');

// ---- state ------------------------------------------------------------------------
// colls: "db.coll" -> { docs: [], indexes: [{ key, name, unique }] }
let state = { colls: {}, oplog: [], clock: 0 };
if (fs.existsSync(STATE)) state = EJSON.parse(fs.readFileSync(STATE, 'utf8'), { relaxed: false });

// FAKE_BROOKD_UNSAFE=1 acknowledges writes before they reach disk (saved 300 ms later),
// so the self-tests can prove the crash test notices lost writes.
const UNSAFE = process.env.FAKE_BROOKD_UNSAFE === '1';
let pendingSave = null;

function persist() {
  if (UNSAFE) {
    pendingSave ??= setTimeout(() => {
      pendingSave = null;
      persistNow();
    }, 300);
    return;
  }
  persistNow();
}

function persistNow() {
  const tmp = STATE + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, EJSON.stringify(state, { relaxed: false }));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, STATE);
}

function coll(ns, create) {
  if (!state.colls[ns] && create) state.colls[ns] = { docs: [], indexes: [{ key: { _id: 1 }, name: '_id_' }] };
  return state.colls[ns];
}

function oplog(op, ns, o, o2) {
  state.clock++;
  const entry = { ts: new Timestamp({ t: 1700000000, i: state.clock }), t: Long.fromNumber(1), op, ns, o };
  if (o2) entry.o2 = o2;
  state.oplog.push(entry);
}

// ---- values -----------------------------------------------------------------------
const isNum = (v) => typeof v === 'number' || (v && ['Int32', 'Double', 'Long'].includes(v._bsontype));
const num = (v) => (typeof v === 'number' ? v : Number(v.valueOf ? v.valueOf() : v));
const plain = (v) => (isNum(v) ? num(v) : v);

function cmp(a, b) {
  if (isNum(a) && isNum(b)) return num(a) - num(b);
  const ka = JSON.stringify(EJSON.serialize(a ?? null));
  const kb = JSON.stringify(EJSON.serialize(b ?? null));
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
const eq = (a, b) => cmp(a, b) === 0;

function getPath(doc, p) {
  let cur = doc;
  for (const part of p.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[part];
  }
  return cur;
}

function setPath(doc, p, value) {
  const parts = p.split('.');
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part];
  }
  cur[parts[parts.length - 1]] = value;
}

// ---- query ------------------------------------------------------------------------
function matchValue(actual, cond) {
  if (cond && typeof cond === 'object' && !cond._bsontype && !Array.isArray(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
    return Object.entries(cond).every(([op, arg]) => {
      const any = (f) => (Array.isArray(actual) ? actual.some(f) || f(actual) : f(actual));
      switch (op) {
        case '$eq': return any((x) => eq(x, arg));
        case '$ne': return !any((x) => eq(x, arg));
        case '$gt': return actual !== undefined && any((x) => cmp(x, arg) > 0);
        case '$gte': return actual !== undefined && any((x) => cmp(x, arg) >= 0);
        case '$lt': return actual !== undefined && any((x) => cmp(x, arg) < 0);
        case '$lte': return actual !== undefined && any((x) => cmp(x, arg) <= 0);
        case '$in': return arg.some((v) => any((x) => eq(x, v)));
        case '$nin': return !arg.some((v) => any((x) => eq(x, v)));
        case '$exists': return (actual !== undefined) === Boolean(plain(arg));
        default: throw cmdError(2, 'BadValue', `unknown operator: ${op}`);
      }
    });
  }
  if (Array.isArray(actual) && !Array.isArray(cond)) return actual.some((x) => eq(x, cond));
  if (actual === undefined) return cond === null;
  return eq(actual, cond);
}

function matches(doc, filter = {}) {
  return Object.entries(filter).every(([k, v]) => {
    if (k === '$and') return v.every((f) => matches(doc, f));
    if (k === '$or') return v.some((f) => matches(doc, f));
    if (k === '$nor') return !v.some((f) => matches(doc, f));
    return matchValue(getPath(doc, k), v);
  });
}

function sortDocs(docs, sort) {
  if (!sort || Object.keys(sort).length === 0) return docs;
  const keys = Object.entries(sort);
  return [...docs].sort((a, b) => {
    for (const [k, dir] of keys) {
      const c = cmp(getPath(a, k), getPath(b, k));
      if (c !== 0) return num(dir) < 0 ? -c : c;
    }
    return 0;
  });
}

function project(doc, proj) {
  if (!proj || Object.keys(proj).length === 0) return doc;
  const inc = Object.entries(proj).filter(([k, v]) => k !== '_id' && (v === true || (isNum(v) && num(v) !== 0)));
  if (inc.length > 0) {
    const out = {};
    if (!('_id' in proj) || plain(proj._id)) out._id = doc._id;
    for (const [k] of inc) if (getPath(doc, k) !== undefined) setPath(out, k, getPath(doc, k));
    return out;
  }
  const out = structuredCloneDoc(doc);
  for (const k of Object.keys(proj)) delete out[k];
  return out;
}

const structuredCloneDoc = (d) => BSON.deserialize(BSON.serialize(d), { promoteValues: false });

// ---- updates ----------------------------------------------------------------------
function applyUpdate(doc, update) {
  if (Array.isArray(update)) throw cmdError(2, 'BadValue', 'pipeline updates are not supported by the fake');
  const keys = Object.keys(update);
  if (!keys.some((k) => k.startsWith('$'))) return { _id: doc._id, ...update };
  const out = structuredCloneDoc(doc);
  for (const [op, fields] of Object.entries(update)) {
    for (const [f, v] of Object.entries(fields)) {
      switch (op) {
        case '$set': setPath(out, f, v); break;
        case '$unset': setPath(out, f, undefined); delete out[f]; break;
        case '$inc': setPath(out, f, (num(getPath(out, f) ?? 0) + num(v))); break;
        case '$push': { const arr = getPath(out, f) ?? []; arr.push(v); setPath(out, f, arr); break; }
        default: throw cmdError(9, 'FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
      }
    }
  }
  return out;
}

function checkUnique(ns, doc, ignore) {
  const c = coll(ns, false);
  for (const idx of c.indexes) {
    if (!(idx.unique || idx.name === '_id_')) continue;
    const key = (d) => JSON.stringify(EJSON.serialize(Object.keys(idx.key).map((k) => plain(getPath(d, k)) ?? null)));
    const mine = key(doc);
    if (c.docs.some((d) => d !== ignore && key(d) === mine)) {
      return { code: 11000, errmsg: `E11000 duplicate key error collection: ${ns} index: ${idx.name} dup key: ${mine}` };
    }
  }
  return null;
}

// ---- commands ---------------------------------------------------------------------
class CmdError extends Error {}
function cmdError(code, codeName, errmsg) {
  const e = new CmdError(errmsg);
  Object.assign(e, { code, codeName });
  return e;
}

const cursors = new Map();
let nextCursor = 1;
let failPoint = null;

function cursorReply(ns, docs, batchSize, first = true) {
  const n = batchSize === undefined || batchSize === 0 ? 101 : num(batchSize);
  const batch = docs.slice(0, n);
  const rest = docs.slice(n);
  let id = Long.ZERO;
  if (rest.length) {
    id = Long.fromNumber(nextCursor++);
    cursors.set(id.toString(), { ns, docs: rest });
  }
  return { cursor: { [first ? 'firstBatch' : 'nextBatch']: batch, id, ns }, ok: 1 };
}

function aggregate(docs, pipeline) {
  let out = docs;
  for (const stage of pipeline) {
    const [name, arg] = Object.entries(stage)[0];
    switch (name) {
      case '$match': out = out.filter((d) => matches(d, arg)); break;
      case '$sort': out = sortDocs(out, arg); break;
      case '$skip': out = out.slice(num(arg)); break;
      case '$limit': out = out.slice(0, num(arg)); break;
      case '$project': out = out.map((d) => project(d, arg)); break;
      case '$count': out = [{ [arg]: out.length }]; break;
      case '$group': {
        const groups = new Map();
        for (const d of out) {
          const id = typeof arg._id === 'string' && arg._id.startsWith('$') ? getPath(d, arg._id.slice(1)) ?? null : arg._id;
          const k = JSON.stringify(EJSON.serialize({ id }));
          if (!groups.has(k)) groups.set(k, { _id: id, docs: [] });
          groups.get(k).docs.push(d);
        }
        out = [...groups.values()].map((g) => {
          const r = { _id: g._id };
          for (const [f, acc] of Object.entries(arg)) {
            if (f === '_id') continue;
            const [op, e] = Object.entries(acc)[0];
            if (op !== '$sum') throw cmdError(2, 'BadValue', `fake: unsupported accumulator ${op}`);
            r[f] = g.docs.reduce((s, d) => s + num(typeof e === 'string' ? getPath(d, e.slice(1)) ?? 0 : e), 0);
          }
          return r;
        });
        break;
      }
      default: throw cmdError(2, 'BadValue', `fake: unsupported stage ${name}`);
    }
  }
  return out;
}

const collDocs = (ns) => (ns === 'local.oplog.rs' ? state.oplog : coll(ns, false)?.docs ?? []);

const commands = {
  hello: (c) => helloReply(c),
  ismaster: (c) => helloReply(c),
  ping: () => ({ ok: 1 }),
  buildinfo: () => ({ version: '7.0.0', versionArray: [7, 0, 0, 0], ok: 1 }),
  endsessions: () => ({ ok: 1 }),
  killallsessions: () => ({ ok: 1 }),
  getparameter: () => ({ ok: 1 }),
  configurefailpoint: (c) => {
    failPoint = c.mode === 'off' ? null : { ...c.data, times: c.mode?.times !== undefined ? num(c.mode.times) : Infinity };
    return { ok: 1 };
  },
  insert: (c, db) => {
    const ns = `${db}.${c.insert}`;
    coll(ns, true);
    const writeErrors = [];
    let n = 0;
    for (const [i, d] of (c.documents ?? []).entries()) {
      const doc = d._id === undefined ? { _id: new ObjectId(), ...d } : d;
      const dup = checkUnique(ns, doc);
      if (dup) {
        writeErrors.push({ index: i, ...dup });
        if (c.ordered !== false) break;
        continue;
      }
      coll(ns, true).docs.push(doc);
      oplog('i', ns, doc);
      n++;
    }
    persist();
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  },
  find: (c, db) => {
    const ns = `${db}.${c.find}`;
    let docs = sortDocs(collDocs(ns).filter((d) => matches(d, c.filter)), c.sort);
    if (c.skip) docs = docs.slice(num(c.skip));
    if (c.limit && num(c.limit) !== 0) docs = docs.slice(0, Math.abs(num(c.limit)));
    return cursorReply(ns, docs.map((d) => project(d, c.projection)), c.batchSize);
  },
  getmore: (c, db) => {
    const cur = cursors.get(String(c.getMore));
    if (!cur) throw cmdError(43, 'CursorNotFound', `cursor id ${c.getMore} not found`);
    cursors.delete(String(c.getMore));
    return cursorReply(cur.ns ?? `${db}.${c.collection}`, cur.docs, c.batchSize, false);
  },
  killcursors: (c) => {
    for (const id of c.cursors ?? []) cursors.delete(String(id));
    return { cursorsKilled: c.cursors ?? [], cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  },
  update: (c, db) => {
    const ns = `${db}.${c.update}`;
    let n = 0;
    let nModified = 0;
    const upserted = [];
    const writeErrors = [];
    for (const [i, u] of c.updates.entries()) {
      const cl = coll(ns, true);
      const targets = cl.docs.filter((d) => matches(d, u.q));
      const chosen = u.multi ? targets : targets.slice(0, 1);
      try {
        for (const d of chosen) {
          const next = applyUpdate(d, u.u);
          const dup = checkUnique(ns, next, d);
          if (dup) throw Object.assign(cmdError(dup.code, 'DuplicateKey', dup.errmsg));
          n++;
          if (JSON.stringify(EJSON.serialize(next)) !== JSON.stringify(EJSON.serialize(d))) {
            cl.docs[cl.docs.indexOf(d)] = next;
            nModified++;
            oplog('u', ns, Object.keys(u.u).some((k) => k.startsWith('$')) ? { $v: 2, diff: { u: u.u.$set ?? {} } } : next, { _id: d._id });
          }
        }
        if (chosen.length === 0 && u.upsert) {
          const base = {};
          for (const [k, v] of Object.entries(u.q ?? {})) if (!k.startsWith('$') && (v === null || typeof v !== 'object' || v._bsontype)) base[k] = v;
          const doc = applyUpdate(base, u.u);
          if (doc._id === undefined) doc._id = base._id ?? new ObjectId();
          cl.docs.push(doc);
          oplog('i', ns, doc);
          upserted.push({ index: i, _id: doc._id });
          n++;
        }
      } catch (e) {
        if (!(e instanceof CmdError)) throw e;
        writeErrors.push({ index: i, code: e.code, errmsg: e.message });
        if (c.ordered !== false) break;
      }
    }
    persist();
    const r = { n, nModified, ok: 1 };
    if (upserted.length) r.upserted = upserted;
    if (writeErrors.length) r.writeErrors = writeErrors;
    return r;
  },
  delete: (c, db) => {
    const ns = `${db}.${c.delete}`;
    let n = 0;
    const cl = coll(ns, false);
    for (const d of c.deletes) {
      if (!cl) break;
      const targets = cl.docs.filter((x) => matches(x, d.q));
      for (const t of num(d.limit) === 1 ? targets.slice(0, 1) : targets) {
        cl.docs.splice(cl.docs.indexOf(t), 1);
        oplog('d', ns, { _id: t._id });
        n++;
      }
    }
    persist();
    return { n, ok: 1 };
  },
  findandmodify: (c, db) => {
    const ns = `${db}.${c.findAndModify}`;
    const cl = coll(ns, true);
    const target = sortDocs(cl.docs.filter((d) => matches(d, c.query)), c.sort)[0];
    let value = target ?? null;
    if (c.remove) {
      if (target) cl.docs.splice(cl.docs.indexOf(target), 1);
    } else if (target) {
      const next = applyUpdate(target, c.update);
      cl.docs[cl.docs.indexOf(target)] = next;
      if (c.new) value = next;
    } else if (c.upsert) {
      const next = applyUpdate({}, c.update);
      if (next._id === undefined) next._id = c.query?._id ?? new ObjectId();
      cl.docs.push(next);
      if (c.new) value = next;
    }
    persist();
    return { lastErrorObject: { n: target ? 1 : 0, updatedExisting: Boolean(target && !c.remove) }, value: value && project(value, c.fields), ok: 1 };
  },
  aggregate: (c, db) => {
    const ns = `${db}.${c.aggregate}`;
    return cursorReply(ns, aggregate(collDocs(ns), c.pipeline), c.cursor?.batchSize);
  },
  count: (c, db) => ({ n: collDocs(`${db}.${c.count}`).filter((d) => matches(d, c.query)).length, ok: 1 }),
  distinct: (c, db) => {
    const vals = [];
    for (const d of collDocs(`${db}.${c.distinct}`).filter((x) => matches(x, c.query))) {
      const v = getPath(d, c.key);
      for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && !vals.some((y) => eq(x, y))) vals.push(x);
    }
    return { values: vals, ok: 1 };
  },
  create: (c, db) => {
    const ns = `${db}.${c.create}`;
    if (coll(ns, false)) throw cmdError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
    coll(ns, true);
    persist();
    return { ok: 1 };
  },
  drop: (c, db) => {
    delete state.colls[`${db}.${c.drop}`];
    persist();
    return { ok: 1 };
  },
  dropdatabase: (c, db) => {
    for (const ns of Object.keys(state.colls)) if (ns.startsWith(`${db}.`)) delete state.colls[ns];
    persist();
    return { ok: 1 };
  },
  listcollections: (c, db) => {
    const names = Object.keys(state.colls).filter((ns) => ns.startsWith(`${db}.`)).map((ns) => ns.slice(db.length + 1));
    const docs = names.map((name) => ({ name, type: 'collection', options: {}, info: { readOnly: false } })).filter((d) => matches(d, c.filter));
    return cursorReply(`${db}.$cmd.listCollections`, docs, c.cursor?.batchSize);
  },
  listindexes: (c, db) => {
    const cl = coll(`${db}.${c.listIndexes}`, false);
    if (!cl) throw cmdError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${c.listIndexes}`);
    return cursorReply(`${db}.${c.listIndexes}`, cl.indexes.map((i) => ({ v: 2, ...i })), c.cursor?.batchSize);
  },
  createindexes: (c, db) => {
    const cl = coll(`${db}.${c.createIndexes}`, true);
    for (const spec of c.indexes) if (!cl.indexes.some((i) => i.name === spec.name)) cl.indexes.push(spec);
    persist();
    return { ok: 1 };
  },
  dropindexes: (c, db) => {
    const cl = coll(`${db}.${c.dropIndexes}`, false);
    if (!cl || !cl.indexes.some((i) => i.name === c.index)) throw cmdError(27, 'IndexNotFound', `index not found with name [${c.index}]`);
    cl.indexes = cl.indexes.filter((i) => i.name !== c.index);
    persist();
    return { ok: 1 };
  },
  listdatabases: () => {
    const dbs = [...new Set(Object.keys(state.colls).map((ns) => ns.split('.')[0]))];
    return { databases: dbs.map((name) => ({ name, sizeOnDisk: 1, empty: false })), totalSize: 1, ok: 1 };
  },
};

function helloReply(c) {
  return {
    ...(c.hello !== undefined ? { isWritablePrimary: true } : { ismaster: true }),
    topologyVersion: { processId: new ObjectId('000000000000000000000001'), counter: Long.ZERO },
    hosts: [`${HOST}:${PORT}`],
    setName: 'rs0',
    setVersion: 1,
    secondary: false,
    primary: `${HOST}:${PORT}`,
    me: `${HOST}:${PORT}`,
    electionId: new ObjectId('7fffffff0000000000000001'),
    lastWrite: { opTime: { ts: new Timestamp({ t: 1700000000, i: state.clock }), t: Long.fromNumber(1) } },
    maxBsonObjectSize: 16777216,
    maxMessageSizeBytes: 48000000,
    maxWriteBatchSize: 100000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: 1,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

function run(cmd) {
  const name = Object.keys(cmd)[0];
  const db = cmd.$db ?? 'admin';
  if (failPoint && failPoint.times > 0 && (failPoint.failCommands ?? []).includes(name)) {
    failPoint.times--;
    if (failPoint.closeConnection) return 'close';
    const r = { ok: 0, code: failPoint.errorCode ?? 8, codeName: 'FailPoint', errmsg: `Failing command ${name} via failCommand failpoint` };
    if (failPoint.errorLabels) r.errorLabels = failPoint.errorLabels;
    if (failPoint.times === 0) failPoint = null;
    return r;
  }
  const handler = commands[String(name).toLowerCase()];
  if (!handler) return { ok: 0, code: 59, codeName: 'CommandNotFound', errmsg: `no such command: '${name}'` };
  try {
    return handler(cmd, db);
  } catch (e) {
    if (e instanceof CmdError) return { ok: 0, code: e.code, codeName: e.codeName, errmsg: e.message };
    return { ok: 0, code: 1, codeName: 'InternalError', errmsg: String(e.stack) };
  }
}

// ---- wire -------------------------------------------------------------------------
let replyCounter = 0;
function reply(socket, requestId, opCode, doc) {
  const body = BSON.serialize(doc);
  let payload;
  if (opCode === 2013) payload = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body]);
  else {
    payload = Buffer.alloc(20);
    payload.writeInt32LE(1, 16);
    payload = Buffer.concat([payload, body]);
  }
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + payload.length, 0);
  header.writeInt32LE((replyCounter = (replyCounter + 1) & 0x7fffffff), 4);
  header.writeInt32LE(requestId, 8);
  header.writeInt32LE(opCode === 2013 ? 2013 : 1, 12);
  socket.write(Buffer.concat([header, payload]));
}

function handleMessage(socket, msg) {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  let cmd;
  try {
    if (opCode === 2013) {
      const flags = msg.readUInt32LE(16);
      if (flags & 0xfffe) throw new Error('unknown required flag bits');
      let off = 20;
      while (off < msg.length) {
        const kind = msg[off++];
        if (kind === 0) {
          const len = msg.readInt32LE(off);
          if (cmd) throw new Error('two body sections');
          cmd = BSON.deserialize(msg.subarray(off, off + len), { promoteValues: false, validation: { utf8: true } });
          off += len;
        } else if (kind === 1) {
          const size = msg.readInt32LE(off);
          const end = off + size;
          if (end > msg.length) throw new Error('section size past message end');
          const idEnd = msg.indexOf(0, off + 4);
          const id = msg.toString('utf8', off + 4, idEnd);
          const docs = [];
          for (let p = idEnd + 1; p < end;) {
            const l = msg.readInt32LE(p);
            if (l > 16 * 1024 * 1024 + 16 * 1024) throw Object.assign(new Error(`BSONObj size: ${l} is invalid`), { code: 10334 });
            docs.push(BSON.deserialize(msg.subarray(p, p + l), { promoteValues: false }));
            p += l;
          }
          (cmd ??= {})[id] = docs;
          off = end;
        } else {
          throw new Error(`unknown section kind ${kind}`);
        }
      }
      if (!cmd) throw new Error('no body section');
    } else if (opCode === 2004) {
      const nsEnd = msg.indexOf(0, 20);
      const off = nsEnd + 1 + 8;
      cmd = BSON.deserialize(msg.subarray(off, off + msg.readInt32LE(off)));
    } else {
      socket.destroy();
      return;
    }
  } catch (e) {
    reply(socket, requestId, 2013, { ok: 0, code: e.code ?? 22, codeName: e.code === 10334 ? 'BSONObjectTooLarge' : 'InvalidBSON', errmsg: e.message });
    return;
  }
  const r = run(cmd);
  if (r === 'close') socket.destroy();
  else reply(socket, requestId, opCode, r);
}

const server = net.createServer((socket) => {
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const len = buf.readInt32LE(0);
      if (len < 16 || len > 48000000) return socket.destroy();
      if (buf.length < len) return;
      const msg = buf.subarray(0, len);
      buf = buf.subarray(len);
      handleMessage(socket, msg);
    }
  });
  socket.on('error', () => {});
});
server.listen(PORT, HOST, () => console.log(`fake brookd listening on ${HOST}:${PORT}, dbpath ${DBPATH}`));
process.on('SIGTERM', () => process.exit(0));
