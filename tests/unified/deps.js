'use strict';
// The runner shares tests/e2e's npm dependencies (one package.json + lockfile for all
// JavaScript test code), so resolve packages from there.
const path = require('node:path');
const { createRequire } = require('node:module');

const e2eRequire = createRequire(path.join(__dirname, '..', 'e2e', 'package.json'));

module.exports = { mongodb: e2eRequire('mongodb'), e2eRequire };
