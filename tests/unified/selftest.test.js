'use strict';
// Self-tests of the test infrastructure against tests/e2e/lib/fake_brookd.js, a tiny
// in-memory stand-in server: they prove the harness starts/kills/restarts a server, and
// that the unified runner passes what should pass and FAILS what should fail (the spec's
// own valid-fail files, and a spec file with a corrupted expectation). They say nothing
// about brookd itself; the real suites do that.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { e2eRequire } = require('./deps');

const { startBrookd, REPO_ROOT } = e2eRequire('./lib/brookd');
const { MongoClient } = e2eRequire('mongodb');

const FAKE = path.join(REPO_ROOT, 'tests', 'e2e', 'lib', 'fake_brookd.js');
const RUNNER = path.join(__dirname, 'runner.js');
const SPEC = path.join(REPO_ROOT, '..', 'shared', 'spec', 'source');
const CRUD = path.join(SPEC, 'crud', 'tests', 'unified');
const UTF = path.join(SPEC, 'unified-test-format', 'tests');

function runRunner(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUNNER, '--brookd', ...args], { env: { ...process.env, BROOKD: FAKE }, timeout: 240000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const m = /^unified: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(stdout);
      resolve({ code: err ? err.code : 0, stdout, stderr, passed: m ? +m[1] : NaN, failed: m ? +m[2] : NaN, skipped: m ? +m[3] : NaN });
    });
  });
}

test('harness: start, kill -9, restart on the same port and dbpath, stop cleans up', async () => {
  const prev = process.env.BROOKD;
  process.env.BROOKD = FAKE;
  const srv = await startBrookd();
  try {
    assert.match(srv.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    const c1 = await new MongoClient(srv.uri, { serverSelectionTimeoutMS: 5000 }).connect();
    await c1.db('h').collection('c').insertOne({ _id: 1 });
    await c1.close();
    const port = srv.port;
    const info = await srv.kill9();
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(srv.running, false);
    await srv.restart();
    assert.equal(srv.port, port);
    assert.ok(srv.running);
    const c2 = await new MongoClient(srv.uri, { serverSelectionTimeoutMS: 5000 }).connect();
    assert.deepEqual(await c2.db('h').collection('c').findOne({ _id: 1 }), { _id: 1 });
    await c2.close();
    assert.match(srv.log(), /start #2/);
  } finally {
    await srv.stop();
    if (prev === undefined) delete process.env.BROOKD;
    else process.env.BROOKD = prev;
  }
  assert.equal(fs.existsSync(srv.root), false, 'temp dir left behind');
});

test('harness: a server that exits at startup is reported with its log', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-selftest-'));
  const bad = path.join(dir, 'bad-brookd');
  fs.writeFileSync(bad, '#!/bin/sh\necho "cannot open dbpath: simulated" >&2\nexit 3\n', { mode: 0o755 });
  const prev = process.env.BROOKD;
  process.env.BROOKD = bad;
  try {
    await assert.rejects(startBrookd(), /exited during startup[\s\S]*simulated/);
  } finally {
    if (prev === undefined) delete process.env.BROOKD;
    else process.env.BROOKD = prev;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runner passes CRUD spec files the stand-in server implements', async () => {
  const files = ['find.json', 'insertOne.json', 'insertMany.json', 'deleteOne.json', 'deleteMany.json', 'updateOne.json',
    'updateMany.json', 'findOneAndUpdate.json', 'findOneAndDelete.json', 'bulkWrite.json', 'countDocuments-comment.json', 'findOne.json'];
  const r = await runRunner(files.map((f) => path.join(CRUD, f)));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.failed, 0, r.stdout);
  assert.ok(r.passed >= 40, `only ${r.passed} passed:\n${r.stdout}`);
  for (const f of files) assert.match(r.stdout, new RegExp(`^${f.replace('.', '\\.')}: \\d+ passed, 0 failed, \\d+ skipped, \\d+ not applicable$`, 'm'));
});

test('runner passes the format\'s valid-pass files the stand-in server can serve', async () => {
  const files = ['operator-lte.json', 'operator-matchAsDocument.json', 'operator-matchAsRoot.json', 'operator-type-number_alias.json',
    'expectedEventsForClient-eventType.json', 'expectedEventsForClient-ignoreExtraEvents.json', 'entity-client-cmap-events.json',
    'entity-find-cursor.json', 'entity-cursor-iterateOnce.json', 'entity-commandCursor.json', 'observeSensitiveCommands.json',
    'ignoreResultAndError.json', 'poc-sessions.json', 'poc-command-monitoring.json', 'poc-retryable-reads.json',
    'createEntities-operation.json', 'assertNumberConnectionsCheckedOut.json', 'operation-empty_array.json', 'expectedError-isClientError.json'];
  const r = await runRunner(['--skip-list', 'none', ...files.map((f) => path.join(UTF, 'valid-pass', f))]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.failed, 0, r.stdout);
  assert.ok(r.passed >= 30, r.stdout);
});

test('runner fails every valid-fail test (none may pass)', async () => {
  // operation-failure.json needs a server that rejects unknown query operators, and the
  // kmsProviders files need CSFLE; the stand-in server offers neither.
  const dir = path.join(UTF, 'valid-fail');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'operation-failure.json' && !f.startsWith('kmsProviders'));
  const r = await runRunner(['--skip-list', 'none', ...files.map((f) => path.join(dir, f))]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.passed, 0, r.stdout);
  assert.ok(r.failed >= 20, r.stdout);
});

test('runner reports a wrong expectation with the mismatching path', async () => {
  const doc = JSON.parse(fs.readFileSync(path.join(CRUD, 'find.json'), 'utf8'));
  doc.tests = [doc.tests[0]];
  doc.tests[0].operations[0].expectResult[0].x = 12345; // corrupt one field
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-selftest-'));
  const file = path.join(dir, 'find-corrupted.json');
  fs.writeFileSync(file, JSON.stringify(doc));
  try {
    const r = await runRunner(['--skip-list', 'none', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.failed, 1, r.stdout);
    assert.match(r.stdout, /FAIL .*\n.*\$\[0\]\.x: expected 12345, got \d+/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('skip list entries are reported with their reasons and not run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-selftest-'));
  const skipFile = path.join(dir, 'skips.json');
  fs.writeFileSync(skipFile, JSON.stringify({ files: { 'crud/tests/unified/insertOne.json': 'issue 99: example' }, tests: {} }));
  try {
    const r = await runRunner(['--skip-list', skipFile, path.join(CRUD, 'insertOne.json')]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.passed, 0);
    assert.ok(r.skipped >= 1);
    assert.match(r.stdout, /SKIP .*: issue 99: example/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The crash test must catch a server that acknowledges j:true writes before they are durable.
function runCrashTest(env) {
  const file = path.join(REPO_ROOT, 'tests', 'e2e', 'crash.test.js');
  return new Promise((resolve) => {
    // Run the test file as a plain script; NODE_TEST_CONTEXT would make the child think it
    // is nested inside this test run and skip its tests.
    const childEnv = { ...process.env, BROOKD: FAKE, CRASH_CYCLES: '3', CRASH_SEED: '7', ...env };
    delete childEnv.NODE_TEST_CONTEXT;
    execFile(process.execPath, [file], { env: childEnv, timeout: 240000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, out: stdout + stderr });
    });
  });
}

test('crash test passes against a durable server and fails against one that loses acknowledged writes', async () => {
  const good = await runCrashTest({});
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /cycle 3: \d+ acknowledged writes/);
  const bad = await runCrashTest({ FAKE_BROOKD_UNSAFE: '1' });
  assert.notEqual(bad.code, 0, `crash test passed although the server lost writes:\n${bad.out}`);
  assert.match(bad.out, /acknowledged insert _id \d+ is missing|has v=|no oplog entry/);
});
