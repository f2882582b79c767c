#!/usr/bin/python3
"""CRUD through pymongo (Debian's python3-pymongo) against a brookd of its own.

Run with /usr/bin/python3, not whatever python3 is first on PATH:
    /usr/bin/python3 tests/e2e/crud_pymongo.py [unittest args]
Ends with "pymongo: N passed, N failed"; exits 1 if anything failed.
BROOKD overrides the server binary (default build/bin/brookd).

pymongo 3.x still opens with the legacy OP_QUERY isMaster handshake, so this suite
also covers that path of the wire layer.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import pymongo  # noqa: E402
from pymongo import ASCENDING, DESCENDING, ReturnDocument  # noqa: E402
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure  # noqa: E402

from brookd import Server, run_suite  # noqa: E402

SERVER = None


class CrudTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # replicaSet=rs0: pymongo 3.x treats a single seed without it as a direct
        # connection; with it, the client must discover brookd as the set's primary.
        cls.client = pymongo.MongoClient(SERVER.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=10000)
        cls.db = cls.client["pymongo_e2e"]

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def setUp(self):
        self.db.drop_collection("items")
        self.items = self.db["items"]

    def test_hello_reports_replica_set_primary(self):
        hello = self.client.admin.command("hello")
        self.assertEqual(hello["setName"], "rs0")
        self.assertTrue(hello["isWritablePrimary"])
        self.assertEqual(hello["hosts"], ["127.0.0.1:%d" % SERVER.port])
        self.assertEqual(self.client.primary, ("127.0.0.1", SERVER.port))

    def test_insert_and_find(self):
        r = self.items.insert_one({"_id": 1, "name": "a", "qty": 5})
        self.assertEqual(r.inserted_id, 1)
        r = self.items.insert_many([{"_id": 2, "qty": 10}, {"_id": 3, "qty": 15}])
        self.assertEqual(r.inserted_ids, [2, 3])
        self.assertEqual(self.items.find_one({"_id": 1}), {"_id": 1, "name": "a", "qty": 5})
        got = list(self.items.find({"qty": {"$gt": 6}}, {"qty": 1}).sort("qty", DESCENDING))
        self.assertEqual(got, [{"_id": 3, "qty": 15}, {"_id": 2, "qty": 10}])
        self.assertIsNone(self.items.find_one({"_id": 99}))

    def test_generated_object_id(self):
        r = self.items.insert_one({"x": 1})
        doc = self.items.find_one({"x": 1})
        self.assertEqual(doc["_id"], r.inserted_id)

    def test_cursor_batches_sort_skip_limit(self):
        self.items.insert_many([{"_id": i, "v": i % 7} for i in range(250)])
        ids = [d["_id"] for d in self.items.find().sort("_id", ASCENDING).batch_size(40)]
        self.assertEqual(ids, list(range(250)))
        page = [d["_id"] for d in self.items.find().sort([("v", ASCENDING), ("_id", DESCENDING)]).skip(3).limit(4)]
        self.assertEqual(page, [224, 217, 210, 203])

    def test_updates(self):
        self.items.insert_many([{"_id": 1, "n": 1, "tags": []}, {"_id": 2, "n": 2, "tags": []}])
        r = self.items.update_one({"_id": 1}, {"$inc": {"n": 10}, "$push": {"tags": "x"}})
        self.assertEqual((r.matched_count, r.modified_count), (1, 1))
        r = self.items.update_many({}, {"$set": {"flag": True}})
        self.assertEqual((r.matched_count, r.modified_count), (2, 2))
        r = self.items.update_one({"_id": 3}, {"$set": {"n": 3}}, upsert=True)
        self.assertEqual(r.upserted_id, 3)
        r = self.items.replace_one({"_id": 2}, {"replaced": True})
        self.assertEqual(r.modified_count, 1)
        docs = list(self.items.find().sort("_id", 1))
        self.assertEqual(docs, [
            {"_id": 1, "n": 11, "tags": ["x"], "flag": True},
            {"_id": 2, "replaced": True},
            {"_id": 3, "n": 3},
        ])
        after = self.items.find_one_and_update({"_id": 3}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER)
        self.assertEqual(after, {"_id": 3, "n": 4})
        before = self.items.find_one_and_delete({"_id": 3})
        self.assertEqual(before, {"_id": 3, "n": 4})

    def test_deletes_and_counts(self):
        self.items.insert_many([{"_id": i, "even": i % 2 == 0} for i in range(10)])
        self.assertEqual(self.items.delete_one({"_id": 0}).deleted_count, 1)
        self.assertEqual(self.items.delete_many({"even": True}).deleted_count, 4)
        self.assertEqual(self.items.count_documents({}), 5)
        self.assertEqual(self.items.estimated_document_count(), 5)
        self.assertEqual(sorted(self.items.distinct("even")), [False])

    def test_aggregate(self):
        self.items.insert_many([
            {"_id": 1, "k": "a", "v": 1}, {"_id": 2, "k": "b", "v": 2}, {"_id": 3, "k": "a", "v": 3},
        ])
        got = list(self.items.aggregate([
            {"$match": {"v": {"$gte": 1}}},
            {"$group": {"_id": "$k", "total": {"$sum": "$v"}}},
            {"$sort": {"_id": 1}},
        ]))
        self.assertEqual(got, [{"_id": "a", "total": 4}, {"_id": "b", "total": 2}])

    def test_indexes(self):
        name = self.items.create_index([("email", ASCENDING)], unique=True)
        self.assertEqual(name, "email_1")
        info = self.items.index_information()
        self.assertIn("email_1", info)
        self.assertTrue(info["email_1"].get("unique"))
        self.items.drop_index("email_1")
        self.assertNotIn("email_1", self.items.index_information())

    def test_duplicate_key_errors(self):
        self.items.insert_one({"_id": 1, "email": "a@example.com"})
        with self.assertRaises(DuplicateKeyError) as ctx:
            self.items.insert_one({"_id": 1})
        self.assertEqual(ctx.exception.code, 11000)
        self.items.create_index("email", unique=True)
        self.items.insert_one({"_id": 2, "email": "x@example.com"})
        with self.assertRaises(DuplicateKeyError):
            self.items.insert_one({"_id": 3, "email": "x@example.com"})
        with self.assertRaises(BulkWriteError) as bulk:
            self.items.insert_many([{"_id": 4, "email": "d@example.com"}, {"_id": 1, "email": "b@example.com"},
                                    {"_id": 5, "email": "e@example.com"}], ordered=False)
        details = bulk.exception.details
        self.assertEqual(details["nInserted"], 2)
        self.assertEqual([(e["index"], e["code"]) for e in details["writeErrors"]], [(1, 11000)])
        self.assertEqual(self.items.count_documents({}), 4)

    def test_server_errors(self):
        with self.assertRaises(OperationFailure) as ctx:
            self.db.command("brookNoSuchCommand")
        self.assertEqual(ctx.exception.code, 59)
        self.items.insert_one({"_id": 1})
        with self.assertRaises(OperationFailure) as ctx:
            self.items.update_one({"_id": 1}, {"$bogusOperator": {"a": 1}})
        self.assertEqual(ctx.exception.code, 9)  # FailedToParse

    def test_drop_and_list(self):
        self.items.insert_one({"x": 1})
        self.db["other"].insert_one({"x": 1})
        self.assertIn("other", self.db.list_collection_names())
        self.db.drop_collection("other")
        self.assertNotIn("other", self.db.list_collection_names())
        self.assertIn("pymongo_e2e", self.client.list_database_names())


def main():
    return run_suite("pymongo", sys.modules[__name__], Server)


if __name__ == "__main__":
    sys.exit(main())
