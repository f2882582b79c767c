"""A brookd of the suite's own for the pymongo suites, like lib/brookd.js for node.

Server() starts build/bin/brookd (or $BROOKD) on a free port with a temporary --dbpath
and waits until it answers ping; stop() ends it and removes the directory (kept when
BROOK_KEEP_TMP=1). run_suite() runs a module's unittest cases against one Server and
prints the "NAME: N passed, N failed" line that scripts/test.sh counts.
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

ROOT = Path(__file__).resolve().parents[3]
BROOKD = Path(os.environ.get("BROOKD", ROOT / "build" / "bin" / "brookd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    # client_kwargs: MongoClient options every client() and the readiness probe use, e.g.
    # tls=True and its files for a server that requires TLS.
    def __init__(self, extra_args=(), prefix="brook-pymongo-", client_kwargs=None):
        self.client_kwargs = dict(client_kwargs or {})
        self.root = tempfile.mkdtemp(prefix=prefix)
        self.port = free_port()
        self.log_path = os.path.join(self.root, "brookd.log")
        dbpath = os.path.join(self.root, "db")
        os.mkdir(dbpath)
        args = [str(BROOKD), "--port", str(self.port), "--bind_ip", "127.0.0.1", "--dbpath", dbpath,
                "--replSet", "rs0"] + list(extra_args)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.uri = "mongodb://127.0.0.1:%d/" % self.port
        self._wait_ready()

    def client(self, **kw):
        """A direct connection; keyword arguments go to MongoClient."""
        options = dict(self.client_kwargs, serverSelectionTimeoutMS=5000)
        options.update(kw)
        return pymongo.MongoClient("127.0.0.1", self.port, directConnection=True, **options)

    def _wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("brookd exited with %s:\n%s" % (self.proc.returncode, self.tail()))
            try:
                c = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500, directConnection=True,
                                        **self.client_kwargs)
                c.admin.command("ping")
                c.close()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("brookd did not answer within 20 s:\n" + self.tail())

    def tail(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]

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


def run_suite(name, module, make_server):
    """Starts make_server(), stores it as module.SERVER, runs the module's tests; returns
    the process exit code. A server that cannot start counts as one failure."""
    try:
        module.SERVER = make_server()
    except Exception as e:
        print("%s: cannot start brookd: %s" % (name, e))
        print("%s: 0 passed, 1 failed" % name)
        return 1
    try:
        result = unittest.main(module=module, argv=[sys.argv[0]] + sys.argv[1:], exit=False, verbosity=2).result
    finally:
        module.SERVER.stop()
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("%s: %d passed, %d failed" % (name, passed, failed))
    return 1 if failed else 0
