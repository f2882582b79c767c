'use strict';
// Access control end to end (--auth): the localhost exception, SCRAM-SHA-1 and
// SCRAM-SHA-256 logins through the Node driver and mongosh, wrong passwords (18), built-in
// roles (13 for what a role lacks; backup, restore, hostManager, clusterManager too),
// change streams per scope, cursor and session ownership, user management replies
// (usersInfo filter), saslSupportedMechs and speculativeAuthenticate in hello.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { MongoClient, Binary } = require('mongodb');
const { startBrookd } = require('./lib/brookd');

const MONGOSH = path.join(__dirname, 'node_modules', '.bin', 'mongosh');

let srv;
const clients = [];

function uri(user, pwd, extra = '') {
  const cred = user === undefined ? '' : `${encodeURIComponent(user)}:${encodeURIComponent(pwd)}@`;
  return `mongodb://${cred}127.0.0.1:${srv.port}/?directConnection=true&serverSelectionTimeoutMS=5000${extra}`;
}

async function connect(user, pwd, extra = '') {
  const c = new MongoClient(uri(user, pwd, extra));
  clients.push(c);
  await c.connect();
  return c;
}

async function rejects(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    return true;
  });
}

test.before(async () => {
  srv = await startBrookd({ args: ['--auth'] });
});

test.after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await srv?.stop();
});

test('localhost exception: before any user, only the first user on admin may be created', async () => {
  const anon = await connect();
  await anon.db('admin').command({ ping: 1 });  // allowed without login
  const hello = await anon.db('admin').command({ hello: 1 });
  assert.equal(hello.isWritablePrimary, true);
  const err = await anon.db('test').collection('c').findOne({}).catch((e) => e);
  assert.equal(err.code, 13);
  assert.match(err.message, /command find requires authentication/);
  await rejects(anon.db('test').command({ createUser: 'early', pwd: 'x', roles: [] }), 13);
  await anon.db('admin').command({ createUser: 'admin', pwd: 'adminpw', roles: ['root'] });
  // The exception closed with the first user.
  await rejects(anon.db('admin').command({ createUser: 'second', pwd: 'x', roles: ['root'] }), 13);
  await rejects(anon.db('admin').command({ listDatabases: 1 }), 13);
});

test('root logs in with SCRAM-SHA-256 and SCRAM-SHA-1 and creates users', async () => {
  for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-1']) {
    const c = await connect('admin', 'adminpw', `&authMechanism=${mech}`);
    const status = await c.db('admin').command({ connectionStatus: 1 });
    assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: 'admin', db: 'admin' }]);
    assert.deepEqual(status.authInfo.authenticatedUserRoles, [{ role: 'root', db: 'admin' }]);
  }
  const root = await connect('admin', 'adminpw');
  const test = root.db('test');
  await test.command({ createUser: 'reader', pwd: 'readpw', roles: ['read'] });
  await test.command({ createUser: 'writer', pwd: 'writepw', roles: [{ role: 'readWrite', db: 'test' }] });
  await root.db('admin').command({ createUser: 'anyreader', pwd: 'anypw', roles: ['readAnyDatabase'] });
  await root.db('admin').command({ createUser: 'sha1only', pwd: 'sha1pw', roles: ['root'], mechanisms: ['SCRAM-SHA-1'] });
  await root.db('admin').command({ createUser: 'IX', pwd: 'IX', roles: ['root'], mechanisms: ['SCRAM-SHA-256'] });
  await root.db('admin').command({ createUser: '\u2168', pwd: '\u2163', roles: ['root'], mechanisms: ['SCRAM-SHA-256'] });
  await test.collection('c').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
});

test('stored credentials have MongoDB\'s shape and configured iteration counts', async () => {
  const root = await connect('admin', 'adminpw');
  const doc = await root.db('admin').collection('system.users').findOne({ _id: 'test.reader' });
  assert.equal(doc.user, 'reader');
  assert.equal(doc.db, 'test');
  assert.equal(doc.credentials['SCRAM-SHA-1'].iterationCount, 10000);
  assert.equal(doc.credentials['SCRAM-SHA-256'].iterationCount, 15000);
  for (const k of ['salt', 'storedKey', 'serverKey']) assert.equal(typeof doc.credentials['SCRAM-SHA-256'][k], 'string');
  assert.ok(!JSON.stringify(doc).includes('readpw'));
  assert.deepEqual(doc.roles, [{ role: 'read', db: 'test' }]);
  // setParameter changes the count for new credentials.
  await root.db('admin').command({ setParameter: 1, scramSHA256IterationCount: 20000 });
  await rejects(root.db('admin').command({ setParameter: 1, scramIterationCount: 10 }), 2);
  await root.db('test').command({ createUser: 'tmp', pwd: 'tmp', roles: [] });
  const tmp = await root.db('admin').collection('system.users').findOne({ _id: 'test.tmp' });
  assert.equal(tmp.credentials['SCRAM-SHA-256'].iterationCount, 20000);
  const c = await connect('tmp', 'tmp', '&authSource=test');
  await c.db('test').command({ ping: 1 });
  await root.db('test').command({ dropUser: 'tmp' });
  await root.db('admin').command({ setParameter: 1, scramSHA256IterationCount: 15000 });
});

test('wrong password and unknown user both fail with 18 and the same message', async () => {
  const a = await connect('reader', 'nope', '&authSource=test').catch((e) => e);
  const b = await connect('ghost', 'nope', '&authSource=test').catch((e) => e);
  for (const e of [a, b]) {
    assert.equal(e.code, 18, String(e));
    assert.match(e.message, /Authentication failed/);
  }
  const sha1 = await connect('reader', 'nope', '&authSource=test&authMechanism=SCRAM-SHA-1').catch((e) => e);
  assert.equal(sha1.code, 18);
  // A user without a SCRAM-SHA-256 credential cannot use it.
  const mech = await connect('sha1only', 'sha1pw', '&authMechanism=SCRAM-SHA-256').catch((e) => e);
  assert.equal(mech.code, 18);
  await connect('sha1only', 'sha1pw', '&authMechanism=SCRAM-SHA-1');
  const log = fs.readFileSync(srv.logPath, 'utf8');
  assert.match(log, /"msg":"Authentication failed"/);
  assert.match(log, /"principalName":"ghost"/);
});

test('SASLprep: the auth spec\'s prose cases for SCRAM-SHA-256', async () => {
  for (const [user, pwd] of [['IX', 'IX'], ['IX', 'I\u00ADX'], ['\u2168', 'IV'], ['\u2168', 'I\u00ADV']]) {
    const c = await connect(user, pwd, '&authMechanism=SCRAM-SHA-256');
    await c.db('admin').command({ ping: 1 });
  }
});

test('hello: saslSupportedMechs and speculativeAuthenticate', async () => {
  const anon = await connect();
  const h1 = await anon.db('admin').command({ hello: 1, saslSupportedMechs: 'admin.sha1only' });
  assert.deepEqual(h1.saslSupportedMechs, ['SCRAM-SHA-1']);
  const h2 = await anon.db('admin').command({ hello: 1, saslSupportedMechs: 'test.reader' });
  assert.deepEqual(h2.saslSupportedMechs, ['SCRAM-SHA-1', 'SCRAM-SHA-256']);
  const h3 = await anon.db('admin').command({ hello: 1, saslSupportedMechs: 'test.nobody' });
  assert.equal(h3.saslSupportedMechs, undefined);
  const payload = new Binary(Buffer.from('n,,n=admin,r=clientnonce123'));
  const h4 = await anon.db('admin').command({
    hello: 1,
    speculativeAuthenticate: { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload, db: 'admin', options: { skipEmptyExchange: true } },
  });
  assert.equal(h4.speculativeAuthenticate.conversationId, 1);
  assert.equal(h4.speculativeAuthenticate.done, false);
  assert.match(Buffer.from(h4.speculativeAuthenticate.payload.buffer).toString(), /^r=clientnonce123.+,s=.+,i=15000$/);
  // The driver authenticates speculatively by default: its log line says so.
  await connect('admin', 'adminpw');
  assert.match(fs.readFileSync(srv.logPath, 'utf8'), /"msg":"Authentication succeeded".*"speculative":true/);
});

test('saslStart / saslContinue reply shapes and errors', async () => {
  const anon = await connect();
  const admin = anon.db('admin');
  const start = await admin.command({ saslStart: 1, mechanism: 'SCRAM-SHA-1', payload: new Binary(Buffer.from('n,,n=admin,r=abc')), autoAuthorize: 1 });
  assert.equal(start.conversationId, 1);
  assert.equal(start.done, false);
  assert.ok(start.payload instanceof Binary);
  await rejects(admin.command({ saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.from('c=biws,r=abcX,p=AAAA')) }), 18);
  await rejects(admin.command({ saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.alloc(0)) }), 17);
  await rejects(admin.command({ saslStart: 1, mechanism: 'PLAIN', payload: new Binary(Buffer.alloc(0)) }), 334);
});

test('read role: find allowed, insert denied with 13', async () => {
  const reader = await connect('reader', 'readpw', '&authSource=test');
  const c = reader.db('test').collection('c');
  assert.equal((await c.find({}).toArray()).length, 10);
  assert.equal(await c.countDocuments({}), 10);
  const err = await c.insertOne({ _id: 'x' }).catch((e) => e);
  assert.equal(err.code, 13);
  assert.match(err.message, /not authorized on test to execute command/);
  await rejects(reader.db('other').collection('c').findOne({}), 13);
  await rejects(reader.db('test').command({ dropDatabase: 1 }), 13);
  await rejects(reader.db('admin').command({ serverStatus: 1 }), 13);
  const writer = await connect('writer', 'writepw', '&authSource=test');
  await writer.db('test').collection('w').insertOne({ a: 1 });
  await writer.db('test').collection('w').updateOne({ a: 1 }, { $set: { b: 2 } });
  await rejects(writer.db('test').command({ createUser: 'x', pwd: 'x', roles: [] }), 13);
});

// Opens a change stream and forces the aggregate to run.
async function openStream(target, pipeline = []) {
  const cs = target.watch(pipeline, { maxAwaitTimeMS: 100 });
  try {
    await cs.tryNext();
    return null;
  } catch (e) {
    return e;
  } finally {
    await cs.close().catch(() => {});
  }
}

test('change streams need find+changeStream on their scope', async () => {
  const reader = await connect('reader', 'readpw', '&authSource=test');
  assert.equal(await openStream(reader.db('test').collection('c')), null);
  assert.equal(await openStream(reader.db('test')), null);
  assert.equal((await openStream(reader))?.code, 13);              // whole cluster
  assert.equal((await openStream(reader.db('other')))?.code, 13);  // another database
  const any = await connect('anyreader', 'anypw');
  assert.equal(await openStream(any), null);
  assert.equal(await openStream(any.db('other').collection('z')), null);
});

test('a change stream delivers events to its authorized reader', async () => {
  const reader = await connect('reader', 'readpw', '&authSource=test');
  const writer = await connect('writer', 'writepw', '&authSource=test');
  const cs = reader.db('test').collection('events').watch();
  await cs.tryNext();
  await writer.db('test').collection('events').insertOne({ _id: 1 });
  const ev = await cs.next();
  assert.equal(ev.operationType, 'insert');
  assert.deepEqual(ev.documentKey, { _id: 1 });
  await cs.close();
});

test('getMore and killCursors only by the cursor\'s owner', async () => {
  const reader = await connect('reader', 'readpw', '&authSource=test');
  const writer = await connect('writer', 'writepw', '&authSource=test');
  const first = await reader.db('test').command({ find: 'c', batchSize: 2 });
  const id = first.cursor.id;
  assert.ok(id > 0n || id.toString() !== '0');
  const err = await writer.db('test').command({ getMore: id, collection: 'c', batchSize: 2 }).catch((e) => e);
  assert.equal(err.code, 13);
  await rejects(writer.db('test').command({ killCursors: 'c', cursors: [id] }), 13);
  const more = await reader.db('test').command({ getMore: id, collection: 'c', batchSize: 2 });
  assert.equal(more.cursor.nextBatch.length, 2);
  const killed = await reader.db('test').command({ killCursors: 'c', cursors: [id] });
  assert.equal(killed.cursorsKilled.length, 1);
});

test('user management: usersInfo, duplicates, updates, drops', async () => {
  const root = await connect('admin', 'adminpw');
  const test = root.db('test');
  await rejects(test.command({ createUser: 'reader', pwd: 'x', roles: [] }), 51003);
  await rejects(test.command({ createUser: 'y', pwd: 'x', roles: ['noSuchRole'] }), 31);
  await rejects(test.command({ createUser: 'y', pwd: 'x' }), 40414);
  await rejects(test.command({ dropUser: 'nobody' }), 11);
  await rejects(test.command({ updateUser: 'nobody', pwd: 'x' }), 11);
  const info = await test.command({ usersInfo: 'reader' });
  assert.equal(info.users.length, 1);
  const u = info.users[0];
  assert.equal(u._id, 'test.reader');
  assert.equal(u.user, 'reader');
  assert.equal(u.db, 'test');
  assert.deepEqual(u.roles, [{ role: 'read', db: 'test' }]);
  assert.deepEqual(u.mechanisms, ['SCRAM-SHA-1', 'SCRAM-SHA-256']);
  assert.equal(u.credentials, undefined);
  assert.ok(u.userId instanceof Binary);
  const all = await test.command({ usersInfo: 1 });
  assert.deepEqual(all.users.map((x) => x.user), ['reader', 'writer']);
  const everywhere = await root.db('admin').command({ usersInfo: { forAllDBs: true } });
  assert.ok(everywhere.users.length >= 7);
  // A user may always look at itself.
  const reader = await connect('reader', 'readpw', '&authSource=test');
  assert.equal((await reader.db('test').command({ usersInfo: 'reader' })).users.length, 1);
  await rejects(reader.db('test').command({ usersInfo: 'writer' }), 13);

  await test.command({ createUser: 'temp', pwd: 'old', roles: ['read'] });
  await test.command({ updateUser: 'temp', pwd: 'new', roles: ['readWrite'] });
  const ok = await connect('temp', 'new', '&authSource=test');
  await ok.db('test').collection('t').insertOne({ a: 1 });
  assert.equal((await connect('temp', 'old', '&authSource=test').catch((e) => e)).code, 18);
  // Privileges follow updates on an open connection.
  await test.command({ updateUser: 'temp', roles: ['read'] });
  await rejects(ok.db('test').collection('t').insertOne({ a: 2 }), 13);
  await test.command({ dropUser: 'temp' });
  assert.equal((await connect('temp', 'new', '&authSource=test').catch((e) => e)).code, 18);
  const dropped = await root.db('other').command({ createUser: 'o1', pwd: 'x', roles: [] })
    .then(() => root.db('other').command({ dropAllUsersFromDatabase: 1 }));
  assert.equal(dropped.n, 1);
});

test('usersInfo filter: $match conditions on the reply documents', async () => {
  const root = await connect('admin', 'adminpw');
  const test = root.db('test');
  const names = (r) => r.users.map((x) => x.user).sort();
  assert.deepEqual(names(await test.command({ usersInfo: 1, filter: { roles: { role: 'read', db: 'test' } } })),
    ['reader']);
  assert.deepEqual(names(await test.command({ usersInfo: 1, filter: { 'roles.role': { $in: ['read', 'readWrite'] } } })),
    ['reader', 'writer']);
  const sha1 = await root.db('admin').command({ usersInfo: { forAllDBs: true }, filter: { mechanisms: ['SCRAM-SHA-1'] } });
  assert.deepEqual(names(sha1), ['sha1only']);
  assert.deepEqual(names(await test.command({ usersInfo: ['reader', 'writer'], filter: { user: 'writer' } })), ['writer']);
  await rejects(test.command({ usersInfo: 1, filter: 'reader' }), 14);
  await rejects(test.command({ usersInfo: 1, filter: { $nope: 1 } }), 2);
});

test('backup, restore, hostManager and clusterManager: allowed and denied', async () => {
  const root = await connect('admin', 'adminpw');
  for (const role of ['backup', 'restore', 'hostManager', 'clusterManager']) {
    await root.db('admin').command({ createUser: `${role}User`, pwd: 'pw', roles: [role] });
  }
  // backup: reads every database, the oplog and the user data; writes nothing.
  const backup = await connect('backupUser', 'pw');
  assert.equal((await backup.db('test').collection('c').find({}).toArray()).length, 10);
  assert.ok(await backup.db('local').collection('oplog.rs').findOne({}));
  assert.ok((await backup.db('admin').collection('system.users').find({}).toArray()).length >= 7);
  const dbs = await backup.db('admin').command({ listDatabases: 1 });
  assert.ok(dbs.databases.some((d) => d.name === 'test'));
  await backup.db('admin').command({ serverStatus: 1 });
  await rejects(backup.db('test').collection('c').insertOne({ _id: 'b' }), 13);
  await rejects(backup.db('test').command({ dropDatabase: 1 }), 13);
  await rejects(backup.db('admin').command({ setParameter: 1, cursorTimeoutMillis: 600000 }), 13);
  assert.equal((await openStream(backup.db('test').collection('c')))?.code, 13);  // no changeStream action

  // restore: creates and inserts (users too) but cannot read ordinary collections back.
  const restore = await connect('restoreUser', 'pw');
  await restore.db('restored').collection('r').insertOne({ _id: 1 });
  await restore.db('restored').collection('r').createIndex({ a: 1 });
  await restore.db('restored').command({ createUser: 'restoredUser', pwd: 'x', roles: [] });
  const cols = await restore.db('restored').command({ listCollections: 1 });
  assert.ok(cols.cursor.firstBatch.some((c) => c.name === 'r'));
  await rejects(restore.db('restored').collection('r').findOne({}), 13);
  await rejects(restore.db('restored').collection('r').deleteOne({ _id: 1 }), 13);
  await rejects(restore.db('restored').command({ dropDatabase: 1 }), 13);
  await rejects(restore.db('admin').command({ serverStatus: 1 }), 13);

  // hostManager: server management, no data.
  const host = await connect('hostManagerUser', 'pw');
  await host.db('admin').command({ setParameter: 1, cursorTimeoutMillis: 600000 });
  await host.db('admin').command({ fsync: 1 });
  await rejects(host.db('test').collection('c').findOne({}), 13);
  await rejects(host.db('admin').command({ serverStatus: 1 }), 13);
  await rejects(host.db('admin').command({ getParameter: 1, cursorTimeoutMillis: 1 }), 13);
  await rejects(host.db('admin').command({ replSetGetStatus: 1 }), 13);

  // clusterManager: replication state and the config database, no user data.
  const mgr = await connect('clusterManagerUser', 'pw');
  const rs = await mgr.db('admin').command({ replSetGetStatus: 1 });
  assert.equal(rs.ok, 1);
  await mgr.db('admin').command({ getDefaultRWConcern: 1 });
  await mgr.db('config').collection('settings').insertOne({ _id: 'fromManager' });
  assert.ok(await mgr.db('config').collection('settings').findOne({ _id: 'fromManager' }));
  await rejects(mgr.db('test').collection('c').findOne({}), 13);
  await rejects(mgr.db('admin').command({ setParameter: 1, cursorTimeoutMillis: 600000 }), 13);
  await rejects(mgr.db('admin').command({ serverStatus: 1 }), 13);

  const builtins = await root.db('admin').command({ rolesInfo: 1, showBuiltinRoles: true });
  for (const role of ['backup', 'restore', 'hostManager', 'clusterManager']) {
    assert.ok(builtins.roles.some((r) => r.role === role && r.isBuiltin), role);
  }
});

test('a logical session started by one user cannot be used by another', async () => {
  const reader = await connect('reader', 'readpw', '&authSource=test');
  const writer = await connect('writer', 'writepw', '&authSource=test');
  const mine = reader.startSession();
  assert.ok(await reader.db('test').collection('c').findOne({}, { session: mine }));
  // A driver never sends another client's lsid; forge one as a hostile client could.
  const forged = writer.startSession();
  forged.serverSession.id = { id: mine.id.id };
  const err = await writer.db('test').collection('c').findOne({}, { session: forged }).catch((e) => e);
  assert.equal(err.code, 13);
  assert.match(err.message, /started by another user/);
  await rejects(writer.db('test').collection('w').insertOne({ forged: true }, { session: forged }), 13);
  // The owner keeps using it, and the other user's own sessions work.
  assert.ok(await reader.db('test').collection('c').findOne({}, { session: mine }));
  await writer.db('test').collection('w').insertOne({ own: true });
  await mine.endSession();
  await forged.endSession();
});

test('user-defined roles: create, grant, revoke, rolesInfo, drop', async () => {
  const root = await connect('admin', 'adminpw');
  const test = root.db('test');
  await test.collection('orders').insertOne({ _id: 1 });
  await test.command({
    createRole: 'ordersReader',
    privileges: [{ resource: { db: 'test', collection: 'orders' }, actions: ['find', 'changeStream'] }],
    roles: [],
  });
  await rejects(test.command({ createRole: 'ordersReader', privileges: [], roles: [] }), 51002);
  await rejects(test.command({ createRole: 'x', privileges: [{ resource: { db: 'other', collection: '' }, actions: ['find'] }], roles: [] }), 49);
  await rejects(test.command({ createRole: 'read', privileges: [], roles: [] }), 2);
  await rejects(test.command({ grantPrivilegesToRole: 'read', privileges: [] }), 49);
  await rejects(test.command({ dropRole: 'nope' }), 31);
  await test.command({ createUser: 'narrow', pwd: 'narrowpw', roles: ['ordersReader'] });

  const narrow = await connect('narrow', 'narrowpw', '&authSource=test');
  assert.equal((await narrow.db('test').collection('orders').find().toArray()).length, 1);
  await rejects(narrow.db('test').collection('c').findOne({}), 13);
  assert.equal(await openStream(narrow.db('test').collection('orders')), null);
  assert.equal((await openStream(narrow.db('test')))?.code, 13);

  const info = await test.command({ rolesInfo: 'ordersReader', showPrivileges: true });
  assert.equal(info.roles.length, 1);
  assert.equal(info.roles[0].role, 'ordersReader');
  assert.equal(info.roles[0].isBuiltin, false);
  assert.deepEqual(info.roles[0].privileges[0].resource, { db: 'test', collection: 'orders' });
  const builtin = await test.command({ rolesInfo: 'read' });
  assert.equal(builtin.roles[0].isBuiltin, true);
  // A user may look at the roles it holds.
  assert.equal((await narrow.db('test').command({ rolesInfo: 'ordersReader' })).roles.length, 1);
  await rejects(narrow.db('test').command({ rolesInfo: 1 }), 13);

  // Grants reach the open connection.
  await test.command({ grantPrivilegesToRole: 'ordersReader', privileges: [{ resource: { db: 'test', collection: 'orders' }, actions: ['insert'] }] });
  await narrow.db('test').collection('orders').insertOne({ _id: 2 });
  await test.command({ revokePrivilegesFromRole: 'ordersReader', privileges: [{ resource: { db: 'test', collection: 'orders' }, actions: ['insert'] }] });
  await rejects(narrow.db('test').collection('orders').insertOne({ _id: 3 }), 13);
  await test.command({ grantRolesToUser: 'narrow', roles: ['readWrite'] });
  await narrow.db('test').collection('scratch').insertOne({ _id: 'n' });
  await test.command({ revokeRolesFromUser: 'narrow', roles: ['readWrite'] });
  await rejects(narrow.db('test').collection('scratch').insertOne({ _id: 'n2' }), 13);

  // listCollections: authorizedCollections + nameOnly shows what the user may use.
  const colls = await narrow.db('test').command({ listCollections: 1, nameOnly: true, authorizedCollections: true });
  assert.deepEqual(colls.cursor.firstBatch.map((c) => c.name), ['orders']);
  await rejects(narrow.db('test').command({ listCollections: 1 }), 13);
  // listDatabases without the privilege: only databases the user has privileges on.
  const dbs = await narrow.db('admin').command({ listDatabases: 1, nameOnly: true });
  assert.deepEqual(dbs.databases.map((d) => d.name), ['test']);
  await rejects(narrow.db('admin').command({ listDatabases: 1, authorizedDatabases: false }), 13);
  const all = await root.db('admin').command({ listDatabases: 1, nameOnly: true });
  assert.ok(all.databases.map((d) => d.name).includes('admin'));

  await test.command({ dropRole: 'ordersReader' });
  await rejects(narrow.db('test').collection('orders').findOne({}), 13);
  const after = await test.command({ usersInfo: 'narrow' });
  assert.deepEqual(after.users[0].roles, []);
});

function mongosh(args) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-auth-mongosh-'));
  fs.writeFileSync(path.join(home, 'mongosh.conf'), 'mongosh:\n  forceDisableTelemetry: true\n  updateURL: ""\n');
  const env = {
    ...process.env,
    HOME: home,
    MONGOSH_FORCE_DISABLE_TELEMETRY_FOR_TESTING: '1',
    MONGOSH_GLOBAL_CONFIG_FILE_FOR_TESTING: path.join(home, 'mongosh.conf'),
  };
  return new Promise((resolve) => {
    execFile(MONGOSH, [...args, '--quiet', '--norc'], { env, timeout: 60000 }, (err, stdout, stderr) => {
      fs.rmSync(home, { recursive: true, force: true });
      resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr });
    });
  });
}

test('mongosh logs in with both mechanisms and is refused a wrong password', async () => {
  for (const mech of ['SCRAM-SHA-1', 'SCRAM-SHA-256']) {
    const r = await mongosh([uri('reader', 'readpw', `&authSource=test&authMechanism=${mech}`), '--eval',
      'print("COUNT " + db.getSiblingDB("test").c.countDocuments({}))']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /COUNT 10/);
  }
  const bad = await mongosh([uri('reader', 'wrong', '&authSource=test'), '--eval', 'print("NOPE")']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /Authentication failed/);
  const denied = await mongosh([uri('reader', 'readpw', '&authSource=test'), '--eval',
    'try { db.getSiblingDB("test").c.insertOne({_id: "m"}) } catch (e) { print("CODE " + e.code) }']);
  assert.match(denied.stdout, /CODE 13/);
});

test('mongosh user and role helpers', async () => {
  const script = [
    'const t = db.getSiblingDB("shelltest");',
    't.createUser({user: "sh", pwd: "shpw", roles: ["read"]});',
    'print("USERS " + t.getUsers().users.map(u => u.user).join(","));',
    't.changeUserPassword("sh", "shpw2");',
    't.grantRolesToUser("sh", ["readWrite"]);',
    'print("ROLES " + t.getUser("sh").roles.map(r => r.role).sort().join(","));',
    't.createRole({role: "r1", privileges: [{resource: {db: "shelltest", collection: "x"}, actions: ["find"]}], roles: []});',
    'print("ROLE " + t.getRole("r1", {showPrivileges: true}).privileges.length);',
    'print("AUTH " + t.auth("sh", "shpw2").ok);',
    'print("WHO " + t.runCommand({connectionStatus: 1}).authInfo.authenticatedUsers[0].user);',
    'db.getSiblingDB("admin").logout();',
    'try { t.getUsers() } catch (e) { print("AFTERLOGOUT " + e.code) }',
    'db.getSiblingDB("admin").auth("admin", "adminpw");',
    'print("DROP " + t.dropUser("sh").ok);',
  ].join('\n');
  const file = path.join(os.tmpdir(), `brook-auth-${process.pid}.js`);
  fs.writeFileSync(file, script);
  try {
    const r = await mongosh([uri('admin', 'adminpw'), '--file', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /USERS sh/);
    assert.match(r.stdout, /ROLES read,readWrite/);
    assert.match(r.stdout, /ROLE 1/);
    assert.match(r.stdout, /AUTH 1/);
    assert.match(r.stdout, /WHO sh/);
    assert.match(r.stdout, /AFTERLOGOUT 13/);
    assert.match(r.stdout, /DROP 1/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

