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
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import pymongo  # noqa: E402
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError  # noqa: E402

from brookd import Server, run_suite  # noqa: E402

SERVER = None
CERTS = None
KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs():
    """A temporary directory with ca.pem, server.pem and client.pem (certificate + key)."""
    d = tempfile.mkdtemp(prefix="brook-tlspymongo-certs-")
    atexit.register(shutil.rmtree, d, True)
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
    return {name: os.path.join(d, name + ".pem") for name in ("ca", "server", "client")}


def make_server():
    global CERTS
    CERTS = make_certs()
    return Server(
        extra_args=["--auth", "--tlsMode", "requireTLS", "--tlsCertificateKeyFile", CERTS["server"],
                    "--tlsCAFile", CERTS["ca"]],
        prefix="brook-tlspymongo-",
        client_kwargs={"tls": True, "tlsCAFile": CERTS["ca"], "tlsCertificateKeyFile": CERTS["client"]})


def other_client(**kw):
    """A client with its own TLS settings (none of the suite's defaults)."""
    return pymongo.MongoClient("localhost", SERVER.port, directConnection=True, serverSelectionTimeoutMS=1500, **kw)


class TlsPymongo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The localhost exception, over TLS: the first user.
        c = SERVER.client()
        c.admin.command("createUser", "admin", pwd="adminpw", roles=["root"])
        c.close()

    def login(self, password="adminpw"):
        c = SERVER.client(username="admin", password=password, authSource="admin", authMechanism="SCRAM-SHA-256")
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
        c = other_client()
        self.addCleanup(c.close)
        with self.assertRaises(ServerSelectionTimeoutError) as cm:
            c.admin.command("ping")
        self.assertIn("requires TLS", str(cm.exception))

    def test_client_without_certificate_is_refused(self):
        c = other_client(tls=True, tlsCAFile=CERTS["ca"])
        self.addCleanup(c.close)
        with self.assertRaises(ServerSelectionTimeoutError):
            c.admin.command("ping")
        # ... and the server still serves clients that present one.
        self.assertEqual(self.login().admin.command("ping")["ok"], 1.0)


if __name__ == "__main__":
    sys.exit(run_suite("tlspymongo", sys.modules[__name__], make_server))
