#!/usr/bin/python3
"""Access control through pymongo (Debian's python3-pymongo 3.x) against brookd --auth.

Run with /usr/bin/python3:
    /usr/bin/python3 tests/e2e/auth_pymongo.py [unittest args]
Ends with "authpymongo: N passed, N failed"; exits 1 if anything failed.
BROOKD overrides the server binary (default build/bin/brookd).

pymongo 3.x authenticates over the legacy OP_QUERY isMaster handshake, so this also
covers saslSupportedMechs / speculativeAuthenticate on that path.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import pymongo  # noqa: E402
from pymongo.errors import OperationFailure  # noqa: E402

from brookd import Server, run_suite  # noqa: E402

SERVER = None


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        anon = SERVER.client()
        # The localhost exception lets the first user be created without logging in.
        anon.admin.command("createUser", "root", pwd="rootpw", roles=["root"])
        anon.close()
        cls.root = SERVER.client(username="root", password="rootpw", authSource="admin")
        cls.root.shop.command("createUser", "clerk", pwd="clerkpw", roles=["read"])
        cls.root.shop.items.insert_many([{"_id": i} for i in range(5)])

    @classmethod
    def tearDownClass(cls):
        cls.root.close()

    def login(self, user, pwd, mech, source="shop"):
        c = SERVER.client(username=user, password=pwd, authSource=source, authMechanism=mech)
        self.addCleanup(c.close)
        return c

    def test_both_mechanisms_log_in(self):
        for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
            c = self.login("clerk", "clerkpw", mech)
            self.assertEqual(c.shop.items.count_documents({}), 5)
            status = c.shop.command("connectionStatus")
            self.assertEqual(status["authInfo"]["authenticatedUsers"], [{"user": "clerk", "db": "shop"}])

    def test_wrong_password_fails_with_18(self):
        for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
            c = self.login("clerk", "bad", mech)
            with self.assertRaises(OperationFailure) as cm:
                c.shop.items.find_one()
            self.assertEqual(cm.exception.code, 18)

    def test_read_only_user_denied_insert(self):
        c = self.login("clerk", "clerkpw", "SCRAM-SHA-256")
        self.assertIsNotNone(c.shop.items.find_one({"_id": 1}))
        with self.assertRaises(OperationFailure) as cm:
            c.shop.items.insert_one({"_id": 99})
        self.assertEqual(cm.exception.code, 13)

    def test_unauthenticated_is_refused(self):
        c = SERVER.client()
        self.addCleanup(c.close)
        with self.assertRaises(OperationFailure) as cm:
            c.shop.items.find_one()
        self.assertEqual(cm.exception.code, 13)

    def test_change_stream_scope(self):
        c = self.login("clerk", "clerkpw", "SCRAM-SHA-256")
        with c.shop.items.watch(max_await_time_ms=50) as stream:
            self.assertIsNone(stream.try_next())
        with self.assertRaises(OperationFailure) as cm:
            with c.watch(max_await_time_ms=50) as stream:
                stream.try_next()
        self.assertEqual(cm.exception.code, 13)

    def test_backup_and_restore_roles(self):
        self.root.admin.command("createUser", "dumper", pwd="dumperpw", roles=["backup"])
        self.root.admin.command("createUser", "loader", pwd="loaderpw", roles=["restore"])
        dumper = self.login("dumper", "dumperpw", "SCRAM-SHA-256", source="admin")
        self.assertEqual(dumper.shop.items.count_documents({}), 5)
        self.assertIsNotNone(dumper.local["oplog.rs"].find_one())
        with self.assertRaises(OperationFailure) as cm:
            dumper.shop.items.insert_one({"_id": "dumped"})
        self.assertEqual(cm.exception.code, 13)
        loader = self.login("loader", "loaderpw", "SCRAM-SHA-256", source="admin")
        loader.restored.things.insert_one({"_id": 1})
        with self.assertRaises(OperationFailure) as cm:
            loader.restored.things.find_one()
        self.assertEqual(cm.exception.code, 13)

    def test_users_info_filter(self):
        users = self.root.shop.command("usersInfo", 1, filter={"roles.role": "read"})["users"]
        self.assertIn("clerk", [u["user"] for u in users])
        self.assertTrue(all(any(r["role"] == "read" for r in u["roles"]) for u in users))
        self.assertEqual(self.root.shop.command("usersInfo", 1, filter={"roles.role": "readWrite"})["users"], [])
        self.assertEqual(self.root.shop.command("usersInfo", 1, filter={"user": "nobody"})["users"], [])

    def test_session_of_another_user_is_refused(self):
        self.root.shop.command("createUser", "other", pwd="otherpw", roles=["read"])
        owner = self.login("clerk", "clerkpw", "SCRAM-SHA-256")
        intruder = self.login("other", "otherpw", "SCRAM-SHA-256")
        with owner.start_session() as mine:
            self.assertIsNotNone(owner.shop.items.find_one(session=mine))
            with intruder.start_session() as forged:
                # Drivers never send another client's lsid; forge one as a hostile client could.
                forged._server_session.session_id = dict(mine.session_id)
                with self.assertRaises(OperationFailure) as cm:
                    intruder.shop.items.find_one(session=forged)
                self.assertEqual(cm.exception.code, 13)
            self.assertIsNotNone(owner.shop.items.find_one(session=mine))


def main():
    return run_suite("authpymongo", sys.modules[__name__],
                     lambda: Server(["--auth"], prefix="brook-authpymongo-"))


if __name__ == "__main__":
    sys.exit(main())
