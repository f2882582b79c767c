'use strict';
// Change-stream helpers shared by the Node end-to-end suites.
const assert = require('node:assert/strict');

// Opens target.watch() and waits for its aggregate, so writes after this are seen.
async function openStream(target, pipeline = [], options = {}) {
  const cs = target.watch(pipeline, { maxAwaitTimeMS: 200, ...options });
  await cs.cursor.cursorInit();
  return cs;
}

// Collects `n` events (or fails after timeoutMs).
async function take(cs, n, timeoutMs = 20000) {
  const out = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    assert.ok(Date.now() < deadline, `timed out with ${out.length} of ${n} events`);
    const ev = await cs.tryNext();
    if (ev) out.push(ev);
  }
  return out;
}

module.exports = { openStream, take };
