'use strict';
// Starts a real brookd for one test file: free port, private temporary --dbpath, test
// commands on. Every suite uses this so no two suites ever share a server or data.
//
//   const srv = await startBrookd();
//   srv.uri, srv.port, srv.dbpath, srv.logPath
//   await srv.kill9();   // SIGKILL, keeps dbpath (crash testing)
//   await srv.restart(); // (stop if running) then start again on the same port + dbpath
//   await srv.stop();    // SIGTERM (SIGKILL after 10 s) and delete the temp dirs
//
// options.probeTls: tls.connect options for the readiness probe, for servers that refuse
// plain connections (--tlsMode requireTLS). options.wrap: a command prefix that execs
// brookd, e.g. ['prlimit', '--nofile=120:120', '--'] (the pid stays brookd's).
//
// BROOKD overrides the binary; BROOK_KEEP_TMP=1 keeps the temp dirs for post-mortems.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { helloOk } = require('./wire');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const READY_TIMEOUT_MS = 20000;

function brookdPath() {
  return process.env.BROOKD ? path.resolve(process.env.BROOKD) : path.join(REPO_ROOT, 'build', 'bin', 'brookd');
}

// Binding port 0 lets the kernel pick a free port; we release it and hand it to brookd.
// A tiny race remains (another process could grab it), which start() retries.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every live server, so an aborted test run cannot leave brookd processes behind.
const live = new Set();
process.on('exit', () => {
  for (const s of live) s._emergencyCleanup();
});

class Brookd {
  constructor({ port, root, extraArgs, env, probeTls, wrap }) {
    this.port = port;
    this.host = '127.0.0.1';
    this.root = root;
    this.dbpath = path.join(root, 'db');
    this.logPath = path.join(root, 'brookd.log');
    this.extraArgs = extraArgs;
    this.env = env;
    this.probeTls = probeTls;
    this.wrap = wrap ?? [];
    this.proc = null;
    this.starts = 0;
    fs.mkdirSync(this.dbpath, { recursive: true });
  }

  get uri() {
    return `mongodb://${this.host}:${this.port}/`;
  }

  get directUri() {
    return `mongodb://${this.host}:${this.port}/?directConnection=true`;
  }

  args() {
    return [
      '--port', String(this.port),
      '--bind_ip', this.host,
      '--dbpath', this.dbpath,
      '--replSet', 'rs0',
      '--setParameter', 'enableTestCommands=1',
      ...this.extraArgs,
    ];
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  // The last part of the log, for error messages.
  logTail(max = 4000) {
    const text = this.log();
    return text.length > max ? '...' + text.slice(-max) : text;
  }

  async start() {
    const bin = brookdPath();
    if (!fs.existsSync(bin)) {
      throw new Error(`brookd binary not found at ${bin} (build it with scripts/build.sh or set BROOKD)`);
    }
    this.starts++;
    // stdout+stderr go to one log file (appended across restarts) so a failing test can
    // show what the server said; we do not rely on --logpath for that.
    const fd = fs.openSync(this.logPath, 'a');
    fs.writeSync(fd, `\n=== start #${this.starts}: ${bin} ${this.args().join(' ')}\n`);
    const argv = [...this.wrap, bin, ...this.args()];
    const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd], env: { ...process.env, ...this.env } });
    fs.closeSync(fd);
    this.proc = proc;
    proc.exitInfo = null;
    proc.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        proc.exitInfo = { code, signal };
        resolve(proc.exitInfo);
      });
      proc.on('error', (err) => {
        proc.exitInfo = { code: null, signal: null, error: err };
        resolve(proc.exitInfo);
      });
    });
    live.add(this);
    await this.waitReady(proc);
  }

  // Ready means: the process is alive, a TCP connect works and hello answers ok: 1.
  async waitReady(proc) {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (proc.exitInfo) {
        throw new Error(`brookd exited during startup (${JSON.stringify(proc.exitInfo)}); log:\n${this.logTail()}`);
      }
      const hello = await helloOk(this.port, { timeoutMs: 1000, tlsOptions: this.probeTls }).catch(() => null);
      if (hello) return hello;
      await sleep(100);
    }
    throw new Error(`brookd did not answer hello on port ${this.port} within ${READY_TIMEOUT_MS} ms; log:\n${this.logTail()}`);
  }

  get running() {
    return this.proc !== null && this.proc.exitInfo === null;
  }

  async _signalAndWait(signal, graceMs) {
    const proc = this.proc;
    if (!proc || proc.exitInfo) return proc?.exitInfo ?? null;
    proc.kill(signal);
    // The grace timer is cleared once the process exits, so a suite that stops its
    // server does not linger until the timer fires.
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([proc.exited, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      proc.kill('SIGKILL');
      await proc.exited;
    }
    return proc.exitInfo;
  }

  // SIGKILL: no chance to flush anything, exactly what crash tests need.
  async kill9() {
    return this._signalAndWait('SIGKILL', 10000);
  }

  // Clean shutdown: SIGTERM, escalating to SIGKILL after 10 s.
  async shutdown() {
    return this._signalAndWait('SIGTERM', 10000);
  }

  async restart() {
    await this.shutdown();
    await this.start();
  }

  async stop() {
    await this.shutdown();
    live.delete(this);
    this._removeDirs();
  }

  _removeDirs() {
    if (process.env.BROOK_KEEP_TMP === '1') return;
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  _emergencyCleanup() {
    try {
      if (this.running) this.proc.kill('SIGKILL');
    } catch {
      // The process may already be gone; nothing else to do at exit.
    }
    this._removeDirs();
  }
}

// options.args: extra brookd flags; options.env: extra environment; options.probeTls: see above.
async function startBrookd(options = {}) {
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-e2e-'));
    const srv = new Brookd({ port: await freePort(), root, extraArgs: options.args ?? [], env: options.env ?? {}, probeTls: options.probeTls, wrap: options.wrap });
    try {
      await srv.start();
      return srv;
    } catch (err) {
      lastErr = err;
      await srv.stop().catch(() => {});
      // Only a lost race for the port is worth retrying; anything else is a real failure.
      if (!/address already in use|EADDRINUSE|bind/i.test(String(err.message))) break;
    }
  }
  throw lastErr;
}

module.exports = { startBrookd, brookdPath, freePort, REPO_ROOT };
