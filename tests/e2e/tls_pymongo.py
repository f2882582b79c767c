#!/usr/bin/python3
"""TLS through pymongo (Debian's python3-pymongo 3.x) against brookd --tlsMode requireTLS.

Run with /usr/bin/python3:
    /usr/bin/python3 tests/e2e/tls_pymongo.py [unittest args]
Ends with "tlspymongo: N passed, N failed"; exits 1 if anything failed.
BROOKD overrides the server binary (default build/bin/brookd).

The certificates are made at test time with the openssl CLI: a CA, a server certificate
for localhost/127.0.0.1 and a client certificate. The server also runs --auth, so SCRAM
runs inside TLS, as it would in production.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import pymongo
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

ROOT = Path(__file__).resolve().parents[2]
BROOKD = Path(os.environ.get("BROOKD", ROOT / "build" / "bin" / "brookd"))
KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs(d):
    """ca.pem, server.pem (certificate + key) and client.pem (certificate + key) in d."""
    openssl(["req", "-x509"] + KEY + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                                      "-subj", "/CN=Brook pymongo CA",
                                      "-addext", "basicConstraints=critical,CA:TRUE",
                                      "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    for name, subject, ext in (
            ("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("client", "/CN=pymongo-client", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        openssl(["req"] + KEY + ["-keyout", name + ".key", "-out", name + ".csr", "-subj", subject], d)
        openssl(["x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext"], d)
        with open(os.path.join(d, name + ".pem"), "w") as out:
            for part in (name + ".crt", name + ".key"):
                with open(os.path.join(d, part)) as f:
                    out.write(f.read())


class Server:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="brook-tlspymongo-")
        self.certs = os.path.join(self.root, "certs")
        os.mkdir(self.certs)
        make_certs(self.certs)
        self.ca = os.path.join(self.certs, "ca.pem")
        self.client_pem = os.path.join(self.certs, "client.pem")
        self.port = free_port()
        self.log_path = os.path.join(self.root, "brookd.log")
        dbpath = os.path.join(self.root, "db")
        os.mkdir(dbpath)
        args = [str(BROOKD), "--port", str(self.port), "--bind_ip", "127.0.0.1", "--dbpath", dbpath,
                "--replSet", "rs0", "--auth", "--tlsMode", "requireTLS",
                "--tlsCertificateKeyFile", os.path.join(self.certs, "server.pem"), "--tlsCAFile", self.ca]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def client(self, tls=True, cert=True, timeout_ms=5000, **kw):
        if tls:
            kw.update(tls=True, tlsCAFile=self.ca)
            if cert:
                kw["tlsCertificateKeyFile"] = self.client_pem
        return pymongo.MongoClient("localhost", self.port, directConnection=True,
                                   serverSelectionTimeoutMS=timeout_ms, **kw)

    def _wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("brookd exited with %s" % self.proc.returncode)
            try:
                c = self.client(timeout_ms=1000)
                c.admin.command("hello")
                c.close()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("brookd did not answer within 20 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if os.environ.get("BROOK_KEEP_TMP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)


SERVER = None


class TlsPymongo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The localhost exception, over TLS: the first user.
        c = SERVER.client()
        c.admin.command("createUser", "admin", pwd="adminpw", roles=["root"])
        c.close()

    def login(self, password="adminpw"):
        c = SERVER.client(username="admin", password=password, authSource="admin",
                          authMechanism="SCRAM-SHA-256")
        self.addCleanup(c.close)
        return c

    def test_crud_and_change_stream_over_tls(self):
        c = self.login()
        coll = c.tlsdb.items
        with coll.watch(max_await_time_ms=100) as stream:
            self.assertIsNone(stream.try_next())
            coll.insert_one({"_id": 1, "over": "tls"})
            event = None
            deadline = time.time() + 10
            while event is None and time.time() < deadline:
                event = stream.try_next()
            self.assertIsNotNone(event)
            self.assertEqual(event["operationType"], "insert")
            self.assertEqual(event["fullDocument"], {"_id": 1, "over": "tls"})
        self.assertEqual(coll.find_one({"_id": 1})["over"], "tls")

    def test_wrong_password_over_tls_fails_with_18(self):
        c = self.login(password="wrong")
        with self.assertRaises(OperationFailure) as cm:
            c.tlsdb.items.find_one()
        self.assertEqual(cm.exception.code, 18)

    def test_plain_client_is_told_tls_is_required(self):
        c = SERVER.client(tls=False, timeout_ms=1500)
        self.addCleanup(c.close)
        with self.assertRaises(ServerSelectionTimeoutError) as cm:
            c.admin.command("ping")
        self.assertIn("requires TLS", str(cm.exception))

    def test_client_without_certificate_is_refused(self):
        c = SERVER.client(cert=False, timeout_ms=1500)
        self.addCleanup(c.close)
        with self.assertRaises(ServerSelectionTimeoutError):
            c.admin.command("ping")
        # ... and the server still serves clients that present one.
        self.assertEqual(self.login().admin.command("ping")["ok"], 1.0)


def main():
    global SERVER
    try:
        SERVER = Server()
    except Exception as e:
        print("tlspymongo: cannot start brookd: %s" % e)
        print("tlspymongo: 0 passed, 1 failed")
        return 1
    try:
        result = unittest.main(module=__name__, argv=[sys.argv[0]] + sys.argv[1:], exit=False, verbosity=2).result
    finally:
        SERVER.stop()
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("tlspymongo: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
