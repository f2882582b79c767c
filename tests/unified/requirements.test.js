'use strict';
// Unit tests for runOnRequirements and schema compatibility: which spec tests count as
// "not applicable" to a 7.0 single-node replica set.
const test = require('node:test');
const assert = require('node:assert/strict');
const { compareVersions, schemaSupported, checkRequirements, defaultServer } = require('./requirements');

const brook = defaultServer();

test('version comparison is numeric per component and ignores suffixes', () => {
  assert.equal(compareVersions('4.0.10', '4.0.9'), 1);
  assert.equal(compareVersions('3.6', '4.2.0'), -1);
  assert.equal(compareVersions('7.0', '7.0.0'), 0);
  assert.equal(compareVersions('4.9.0-alpha4-271-g7d5cf02', '4.9.0'), 0);
  assert.equal(compareVersions('7', '6.99.99'), 1);
});

test('schema versions: same major, minor up to the supported one', () => {
  assert.ok(schemaSupported('1.0'));
  assert.ok(schemaSupported('1.21'));
  assert.ok(!schemaSupported('2.0'));
  assert.ok(!schemaSupported('1.99'));
});

test('no requirements, or any satisfied element, means run', async () => {
  assert.equal(await checkRequirements(undefined, brook), null);
  assert.equal(await checkRequirements([], brook), null);
  assert.equal(await checkRequirements([{ topologies: ['sharded'] }, { minServerVersion: '4.0' }], brook), null);
});

test('version bounds', async () => {
  assert.equal(await checkRequirements([{ minServerVersion: '7.0' }], brook), null);
  assert.equal(await checkRequirements([{ maxServerVersion: '7.0.99' }], brook), null);
  assert.match(await checkRequirements([{ minServerVersion: '8.0' }], brook), /server >= 8\.0/);
  assert.match(await checkRequirements([{ maxServerVersion: '4.4.99' }], brook), /server <= 4\.4\.99/);
  assert.match(await checkRequirements([{ minServerVersion: '8.2.0' }, { maxServerVersion: '6.0' }], brook), /8\.2\.0.*or.*6\.0/);
});

test('topologies: a replica set is not single, sharded or load-balanced', async () => {
  assert.equal(await checkRequirements([{ topologies: ['single', 'replicaset'] }], brook), null);
  assert.match(await checkRequirements([{ topologies: ['sharded'] }], brook), /topology/);
  assert.match(await checkRequirements([{ topologies: ['load-balanced'] }], brook), /topology/);
  assert.match(await checkRequirements([{ topologies: ['single'] }], brook), /topology/);
  const sharded = defaultServer({ topology: 'sharded-replicaset' });
  assert.equal(await checkRequirements([{ topologies: ['sharded'] }], sharded), null);
});

test('serverless, auth and csfle', async () => {
  assert.equal(await checkRequirements([{ serverless: 'forbid' }], brook), null);
  assert.equal(await checkRequirements([{ serverless: 'allow' }], brook), null);
  assert.match(await checkRequirements([{ serverless: 'require' }], brook), /serverless/);
  assert.equal(await checkRequirements([{ auth: false }], brook), null);
  assert.match(await checkRequirements([{ auth: true }], brook), /auth/);
  assert.match(await checkRequirements([{ authMechanism: 'SCRAM-SHA-256' }], brook), /SCRAM/);
  assert.match(await checkRequirements([{ csfle: true }], brook), /encryption/);
  assert.equal(await checkRequirements([{ csfle: false }], brook), null);
});

test('serverParameters compare flexibly and unknown parameters exclude', async () => {
  const params = { enableTestCommands: 1, featureFlagX: true };
  const server = defaultServer({
    getParameter: async (name) => {
      if (!(name in params)) throw new Error('unknown');
      return params[name];
    },
  });
  assert.equal(await checkRequirements([{ serverParameters: { enableTestCommands: 1.0 } }], server), null);
  assert.equal(await checkRequirements([{ serverParameters: { featureFlagX: true } }], server), null);
  assert.match(await checkRequirements([{ serverParameters: { featureFlagX: false } }], server), /featureFlagX/);
  assert.match(await checkRequirements([{ serverParameters: { nope: 1 } }], server), /unknown/);
});

test('all conditions of one element must hold', async () => {
  assert.match(await checkRequirements([{ minServerVersion: '4.0', topologies: ['sharded'] }], brook), /topology/);
});
