'use strict';
// Secure defaults and limits (issue 5 §4): each limit is hit on purpose, the client that
// hit it gets a clear error (or, where the protocol leaves no room for one, a closed
// connection and a log line), and every other client goes on being served.
//
//   bind            non-loopback without --auth refuses to start unless --insecure
//   maxConns        the connection over the limit is closed, the others served
//   2,000 idle      connections held open while CRUD and a change stream keep working
//   message size    --maxMessageSizeBytes: BSONObjectTooLarge, the connection survives
//   slow sender     messageReceiveTimeoutMillis ends a half-sent message, not an idle one
//   idle cursors    cursorTimeoutMillis: the reaper kills them, getMore gets 43
//   change streams  maxOpenChangeStreams: the stream over the limit is refused
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const { MongoClient, BSON } = require('mongodb');
const { startBrookd, brookdPath, freePort } = require('./lib/brookd');
const { exchange, opMsg } = require('./lib/wire');

const DB = 'limits_e2e';
const IDLE_CONNECTIONS = 2000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Node cannot call setrlimit itself; util-linux prlimit can raise our soft limit on
// open files up to the hard one, which 2,000 client sockets may need.
function ensureFileLimit(needed) {
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output=SOFT,HARD', '--noheadings'],
      { encoding: 'utf8' }).trim().split(/\s+/);
    const [soft, hard] = out.map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    if (soft >= needed) return soft;
    const target = Math.min(hard, Math.max(needed, 4096));
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${Number.isFinite(hard) ? hard : 'unlimited'}`]);
    return target;
  } catch (e) {
    return 0;  // unknown: the test then reports EMFILE itself if it happens
  }
}

// A plain TCP connection; resolves once connected.
function connectRaw(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

// Resolves true when the server closes `socket` within `ms` (without sending anything).
function closedWithin(socket, ms) {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

// Sends `payload` on an open socket and resolves with the first whole reply document.
function request(socket, payload, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('no reply')), timeoutMs);
    const onData = (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= data.readInt32LE(0)) {
        const len = data.readInt32LE(0);
        // OP_MSG reply: header (16), flags (4), kind byte (1), then the body.
        finish(null, BSON.deserialize(data.subarray(21, len)));
      }
    };
    const onClose = () => finish(new Error('closed'));
    function finish(err, doc) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(doc);
    }
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(payload);
  });
}

async function withServer(options, fn) {
  const srv = await startBrookd(options);
  const client = new MongoClient(srv.directUri, { serverSelectionTimeoutMS: 10000, maxPoolSize: 4 });
  try {
    await client.connect();
    await fn(srv, client);
  } finally {
    await client.close();
    await srv.stop();
  }
}

test('a non-loopback address needs --auth, or --insecure on purpose', async () => {
  const dbpath = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-limits-bind-'));
  try {
    const r = spawnSync(brookdPath(), ['--bind_ip', '0.0.0.0', '--port', '0', '--dbpath', dbpath],
      { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2, `brookd started on 0.0.0.0 without --auth: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /without access control/);
    assert.match(r.stderr, /--auth/);
    assert.match(r.stderr, /--insecure/);
    const all = spawnSync(brookdPath(), ['--bind_ip_all', '--port', '0', '--dbpath', dbpath],
      { encoding: 'utf8', timeout: 20000 });
    assert.equal(all.status, 2);
    // The YAML config follows the same rule as the flags.
    const config = path.join(dbpath, 'open.yaml');
    fs.writeFileSync(config, 'net:\n  bindIp: 0.0.0.0\n  port: 0\n');
    const yaml = spawnSync(brookdPath(), ['--config', config, '--dbpath', dbpath], { encoding: 'utf8', timeout: 20000 });
    assert.equal(yaml.status, 2, `started from a config binding 0.0.0.0 without auth: ${yaml.stdout}${yaml.stderr}`);
    assert.match(yaml.stderr, /without access control/);
  } finally {
    fs.rmSync(dbpath, { recursive: true, force: true });
  }

  // --insecure: starts, serves, and says what it is doing.
  const srv = await startBrookd({ args: ['--bind_ip_all', '--insecure'] });
  try {
    assert.ok(await (async () => { const r = await exchange(srv.port, opMsg({ ping: 1, $db: 'admin' })); return r.replies[0]?.doc.ok === 1; })());
    assert.match(srv.log(), /non-loopback address without access control/);
  } finally {
    await srv.stop();
  }
  // --auth: starts without complaint.
  const authed = await startBrookd({ args: ['--bind_ip_all', '--auth'] });
  try {
    assert.doesNotMatch(authed.log(), /non-loopback address without access control/);
  } finally {
    await authed.stop();
  }
});

test('--bind_ip takes a list of loopback addresses without needing --auth', async () => {
  const dbpath = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-limits-list-'));
  const port = await freePort();
  // startBrookd passes its own --bind_ip, so this server is started by hand.
  const proc = spawn(brookdPath(), ['--bind_ip', 'localhost, 127.0.0.2', '--port', String(port), '--dbpath', dbpath],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  try {
    for (let i = 0; i < 200 && !/Waiting for connections/.test(output); i++) await sleep(50);
    assert.match(output, /Waiting for connections/, output);
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      const r = await exchange(port, opMsg({ hello: 1, $db: 'admin' }), { host });
      assert.equal(r.replies[0]?.doc.ok, 1, `no hello on ${host}: ${JSON.stringify(r)}`);
      // The first address of the list stands for the server.
      assert.equal(r.replies[0].doc.me, `localhost:${port}`);
    }
  } finally {
    proc.kill('SIGTERM');
    await exited;
    fs.rmSync(dbpath, { recursive: true, force: true });
  }
});

test('maxConns: the connection over the limit is closed, everyone else served', async () => {
  await withServer({ args: ['--maxConns', '12'] }, async (srv, client) => {
    const coll = client.db(DB).collection('maxconns');
    await coll.insertOne({ before: true });
    const status = await client.db('admin').command({ serverStatus: 1 });
    const available = status.connections.available;
    assert.ok(available > 0 && available < 12, JSON.stringify(status.connections));

    const held = [];
    try {
      for (let i = 0; i < available; i++) held.push(await connectRaw(srv.port));
      // Every slot is taken: the next connection is closed at once.
      const extra = await connectRaw(srv.port);
      assert.ok(await closedWithin(extra, 5000), 'the connection over maxConns was not closed');
      // A held connection is still served.
      const pong = await request(held[0], opMsg({ ping: 1, $db: 'admin' }));
      assert.equal(pong.ok, 1);
      // And so is the driver, on the connections it already had.
      assert.equal(await coll.countDocuments({ before: true }), 1);
      assert.match(srv.log(), /Connection refused because there are too many open connections/);
    } finally {
      for (const s of held) s.destroy();
    }
    // Slots free up again once connections end.
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      const r = await exchange(srv.port, opMsg({ ping: 1, $db: 'admin' }));
      ok = r.replies[0]?.doc.ok === 1;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, 'no new connection accepted after the held ones closed');
  });
});

// CPU seconds a process has used (utime + stime from /proc/<pid>/stat).
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // clock ticks; 100 on Linux
}

test('out of file descriptors: accepting pauses, held connections are served, then it recovers', async () => {
  // A hard limit far below maxConns: the operating system, not brookd, refuses first.
  const srv = await startBrookd({ wrap: ['prlimit', '--nofile=150:150', '--'] });
  const held = await connectRaw(srv.port);
  const flood = [];
  try {
    assert.match(srv.log(), /too low for maxConns/);
    for (let i = 0; i < 250; i++) {
      const s = net.connect({ host: '127.0.0.1', port: srv.port });
      s.on('error', () => {});
      flood.push(s);
    }
    await sleep(500);
    // While accept fails with EMFILE the listener must not spin: it pauses.
    const before = cpuSeconds(srv.proc.pid);
    await sleep(3000);
    const used = cpuSeconds(srv.proc.pid) - before;
    assert.ok(used < 0.5, `brookd used ${used} s of CPU in 3 s while out of descriptors`);
    const pong = await request(held, opMsg({ ping: 1, $db: 'admin' }));
    assert.equal(pong.ok, 1);
    const pauses = (srv.log().match(/pausing new connections/g) ?? []).length;
    assert.ok(pauses >= 1 && pauses <= 5, `${pauses} "pausing" log lines`);
  } finally {
    for (const s of flood) s.destroy();
    held.destroy();
  }
  try {
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      const r = await exchange(srv.port, opMsg({ ping: 1, $db: 'admin' }));
      ok = r.replies[0]?.doc.ok === 1;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, 'no new connection accepted once descriptors were free again');
  } finally {
    await srv.stop();
  }
});

test(`${IDLE_CONNECTIONS} idle connections while the server keeps serving`, { timeout: 180000 }, async () => {
  const limit = ensureFileLimit(IDLE_CONNECTIONS + 500);
  assert.ok(limit === 0 || limit >= IDLE_CONNECTIONS + 100, `cannot raise the open-file limit (${limit})`);
  await withServer({}, async (srv, client) => {
    const coll = client.db(DB).collection('idle');
    const stream = coll.watch();
    await stream.tryNext();  // the change stream's cursor is open before the load
    const idle = [];
    try {
      // In batches, so the listen backlog is never the bottleneck.
      while (idle.length < IDLE_CONNECTIONS) {
        const batch = [];
        for (let i = 0; i < 200 && idle.length + batch.length < IDLE_CONNECTIONS; i++) batch.push(connectRaw(srv.port));
        idle.push(...(await Promise.all(batch)));
      }
      // Half of them have spoken once (a handshake, as a pooled driver connection has);
      // the rest never sent a byte.
      const hellos = await Promise.all(idle.filter((_, i) => i % 2 === 0).map((s) => request(s, opMsg({ hello: 1, $db: 'admin' }), 30000)));
      assert.ok(hellos.every((h) => h.ok === 1));
      const status = await client.db('admin').command({ serverStatus: 1 });
      assert.ok(status.connections.current >= IDLE_CONNECTIONS, JSON.stringify(status.connections));

      // The server keeps serving: writes, reads, and a change stream event, with every
      // idle connection still open.
      for (let i = 0; i < 20; i++) await coll.insertOne({ i });
      assert.equal(await coll.countDocuments({}), 20);
      const ev = await stream.next();
      assert.equal(ev.operationType, 'insert');
      assert.equal(ev.fullDocument.i, 0);
      const fresh = await exchange(srv.port, opMsg({ ping: 1, $db: 'admin' }));
      assert.equal(fresh.replies[0]?.doc.ok, 1);
      assert.ok(idle.every((s) => !s.destroyed), 'an idle connection was dropped');
    } finally {
      await stream.close();
      for (const s of idle) s.destroy();
    }
    // They all go away again.
    let current = Infinity;
    for (let i = 0; i < 100 && current > 50; i++) {
      await sleep(100);
      current = (await client.db('admin').command({ serverStatus: 1 })).connections.current;
    }
    assert.ok(current <= 50, `connections still open after closing the idle ones: ${current}`);
  });
});

test('maxMessageSizeBytes: a larger message gets BSONObjectTooLarge, the connection survives', async () => {
  const MAX = 64 * 1024;
  await withServer({ args: ['--maxMessageSizeBytes', String(MAX)] }, async (srv, client) => {
    const hello = await client.db('admin').command({ hello: 1 });
    assert.equal(hello.maxMessageSizeBytes, MAX);

    // Raw: one oversized message, then a normal one on the same connection.
    const s = await connectRaw(srv.port);
    try {
      const big = opMsg({ insert: 'big', documents: [{ pad: 'x'.repeat(MAX) }], $db: DB });
      const refused = await request(s, big);
      assert.equal(refused.ok, 0);
      assert.equal(refused.code, 10334);
      assert.equal(refused.codeName, 'BSONObjectTooLarge');
      assert.match(refused.errmsg, /maxMessageSizeBytes/);
      const pong = await request(s, opMsg({ ping: 1, $db: 'admin' }));
      assert.equal(pong.ok, 1, 'the connection did not survive the oversized message');
    } finally {
      s.destroy();
    }

    // A fire-and-forget (moreToCome) oversized message cannot be answered: closed.
    const f = await connectRaw(srv.port);
    f.write(opMsg({ insert: 'big', documents: [{ pad: 'x'.repeat(MAX) }], $db: DB }, { flags: 2 }));
    assert.ok(await closedWithin(f, 5000), 'an unanswerable oversized message left the connection open');

    // Through the driver: a document, or a batch, too big for one message is refused
    // with the same clear error, and the client goes on working.
    const coll = client.db(DB).collection('big');
    for (const attempt of [
      () => coll.insertOne({ pad: 'y'.repeat(2 * MAX) }),
      () => coll.insertMany(Array.from({ length: 40 }, (_, i) => ({ i, pad: 'z'.repeat(4096) }))),
    ]) {
      await assert.rejects(attempt(), (err) => {
        assert.equal(err.code, 10334, err.message);
        assert.match(err.message, /maxMessageSizeBytes/);
        return true;
      });
    }
    await coll.insertMany(Array.from({ length: 5 }, (_, i) => ({ i, pad: 'z'.repeat(4096) })));
    assert.equal(await coll.countDocuments({ i: { $gte: 0 } }), 5);
    assert.match(srv.log(), /Refused a message larger than maxMessageSizeBytes/);
  });
});

test('the limits from a YAML config agree with the flags', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-limits-yaml-'));
  const config = path.join(dir, 'brookd.yaml');
  fs.writeFileSync(config, [
    'net:',
    '  bindIpAll: true',  // the command line's --bind_ip (from startBrookd) wins
    '  maxIncomingConnections: 77',
    '  maxMessageSizeBytes: 8192',
    '  ioThreads: 3',
    'setParameter:',
    '  maxOpenChangeStreams: 1',
    '  messageReceiveTimeoutMillis: 700',
    '',
  ].join('\n'));
  try {
    await withServer({ args: ['--config', config] }, async (srv, client) => {
      const admin = client.db('admin');
      const hello = await admin.command({ hello: 1 });
      assert.equal(hello.maxMessageSizeBytes, 8192);
      const opts = await admin.command({ getCmdLineOpts: 1 });
      assert.equal(opts.parsed.net.bindIp, '127.0.0.1');
      assert.equal(opts.parsed.net.maxIncomingConnections, 77);
      assert.equal(opts.parsed.net.ioThreads, 3);
      // Connections are pinned to the 3 threads round robin: 7 more, all served at once.
      const extra = await Promise.all(Array.from({ length: 7 }, () => new MongoClient(srv.directUri, { serverSelectionTimeoutMS: 10000 }).connect()));
      try {
        const pings = await Promise.all(extra.map((c) => c.db('admin').command({ ping: 1 })));
        assert.ok(pings.every((p) => p.ok === 1));
      } finally {
        await Promise.all(extra.map((c) => c.close()));
      }
      const status = await admin.command({ serverStatus: 1 });
      assert.equal(status.connections.current + status.connections.available, 77);
      const params = await admin.command({ getParameter: 1, maxOpenChangeStreams: 1, messageReceiveTimeoutMillis: 1 });
      assert.equal(params.maxOpenChangeStreams, 1);
      assert.equal(params.messageReceiveTimeoutMillis, 700);
      // No listener on a non-loopback address was opened without --auth/--insecure.
      assert.doesNotMatch(srv.log(), /non-loopback address without access control/);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a half-sent message times out; an idle connection does not', async () => {
  await withServer({ args: ['--setParameter', 'messageReceiveTimeoutMillis=500'] }, async (srv, client) => {
    const idle = await connectRaw(srv.port);
    const slow = await connectRaw(srv.port);
    const slowBody = await connectRaw(srv.port);
    try {
      const hello = opMsg({ hello: 1, $db: 'admin' });
      slow.write(hello.subarray(0, 10));  // part of the header, then nothing
      slowBody.write(hello.subarray(0, hello.length - 3));  // all but the last bytes
      const t0 = Date.now();
      const [a, b] = await Promise.all([closedWithin(slow, 10000), closedWithin(slowBody, 10000)]);
      assert.ok(a && b, 'a stalled message did not end its connection');
      assert.ok(Date.now() - t0 >= 300, 'closed before the timeout could have run');
      // Meanwhile, and after, everyone else is served, including the connection that
      // stayed idle longer than the timeout: only a message begun and not finished counts.
      assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
      const reply = await request(idle, hello);
      assert.equal(reply.ok, 1);
      assert.match(srv.log(), /did not arrive in full within messageReceiveTimeoutMillis/);
    } finally {
      idle.destroy();
      slow.destroy();
      slowBody.destroy();
    }
  });
});

test('idle cursors are reaped after cursorTimeoutMillis; getMore then gets CursorNotFound', async () => {
  await withServer({ args: ['--setParameter', 'clientCursorMonitorFrequencySecs=1'] }, async (srv, client) => {
    const db = client.db(DB);
    await db.collection('cursors').insertMany(Array.from({ length: 100 }, (_, i) => ({ i })));
    const admin = client.db('admin');
    const before = (await admin.command({ serverStatus: 1 })).metrics.cursor.timedOut;
    // The default is MongoDB's ten minutes; lowered at runtime, as an operator would.
    const was = await admin.command({ setParameter: 1, cursorTimeoutMillis: 1500 });
    assert.equal(was.was, 600000);

    const open = async () => (await db.command({ find: 'cursors', batchSize: 2 })).cursor.id;
    const idleId = await open();
    const busyId = await open();
    const csId = (await db.command({ aggregate: 'cursors', pipeline: [{ $changeStream: {} }], cursor: {} })).cursor.id;
    // busy is used every 400 ms, so it never goes idle long enough.
    for (let t = 0; t < 10; t++) {
      await sleep(400);
      await db.command({ getMore: busyId, collection: 'cursors', batchSize: 1 });
    }
    for (const id of [idleId, csId]) {
      await assert.rejects(db.command({ getMore: id, collection: 'cursors' }), (err) => {
        assert.equal(err.code, 43);
        assert.equal(err.codeName, 'CursorNotFound');
        return true;
      });
    }
    const after = (await admin.command({ serverStatus: 1 })).metrics.cursor.timedOut;
    assert.ok(after - before >= 2, `timedOut went from ${before} to ${after}`);
    await admin.command({ setParameter: 1, cursorTimeoutMillis: 600000 });
  });
});

test('maxOpenChangeStreams: the stream over the limit is refused, the others keep working', async () => {
  await withServer({}, async (srv, client) => {
    const admin = client.db('admin');
    const db = client.db(DB);
    await admin.command({ setParameter: 1, maxOpenChangeStreams: 3 });
    const openStream = async () => (await db.command({ aggregate: 'streams', pipeline: [{ $changeStream: {} }], cursor: {} })).cursor.id;
    const ids = [await openStream(), await openStream(), await openStream()];
    await assert.rejects(openStream(), (err) => {
      assert.equal(err.code, 96);
      assert.match(err.message, /too many open change streams/);
      assert.match(err.message, /maxOpenChangeStreams/);
      return true;
    });
    // Through the driver the same error reaches the application (not retried as a
    // resumable error).
    const refusedStream = db.collection('streams').watch();
    await assert.rejects(refusedStream.tryNext(), /too many open change streams/);
    await refusedStream.close();
    // The refused ones left no slot taken, and the open ones still deliver.
    await db.collection('streams').insertOne({ x: 1 });
    let got = 0;
    for (let i = 0; i < 50 && got === 0; i++) {
      const r = await db.command({ getMore: ids[0], collection: 'streams', maxTimeMS: 200 });
      got = r.cursor.nextBatch.length;
    }
    assert.equal(got, 1);
    // Other commands are untouched by the limit.
    assert.equal(await db.collection('streams').countDocuments({}), 1);
    // Closing a stream frees its slot; a driver's watch() then works again.
    await db.command({ killCursors: 'streams', cursors: [ids[0]] });
    const stream = db.collection('streams').watch();
    await stream.tryNext();
    await db.collection('streams').insertOne({ x: 2 });
    const ev = await stream.next();
    assert.equal(ev.fullDocument.x, 2);
    await stream.close();
    await admin.command({ setParameter: 1, maxOpenChangeStreams: 10000 });
  });
});
