#!/usr/bin/env node
'use strict';
// Unified test format runner (drivers' spec tests) built on the official Node.js driver.
//
//   node tests/unified/runner.js --uri mongodb://127.0.0.1:27017/ DIR_OR_FILE...
//   node tests/unified/runner.js --brookd DIR_OR_FILE...      (starts its own brookd)
//
// Options:
//   --skip-list FILE      skip list (default: skips.json beside this file; "none" for none)
//   --server-version V    version used for runOnRequirements (default 7.0.0)
//   --topology T          topology used for runOnRequirements (default replicaset)
//   --grep REGEX          only tests whose "file: description" matches
//   --timeout MS          per-test timeout (default 60000)
//   --verbose             also list passed and not-applicable tests
//
// Prints "file: P passed, F failed, S skipped, N not applicable" per file, each failure and
// skip with its reason, then "unified: N passed, N failed, N skipped". Exits 1 if any test
// failed, 2 on usage errors.
const fs = require('node:fs');
const path = require('node:path');
const { Runner } = require('./executor');
const { defaultServer } = require('./requirements');

function usage(msg) {
  if (msg) console.error(`runner: ${msg}`);
  console.error('usage: node tests/unified/runner.js (--uri URI | --brookd) [--skip-list FILE] [--grep RE] <dir-or-file>...');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { paths: [], skipList: path.join(__dirname, 'skips.json'), version: '7.0.0', topology: 'replicaset', timeout: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--uri') opts.uri = next();
    else if (a === '--brookd') opts.brookd = true;
    else if (a === '--skip-list') opts.skipList = next();
    else if (a === '--server-version') opts.version = next();
    else if (a === '--topology') opts.topology = next();
    else if (a === '--grep') opts.grep = new RegExp(next());
    else if (a === '--timeout') opts.timeout = Number(next());
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else opts.paths.push(a);
  }
  if (!opts.uri === !opts.brookd) usage('give exactly one of --uri or --brookd');
  if (opts.paths.length === 0) usage('no test files given');
  return opts;
}

// Directories expand to their *.json files (sorted), so runs are deterministic.
function expandPaths(paths) {
  const files = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) usage(`no such file or directory: ${p}`);
    if (fs.statSync(p).isDirectory()) {
      for (const f of fs.readdirSync(p).filter((n) => n.endsWith('.json')).sort()) files.push(path.join(p, f));
    } else {
      files.push(p);
    }
  }
  return files;
}

function loadSkips(file) {
  if (!file || file === 'none') return { files: {}, tests: {} };
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { files: raw.files ?? {}, tests: raw.tests ?? {} };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const files = expandPaths(opts.paths);
  const skips = loadSkips(opts.skipList);
  let srv = null;
  let uri = opts.uri;
  if (opts.brookd) {
    const { startBrookd } = require('../e2e/lib/brookd');
    srv = await startBrookd();
    uri = srv.uri;
    console.log(`unified: started brookd on port ${srv.port}`);
  }
  const server = defaultServer({ version: opts.version, topology: opts.topology });
  const runner = new Runner({ uri, server, skips, testTimeoutMs: opts.timeout, grep: opts.grep, log: (m) => console.log(m) });
  // getParameter for runOnRequirements.serverParameters, answered by the server itself.
  server.getParameter = async (name) => {
    const r = await runner.internal.db('admin').command({ getParameter: 1, [name]: 1 });
    if (!(name in r)) throw new Error(`unknown parameter ${name}`);
    return r[name];
  };
  const totals = { passed: 0, failed: 0, skipped: 0, notApplicable: 0 };
  try {
    await runner.connect();
    for (const file of files) {
      const { file: name, results } = await runner.runFile(file);
      const selected = results;
      const count = { passed: 0, failed: 0, skipped: 0, notApplicable: 0 };
      for (const r of selected) count[r.status]++;
      if (opts.grep && selected.length === 0) continue;
      console.log(`${name}: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped, ${count.notApplicable} not applicable`);
      for (const r of selected) {
        if (r.status === 'failed') console.log(`  FAIL ${r.description}\n       ${r.reason.split('\n').join('\n       ')}`);
        else if (r.status === 'skipped') console.log(`  SKIP ${r.description}: ${r.reason}`);
        else if (opts.verbose && r.status === 'notApplicable') console.log(`  N/A  ${r.description}: ${r.reason}`);
        else if (opts.verbose) console.log(`  ok   ${r.description}`);
      }
      for (const k of Object.keys(totals)) totals[k] += count[k];
    }
  } finally {
    await runner.close().catch(() => {});
    if (srv) await srv.stop();
  }
  console.log(`unified: ${totals.notApplicable} not applicable (their runOnRequirements exclude a ${opts.version} ${opts.topology})`);
  console.log(`unified: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  return totals.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`runner: ${err.stack ?? err}`);
    console.log('unified: 0 passed, 1 failed, 0 skipped');
    process.exit(1);
  },
);
