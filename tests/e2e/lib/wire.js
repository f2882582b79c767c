'use strict';
// Hand-built wire protocol frames and a minimal reader, for tests that must talk to
// brookd below the driver: the readiness probe in brookd.js and the hostile-input
// suite. BSON encoding comes from the `bson` package the mongodb driver ships.
const net = require('node:net');
const tls = require('node:tls');
const { BSON } = require('mongodb');

const OP_MSG = 2013;
const OP_QUERY = 2004;
const OP_REPLY = 1;

let nextRequestId = 1;

// Header: int32 messageLength, requestID, responseTo, opCode (all little-endian).
function frame(opCode, payload, { requestId = nextRequestId++, responseTo = 0, lengthOverride } = {}) {
  const header = Buffer.alloc(16);
  header.writeInt32LE(lengthOverride ?? 16 + payload.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, payload]);
}

// OP_MSG with flagBits and one kind-0 section. `body` is a document or pre-encoded bytes,
// so callers can inject malformed BSON.
function opMsg(body, { flags = 0, ...frameOpts } = {}) {
  const bytes = Buffer.isBuffer(body) ? body : BSON.serialize(body);
  const flagBuf = Buffer.alloc(4);
  flagBuf.writeUInt32LE(flags >>> 0, 0);
  return frame(OP_MSG, Buffer.concat([flagBuf, Buffer.from([0]), bytes]), frameOpts);
}

// OP_MSG with an explicit section list: { kind: 0, doc } and { kind: 1, id, docs }.
// Documents may be objects or raw BSON buffers.
function opMsgSections(sections, { flags = 0, ...frameOpts } = {}) {
  const enc = (d) => (Buffer.isBuffer(d) ? d : Buffer.from(BSON.serialize(d)));
  const parts = [];
  const flagBuf = Buffer.alloc(4);
  flagBuf.writeUInt32LE(flags >>> 0, 0);
  parts.push(flagBuf);
  for (const s of sections) {
    if (s.kind === 0) {
      parts.push(Buffer.from([0]), enc(s.doc));
    } else {
      const id = Buffer.from(s.id + '\0', 'utf8');
      const docs = Buffer.concat(s.docs.map(enc));
      const size = Buffer.alloc(4);
      size.writeInt32LE(4 + id.length + docs.length, 0);
      parts.push(Buffer.from([1]), size, id, docs);
    }
  }
  return frame(OP_MSG, Buffer.concat(parts), frameOpts);
}

// Legacy OP_QUERY (used by old drivers' handshake): flags, cstring ns, skip, return, query.
function opQuery(ns, query, frameOpts = {}) {
  const head = Buffer.alloc(4);
  const nsBuf = Buffer.from(ns + '\0', 'utf8');
  const nums = Buffer.alloc(8);
  nums.writeInt32LE(0, 0);
  nums.writeInt32LE(-1, 4);
  return frame(OP_QUERY, Buffer.concat([head, nsBuf, nums, BSON.serialize(query)]), frameOpts);
}

// Parses one complete reply frame (OP_MSG or OP_REPLY) into { opCode, responseTo, doc }.
function parseReply(buf) {
  const opCode = buf.readInt32LE(12);
  const responseTo = buf.readInt32LE(8);
  if (opCode === OP_MSG) {
    // flagBits(4) then section kind byte; brookd replies use a single kind-0 section.
    if (buf[20] !== 0) throw new Error(`unexpected OP_MSG section kind ${buf[20]}`);
    return { opCode, responseTo, doc: BSON.deserialize(buf.subarray(21)) };
  }
  if (opCode === OP_REPLY) {
    // responseFlags(4) cursorID(8) startingFrom(4) numberReturned(4) then documents.
    return { opCode, responseTo, doc: BSON.deserialize(buf.subarray(36)) };
  }
  throw new Error(`unexpected reply opCode ${opCode}`);
}

// Connects, optionally writes `payload`, and collects whole reply frames. Resolves with
// { replies, closed, timedOut, error } and never rejects, so hostile tests can inspect
// whatever the server did (answer, close, or stay silent).
// tlsOptions (optional): node tls.connect options ({ ca, cert, key, servername }) to talk
// over TLS instead of plain TCP.
function exchange(port, payload, { host = '127.0.0.1', timeoutMs = 3000, expectReplies = 1, endAfterWrite = false, tlsOptions } = {}) {
  return new Promise((resolve) => {
    const socket = tlsOptions ? tls.connect({ host, port, ...tlsOptions }) : net.connect({ host, port });
    let data = Buffer.alloc(0);
    const replies = [];
    let settled = false;
    const finish = (extra) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed: false, timedOut: false, error: null, ...extra });
    };
    const timer = setTimeout(() => finish({ timedOut: true }), timeoutMs);
    socket.on(tlsOptions ? 'secureConnect' : 'connect', () => {
      if (payload) socket.write(payload);
      if (endAfterWrite) socket.end();
    });
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 4) {
        const len = data.readInt32LE(0);
        if (len < 16 || data.length < len) break;
        try {
          replies.push(parseReply(data.subarray(0, len)));
        } catch (e) {
          return finish({ error: e });
        }
        data = data.subarray(len);
        if (replies.length >= expectReplies) return finish({});
      }
    });
    socket.on('close', () => finish({ closed: true }));
    socket.on('error', (e) => finish({ error: e, closed: true }));
  });
}

// True when a fresh connection answers an OP_MSG hello with ok: 1.
async function helloOk(port, opts = {}) {
  const r = await exchange(port, opMsg({ hello: 1, $db: 'admin' }), opts);
  return r.replies.length > 0 && r.replies[0].doc.ok === 1 ? r.replies[0].doc : null;
}

module.exports = { OP_MSG, OP_QUERY, OP_REPLY, frame, opMsg, opMsgSections, opQuery, parseReply, exchange, helloOk };
