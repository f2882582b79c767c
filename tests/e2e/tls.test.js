'use strict';
// TLS end to end (issue 5 §3): certificates made at test time with the openssl CLI
// (lib/certs.js), then the node driver and mongosh connect with tls=true.
//
//   allowTLS, no CA file          TLS and plain clients on one port
//   requireTLS + CA file          a client certificate signed by the CA is required;
//                                 plain, certificate-less and foreign-CA clients refused
//   requireTLS + CA + allowConnectionsWithoutCertificates (from a YAML config)
//                                 a certificate is optional, but a foreign one is refused
//   disabled (the default)        a TLS client is refused, plain clients served
// After every refusal the server still serves its legitimate clients.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { MongoClient } = require('mongodb');
const { startBrookd, brookdPath } = require('./lib/brookd');
const { makeCerts } = require('./lib/certs');
const { exchange, opMsg } = require('./lib/wire');
const { Mongosh } = require('./lib/mongosh');
const DB = 'tls_e2e';

let certs;
let mongosh;

test.before(() => {
  certs = makeCerts();
  mongosh = new Mongosh('brook-tls-mongosh-home-');
});

test.after(() => {
  certs?.cleanup();
  mongosh?.close();
});

const uriOf = (srv) => `mongodb://localhost:${srv.port}/?directConnection=true`;

function client(srv, options = {}) {
  return new MongoClient(uriOf(srv), { serverSelectionTimeoutMS: 4000, ...options });
}

// Connects, writes, reads back and closes; resolves with the document read.
async function roundTrip(srv, options, tag) {
  const c = client(srv, options);
  try {
    await c.connect();
    const coll = c.db(DB).collection('docs');
    await coll.insertOne({ tag });
    return await coll.findOne({ tag }, { projection: { _id: 0 } });
  } finally {
    await c.close();
  }
}

// The connection attempt fails (server selection gives up, or the handshake errors).
async function assertRefused(srv, options, what) {
  await assert.rejects(roundTrip(srv, { ...options, serverSelectionTimeoutMS: 1500 }, 'refused'), undefined,
    `${what} was accepted`);
}

const tlsWithCa = () => ({ tls: true, tlsCAFile: certs.ca });
const tlsWithClientCert = () => ({ tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.client });

test('allowTLS: TLS and plain clients share one port', async () => {
  const srv = await startBrookd({ args: ['--tlsMode', 'allowTLS', '--tlsCertificateKeyFile', certs.server] });
  try {
    assert.deepEqual(await roundTrip(srv, tlsWithCa(), 'over-tls'), { tag: 'over-tls' });
    assert.deepEqual(await roundTrip(srv, {}, 'plain'), { tag: 'plain' });

    // A change stream over TLS sees a write made by a plain client.
    const tlsClient = client(srv, tlsWithCa());
    const plain = client(srv);
    try {
      await tlsClient.connect();
      await plain.connect();
      const stream = tlsClient.db(DB).collection('events').watch();
      await stream.tryNext();  // opens the cursor
      await plain.db(DB).collection('events').insertOne({ n: 1 });
      const ev = await stream.next();
      assert.equal(ev.operationType, 'insert');
      assert.equal(ev.fullDocument.n, 1);
      await stream.close();
    } finally {
      await tlsClient.close();
      await plain.close();
    }

    // Plain messages whose first bytes look like a TLS record (lengths 278 = 0x116 and
    // 790 = 0x316 start with 0x16, 0x16 0x03) are still read as messages.
    for (const length of [278, 790]) {
      const base = opMsg({ ping: 1, pad: '', $db: 'admin' }).length;
      const msg = opMsg({ ping: 1, pad: 'x'.repeat(length - base), $db: 'admin' });
      assert.equal(msg.length, length);
      const r = await exchange(srv.port, msg);
      assert.equal(r.replies[0]?.doc.ok, 1, `a ${length}-byte plain message was not served: ${JSON.stringify(r)}`);
    }

    // Without the CA the driver rejects the server's certificate: the server is not
    // trusted by accident.
    await assertRefused(srv, { tls: true }, 'a TLS client that does not trust the CA');

    const log = srv.log();
    assert.match(log, /TLS connection established/);
    assert.match(log, /"ssl":true/);
  } finally {
    await srv.stop();
  }
});

test('requireTLS with a CA file: client certificate required, everyone else refused', async () => {
  const srv = await startBrookd({
    args: ['--tlsMode', 'requireTLS', '--tlsCertificateKeyFile', certs.server, '--tlsCAFile', certs.ca],
    probeTls: { ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.client), key: fs.readFileSync(certs.client), servername: 'localhost' },
  });
  try {
    assert.deepEqual(await roundTrip(srv, tlsWithClientCert(), 'with-cert'), { tag: 'with-cert' });

    await assertRefused(srv, {}, 'a plain client');
    await assertRefused(srv, tlsWithCa(), 'a TLS client without a certificate');
    await assertRefused(srv, { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.rogueClient },
      'a client certificate from another CA');

    // The plain client is told why, in a reply its driver can show.
    const r = await exchange(srv.port, opMsg({ hello: 1, $db: 'admin' }));
    assert.equal(r.replies.length, 1, `no reply to a plain hello: ${JSON.stringify(r)}`);
    assert.equal(r.replies[0].doc.ok, 0);
    assert.match(r.replies[0].doc.errmsg, /requires TLS/);

    // Everyone legitimate is still served.
    assert.deepEqual(await roundTrip(srv, tlsWithClientCert(), 'after'), { tag: 'after' });
    const log = srv.log();
    assert.match(log, /Refused a connection without TLS/);
    assert.match(log, /peer did not return a certificate/);
    assert.match(log, /certificate verify failed/);
    assert.match(log, /"peerSubject":"[^"]*CN=brook-test-client/);
  } finally {
    await srv.stop();
  }
});

test('mongosh connects with tls=true and a client certificate', async () => {
  const srv = await startBrookd({
    args: ['--tlsMode', 'requireTLS', '--tlsCertificateKeyFile', certs.server, '--tlsCAFile', certs.ca],
    probeTls: { ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.client), key: fs.readFileSync(certs.client), servername: 'localhost' },
  });
  try {
    const tlsUri = `${uriOf(srv)}&tls=true&tlsCAFile=${encodeURIComponent(certs.ca)}` +
      `&tlsCertificateKeyFile=${encodeURIComponent(certs.client)}`;
    const ok = await mongosh.run(tlsUri, `
      db.getSiblingDB('${DB}').shell.insertOne({ from: 'mongosh' });
      print('FOUND ' + db.getSiblingDB('${DB}').shell.countDocuments({ from: 'mongosh' }));
    `);
    assert.equal(ok.code, 0, `mongosh failed: ${ok.stderr}\n${ok.stdout}`);
    assert.match(ok.stdout, /FOUND 1/);

    // Without TLS mongosh cannot get in.
    const plain = await mongosh.run(uriOf(srv) + '&serverSelectionTimeoutMS=2000', 'print("CONNECTED")');
    assert.notEqual(plain.code, 0);
    assert.doesNotMatch(plain.stdout, /CONNECTED/);
  } finally {
    await srv.stop();
  }
});

test('net.tls.* in a YAML config: optional client certificates', async () => {
  const config = path.join(certs.dir, 'brookd-tls.yaml');
  fs.writeFileSync(config, [
    'net:',
    '  tls:',
    '    mode: requireTLS',
    `    certificateKeyFile: ${certs.server}`,
    `    CAFile: ${certs.ca}`,
    '    allowConnectionsWithoutCertificates: true',
    '',
  ].join('\n'));
  const srv = await startBrookd({
    args: ['--config', config],
    probeTls: { ca: fs.readFileSync(certs.ca), servername: 'localhost' },
  });
  try {
    assert.deepEqual(await roundTrip(srv, tlsWithCa(), 'no-cert'), { tag: 'no-cert' });
    assert.deepEqual(await roundTrip(srv, tlsWithClientCert(), 'cert'), { tag: 'cert' });
    // Optional does not mean unchecked: a certificate from another CA is refused.
    await assertRefused(srv, { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.rogueClient },
      'a client certificate from another CA');
    await assertRefused(srv, {}, 'a plain client');

    const c = client(srv, tlsWithCa());
    try {
      const opts = await c.db('admin').command({ getCmdLineOpts: 1 });
      assert.equal(opts.parsed.net.tls.mode, 'requireTLS');
      assert.equal(opts.parsed.net.tls.allowConnectionsWithoutCertificates, true);
    } finally {
      await c.close();
    }
  } finally {
    await srv.stop();
  }
});

test('a TLS handshake that stalls is ended by messageReceiveTimeoutMillis', async () => {
  const srv = await startBrookd({
    args: ['--tlsMode', 'preferTLS', '--tlsCertificateKeyFile', certs.server, '--setParameter', 'messageReceiveTimeoutMillis=500'],
  });
  try {
    const socket = net.connect({ host: '127.0.0.1', port: srv.port });
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    // The start of a ClientHello record, then nothing.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const closed = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 10000);
      socket.once('close', () => { clearTimeout(timer); resolve(true); });
      socket.on('error', () => {});
      socket.resume();
    });
    socket.destroy();
    assert.ok(closed, 'a stalled TLS handshake kept its connection');
    assert.match(srv.log(), /did not arrive in full within messageReceiveTimeoutMillis/);
    // Others are served meanwhile.
    assert.deepEqual(await roundTrip(srv, tlsWithCa(), 'after-stall'), { tag: 'after-stall' });
  } finally {
    await srv.stop();
  }
});

test('--tlsDisabledProtocols refuses the versions it names', async () => {
  const tlsOptions = (extra) => ({ ca: fs.readFileSync(certs.ca), servername: 'localhost', ...extra });
  const ping = opMsg({ ping: 1, $db: 'admin' });
  const served = async (port, extra) => (await exchange(port, ping, { tlsOptions: tlsOptions(extra) })).replies[0]?.doc.ok === 1;
  for (const [disabled, refused, accepted] of [
    ['TLS1_3', { minVersion: 'TLSv1.3' }, { maxVersion: 'TLSv1.2' }],
    ['TLS1_0,TLS1_1,TLS1_2', { maxVersion: 'TLSv1.2' }, { minVersion: 'TLSv1.3' }],
    // A hole: 1.0, 1.1 and 1.3 allowed, 1.2 not.
    ['TLS1_2', { maxVersion: 'TLSv1.2' }, { minVersion: 'TLSv1.3' }],
  ]) {
    const srv = await startBrookd({
      args: ['--tlsMode', 'allowTLS', '--tlsCertificateKeyFile', certs.server, '--tlsDisabledProtocols', disabled],
    });
    try {
      assert.equal(await served(srv.port, refused), false, `${JSON.stringify(refused)} accepted with ${disabled} disabled`);
      assert.equal(await served(srv.port, accepted), true, `${JSON.stringify(accepted)} refused with ${disabled} disabled`);
    } finally {
      await srv.stop();
    }
  }
});

test('TLS disabled (the default): a TLS client is refused, plain clients served', async () => {
  const srv = await startBrookd();
  try {
    await assertRefused(srv, tlsWithCa(), 'a TLS client');
    assert.deepEqual(await roundTrip(srv, {}, 'plain'), { tag: 'plain' });
    assert.match(srv.log(), /TLS handshake received but the server runs with --tlsMode disabled/);
  } finally {
    await srv.stop();
  }
});

test('an encrypted server key with --tlsCertificateKeyFilePassword', async () => {
  // The server's key re-encrypted (PKCS#8, AES-256), beside its certificate.
  const serverPem = fs.readFileSync(certs.server, 'utf8');
  const cert = serverPem.slice(0, serverPem.indexOf('-----BEGIN PRIVATE KEY-----'));
  const encryptedKey = execFileSync('openssl', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:s3cret'],
    { input: serverPem.slice(serverPem.indexOf('-----BEGIN PRIVATE KEY-----')), encoding: 'utf8' });
  const pem = path.join(certs.dir, 'server-encrypted.pem');
  fs.writeFileSync(pem, cert + encryptedKey);

  const dbpath = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-tls-pw-'));
  try {
    const r = spawnSync(brookdPath(), ['--port', '0', '--dbpath', dbpath, '--tlsMode', 'requireTLS',
      '--tlsCertificateKeyFile', pem, '--tlsCertificateKeyFilePassword', 'wrong'], { encoding: 'utf8', timeout: 20000 });
    assert.notEqual(r.status, 0, 'started with the wrong key password');
    assert.match(r.stdout + r.stderr, /cannot read the private key/);
  } finally {
    fs.rmSync(dbpath, { recursive: true, force: true });
  }

  const srv = await startBrookd({
    args: ['--tlsMode', 'requireTLS', '--tlsCertificateKeyFile', pem, '--tlsCertificateKeyFilePassword', 's3cret'],
    probeTls: { ca: fs.readFileSync(certs.ca), servername: 'localhost' },
  });
  try {
    assert.deepEqual(await roundTrip(srv, tlsWithCa(), 'encrypted-key'), { tag: 'encrypted-key' });
    // The password is never echoed back.
    const c = client(srv, tlsWithCa());
    try {
      const opts = await c.db('admin').command({ getCmdLineOpts: 1 });
      assert.doesNotMatch(JSON.stringify(opts), /s3cret/);
      assert.ok(opts.argv.includes('<password>'), JSON.stringify(opts.argv));
      assert.equal(opts.parsed.net.tls.mode, 'requireTLS');
    } finally {
      await c.close();
    }
  } finally {
    await srv.stop();
  }
});

test('a misconfigured TLS server refuses to start and says why', () => {
  const dbpath = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-tls-bad-'));
  try {
    const run = (...args) => spawnSync(brookdPath(), ['--port', '0', '--dbpath', dbpath, ...args], { encoding: 'utf8', timeout: 20000 });
    let r = run('--tlsMode', 'requireTLS');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs --tlsCertificateKeyFile/);

    r = run('--tlsMode', 'sometimesTLS', '--tlsCertificateKeyFile', certs.server);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--tlsMode must be one of/);

    r = run('--tlsMode', 'requireTLS', '--tlsCertificateKeyFile', path.join(certs.dir, 'missing.pem'));
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /cannot read the certificate/);

    // A key that does not belong to the certificate.
    const mismatched = path.join(certs.dir, 'mismatched.pem');
    const serverCert = fs.readFileSync(certs.server, 'utf8').split('-----BEGIN PRIVATE KEY-----')[0];
    const clientKey = '-----BEGIN PRIVATE KEY-----' + fs.readFileSync(certs.client, 'utf8').split('-----BEGIN PRIVATE KEY-----')[1];
    fs.writeFileSync(mismatched, serverCert + clientKey);
    r = run('--tlsMode', 'requireTLS', '--tlsCertificateKeyFile', mismatched);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /does not match|cannot read the private key/);
  } finally {
    fs.rmSync(dbpath, { recursive: true, force: true });
  }
});
