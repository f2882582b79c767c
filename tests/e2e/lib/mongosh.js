'use strict';
// Runs scripts in the real mongosh (from node_modules) for the end-to-end suites.
//
// mongosh runs with telemetry and update checks off and a private HOME, so it only ever
// talks to the brookd on loopback. Scripts print `STEP <name> <relaxed EJSON>` lines,
// which steps() turns into { name: value }.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { BSON } = require('mongodb');

const MONGOSH = path.join(__dirname, '..', 'node_modules', '.bin', 'mongosh');

// The helper that scripts use to print a step; canonical (relaxed = false) keeps types
// such as Long that relaxed EJSON turns into plain numbers.
function stepHelper(relaxed = true) {
  return `const step = (name, value) => print('STEP ' + name + ' ' + EJSON.stringify(value, { relaxed: ${relaxed} }));`;
}
const STEP_HELPER = stepHelper(true);

class Mongosh {
  constructor(prefix = 'brook-mongosh-home-') {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.config = path.join(this.home, 'mongosh.conf');
    fs.writeFileSync(this.config, 'mongosh:\n  forceDisableTelemetry: true\n  updateURL: ""\n');
  }

  // Runs `script` against `uri`; resolves { code, stdout, stderr }.
  run(uri, script, { timeoutMs = 60000 } = {}) {
    const file = path.join(this.home, `script-${Date.now()}-${Math.random().toString(16).slice(2)}.js`);
    fs.writeFileSync(file, script);
    const env = {
      ...process.env,
      HOME: this.home,
      MONGOSH_FORCE_DISABLE_TELEMETRY_FOR_TESTING: '1',
      MONGOSH_GLOBAL_CONFIG_FILE_FOR_TESTING: this.config,
    };
    return new Promise((resolve) => {
      execFile(MONGOSH, [uri, '--quiet', '--norc', '--file', file], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
        resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr });
      });
    });
  }

  close() {
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

function steps(stdout, { relaxed = true } = {}) {
  const out = {};
  for (const line of stdout.split('\n')) {
    const m = /^STEP (\S+) (.*)$/.exec(line.trim());
    if (m) out[m[1]] = BSON.EJSON.parse(m[2], { relaxed });
  }
  return out;
}

module.exports = { Mongosh, steps, stepHelper, STEP_HELPER };
