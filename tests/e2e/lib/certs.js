'use strict';
// Test certificates made at test time with the openssl CLI, never checked in:
//   ca.pem          a CA (the one brookd's --tlsCAFile and the clients trust)
//   server.pem      certificate + key for localhost / 127.0.0.1, signed by the CA
//   client.pem      certificate + key for a client (clientAuth), signed by the CA
//   rogue-ca.pem, rogue-client.pem   a second CA and a client it signed, which brookd
//                   must not accept
// EC P-256 keys keep generation fast. makeCerts() returns the paths and a cleanup().
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir, name, cn) {
  openssl(['req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

// A leaf certificate signed by `ca`, written as one PEM holding certificate then key.
function makeLeaf(dir, name, ca, subject, extensions) {
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions.join('\n') + '\n');
  openssl(['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
    '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
  const pem = fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8') + fs.readFileSync(path.join(dir, `${name}.key`), 'utf8');
  fs.writeFileSync(path.join(dir, `${name}.pem`), pem);
}

function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-certs-'));
  makeCa(dir, 'ca', 'Brook Test CA');
  makeLeaf(dir, 'server', 'ca', '/CN=localhost', [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'extendedKeyUsage=serverAuth',
    'keyUsage=critical,digitalSignature,keyEncipherment',
  ]);
  makeLeaf(dir, 'client', 'ca', '/CN=brook-test-client/O=Brook Tests', [
    'extendedKeyUsage=clientAuth',
    'keyUsage=critical,digitalSignature',
  ]);
  makeCa(dir, 'rogue-ca', 'Rogue CA');
  makeLeaf(dir, 'rogue-client', 'rogue-ca', '/CN=rogue-client', [
    'extendedKeyUsage=clientAuth',
    'keyUsage=critical,digitalSignature',
  ]);
  const p = (f) => path.join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    server: p('server.pem'),
    client: p('client.pem'),
    rogueClient: p('rogue-client.pem'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

module.exports = { makeCerts };
