'use strict';
// runOnRequirements evaluation and schema-version compatibility.
//
// Brook is a single-node replica set that claims MongoDB 7.0, so by default the server is
// described as { version: '7.0.0', topology: 'replicaset', serverless: false, auth: false }.
// A requirement list that no element satisfies makes a file/test "not applicable": it
// tests behaviour of another deployment shape or server version, which is different from
// a skip (a feature Brook should have but that is not done yet).

// Highest unified-format schema this runner accepts (same major, minor <= this).
const SUPPORTED_SCHEMA = '1.28';

function parseVersion(s) {
  // Components past major.minor.patch (e.g. "-rc0") are discarded per the spec.
  const parts = String(s).split('.').slice(0, 3).map((p) => parseInt(p, 10));
  while (parts.length < 3) parts.push(0);
  return parts.map((n) => (Number.isNaN(n) ? 0 : n));
}

function compareVersions(a, b) {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

function schemaSupported(schemaVersion, supported = SUPPORTED_SCHEMA) {
  const [maj, min] = parseVersion(schemaVersion);
  const [smaj, smin] = parseVersion(supported);
  return maj === smaj && min <= smin;
}

// "sharded" accepts sharded-replicaset too; a replica set only satisfies "replicaset".
function topologyMatches(wanted, actual) {
  if (wanted === actual) return true;
  if (wanted === 'sharded' && actual === 'sharded-replicaset') return true;
  return false;
}

// Returns null when `req` is satisfied, or a reason string saying which field excludes
// the server. `server.getParameter(name)` resolves to a value or throws when unknown.
async function checkRequirement(req, server) {
  if (req.minServerVersion && compareVersions(server.version, req.minServerVersion) < 0) {
    return `needs server >= ${req.minServerVersion} (have ${server.version})`;
  }
  if (req.maxServerVersion && compareVersions(server.version, req.maxServerVersion) > 0) {
    return `needs server <= ${req.maxServerVersion} (have ${server.version})`;
  }
  if (req.topologies && !req.topologies.some((t) => topologyMatches(t, server.topology))) {
    return `needs topology ${req.topologies.join('|')} (have ${server.topology})`;
  }
  if (req.serverless === 'require' && !server.serverless) return 'needs serverless';
  if (req.serverless === 'forbid' && server.serverless) return 'forbids serverless';
  if (req.auth === true && !server.auth) return 'needs auth enabled';
  if (req.auth === false && server.auth) return 'needs auth disabled';
  if (req.authMechanism) {
    const mechs = (server.authMechanisms ?? []).map((m) => m.toLowerCase());
    if (!server.auth || !mechs.includes(String(req.authMechanism).toLowerCase())) {
      return `needs auth mechanism ${req.authMechanism}`;
    }
  }
  if (req.csfle !== undefined && req.csfle !== false && !server.csfle) return 'needs client-side field level encryption';
  if (req.csfle === false && server.csfle) return 'needs CSFLE to be unavailable';
  if (req.serverParameters) {
    for (const [name, want] of Object.entries(req.serverParameters)) {
      let have;
      try {
        have = await server.getParameter(name);
      } catch {
        return `needs server parameter ${name} (unknown to the server)`;
      }
      if (!valuesEqual(want, have)) return `needs server parameter ${name}=${JSON.stringify(want)} (have ${JSON.stringify(have)})`;
    }
  }
  return null;
}

// Flexible numeric comparison for serverParameters (int vs long vs double).
function valuesEqual(a, b) {
  const num = (v) => (v !== null && typeof v === 'object' && typeof v.valueOf() === 'number' ? v.valueOf() : v);
  const x = num(a);
  const y = num(b);
  if (typeof x === 'number' && typeof y === 'number') return x === y;
  return JSON.stringify(x) === JSON.stringify(y);
}

// Any element satisfied => null; otherwise the reasons joined, for the report.
async function checkRequirements(reqs, server) {
  if (!reqs || reqs.length === 0) return null;
  const reasons = [];
  for (const req of reqs) {
    const reason = await checkRequirement(req, server);
    if (reason === null) return null;
    reasons.push(reason);
  }
  return reasons.join('; or ');
}

function defaultServer(overrides = {}) {
  return {
    version: '7.0.0',
    topology: 'replicaset',
    serverless: false,
    auth: false,
    csfle: false,
    authMechanisms: [],
    getParameter: async (name) => {
      throw new Error(`no getParameter for ${name}`);
    },
    ...overrides,
  };
}

module.exports = { SUPPORTED_SCHEMA, parseVersion, compareVersions, schemaSupported, checkRequirement, checkRequirements, defaultServer };
