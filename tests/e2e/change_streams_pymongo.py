#!/usr/bin/python3
"""Change streams through pymongo (Debian's python3-pymongo 3.11) against a brookd of its own.

Run with /usr/bin/python3:
    /usr/bin/python3 tests/e2e/change_streams_pymongo.py [unittest args]
Ends with "cspymongo: N passed, N failed"; exits 1 if anything failed.
BROOKD overrides the server binary (default build/bin/brookd).

Covers watch() on a collection, a database and the client; resume_after, start_after
(past an invalidate) and full_document='updateLookup'; try_next() and the resume token
moving on empty batches; the server's errors for bad resume options.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import pymongo  # noqa: E402
from pymongo.errors import OperationFailure  # noqa: E402

from brookd import Server, run_suite  # noqa: E402

SERVER = None
AWAIT_MS = 200


class ChangeStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = pymongo.MongoClient(SERVER.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=10000)
        cls.db = cls.client["cs_pymongo"]

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def setUp(self):
        self.db.drop_collection("items")
        self.items = self.db["items"]

    def next_n(self, stream, n):
        return [stream.next() for _ in range(n)]

    def test_collection_events(self):
        with self.items.watch(max_await_time_ms=AWAIT_MS) as stream:
            self.items.insert_one({"_id": 1, "a": 1})
            self.items.update_one({"_id": 1}, {"$set": {"b": 2}, "$unset": {"a": ""}})
            self.items.replace_one({"_id": 1}, {"c": 3})
            self.items.delete_one({"_id": 1})
            ins, upd, rep, dele = self.next_n(stream, 4)
        self.assertEqual(ins["operationType"], "insert")
        self.assertEqual(ins["fullDocument"], {"_id": 1, "a": 1})
        self.assertEqual(ins["ns"], {"db": "cs_pymongo", "coll": "items"})
        self.assertEqual(ins["documentKey"], {"_id": 1})
        self.assertEqual(upd["operationType"], "update")
        self.assertEqual(upd["updateDescription"]["updatedFields"], {"b": 2})
        self.assertEqual(upd["updateDescription"]["removedFields"], ["a"])
        self.assertNotIn("fullDocument", upd)
        self.assertEqual(rep["operationType"], "replace")
        self.assertEqual(rep["fullDocument"], {"_id": 1, "c": 3})
        self.assertEqual(dele["operationType"], "delete")
        self.assertEqual(dele["documentKey"], {"_id": 1})
        times = [e["clusterTime"] for e in (ins, upd, rep, dele)]
        self.assertEqual(times, sorted(times))
        self.assertEqual(len(set(times)), 4)

    def test_update_lookup(self):
        self.items.insert_one({"_id": 1, "n": 0})
        with self.items.watch(full_document="updateLookup", max_await_time_ms=AWAIT_MS) as stream:
            self.items.update_one({"_id": 1}, {"$inc": {"n": 1}})
            event = stream.next()
            self.assertEqual(event["fullDocument"], {"_id": 1, "n": 1})
            # The lookup reads the document as it is now, not as the update left it.
            self.items.update_one({"_id": 1}, {"$inc": {"n": 1}})
            self.items.delete_one({"_id": 1})
            event = stream.next()
            self.assertEqual(event["operationType"], "update")
            self.assertIsNone(event["fullDocument"])

    def test_resume_after(self):
        with self.items.watch(max_await_time_ms=AWAIT_MS) as stream:
            self.items.insert_many([{"_id": i} for i in range(6)])
            first = self.next_n(stream, 3)
            token = stream.resume_token
        self.assertEqual(token, first[-1]["_id"])
        self.assertEqual([e["documentKey"]["_id"] for e in first], [0, 1, 2])
        with self.items.watch(resume_after=token, max_await_time_ms=AWAIT_MS) as stream:
            rest = self.next_n(stream, 3)
            self.assertEqual([e["documentKey"]["_id"] for e in rest], [3, 4, 5])
            self.assertIsNone(stream.try_next())

    def test_start_after_invalidate(self):
        with self.items.watch(max_await_time_ms=AWAIT_MS) as stream:
            self.items.insert_one({"_id": 1})
            self.db.drop_collection("items")
            ins, drop, inv = self.next_n(stream, 3)
        self.assertEqual([ins["operationType"], drop["operationType"], inv["operationType"]],
                         ["insert", "drop", "invalidate"])
        # resume_after cannot continue past an invalidate; start_after can.
        with self.assertRaises(OperationFailure) as ctx:
            with self.items.watch(resume_after=inv["_id"], max_await_time_ms=AWAIT_MS) as stream:
                stream.try_next()
        self.assertEqual(ctx.exception.code, 260)
        self.items.insert_one({"_id": 2})
        with self.items.watch(start_after=inv["_id"], max_await_time_ms=AWAIT_MS) as stream:
            event = stream.next()
        self.assertEqual(event["operationType"], "insert")
        self.assertEqual(event["documentKey"], {"_id": 2})

    def test_database_and_client_streams(self):
        with self.db.watch(max_await_time_ms=AWAIT_MS) as dbs, \
                self.client.watch(max_await_time_ms=AWAIT_MS) as cls:
            self.items.insert_one({"_id": "x"})
            self.client["cs_pymongo_other"]["c"].insert_one({"_id": "y"})
            self.assertEqual(dbs.next()["ns"], {"db": "cs_pymongo", "coll": "items"})
            seen = [cls.next()["ns"] for _ in range(2)]
            self.assertIsNone(dbs.try_next(), "the database stream sees only its database")
        self.assertEqual(seen, [{"db": "cs_pymongo", "coll": "items"}, {"db": "cs_pymongo_other", "coll": "c"}])
        self.client.drop_database("cs_pymongo_other")

    def test_pipeline_filter(self):
        pipeline = [{"$match": {"operationType": "insert", "fullDocument.keep": True}}]
        with self.items.watch(pipeline, max_await_time_ms=AWAIT_MS) as stream:
            self.items.insert_many([{"_id": 1, "keep": False}, {"_id": 2, "keep": True}])
            self.items.delete_one({"_id": 2})
            self.assertEqual(stream.next()["documentKey"], {"_id": 2})
            self.assertIsNone(stream.try_next())

    def test_token_moves_on_empty_batches(self):
        with self.items.watch(max_await_time_ms=AWAIT_MS) as stream:
            self.assertIsNone(stream.try_next())
            before = stream.resume_token
            self.assertIsNotNone(before, "postBatchResumeToken is the token before any event")
            self.db["unrelated"].insert_one({})
            self.assertIsNone(stream.try_next())
            self.assertGreater(stream.resume_token["_data"], before["_data"])
            self.items.insert_one({"_id": 1})
            self.assertEqual(stream.next()["documentKey"], {"_id": 1})

    def test_option_errors(self):
        with self.assertRaises(OperationFailure) as ctx:
            with self.items.watch(full_document="bogus") as stream:
                stream.try_next()
        self.assertEqual(ctx.exception.code, 2)  # BadValue
        with self.assertRaises(OperationFailure) as ctx:
            with self.items.watch([{"$out": "x"}]) as stream:
                stream.try_next()
        self.assertEqual(ctx.exception.code, 20)  # IllegalOperation


def main():
    return run_suite("cspymongo", sys.modules[__name__], Server)


if __name__ == "__main__":
    sys.exit(main())
