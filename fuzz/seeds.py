#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into OUTDIR/<target>/.

Nothing here is committed as data: the BSON seeds are read at run time from the MongoDB
spec's bson-corpus (../shared/spec/source/bson-corpus/tests, never copied into the repo),
and the command, frame and SCRAM seeds are built here the way the drivers build them
(the node driver's handshake, OP_MSG with document sequences and checksums, OP_QUERY
isMaster, OP_COMPRESSED, a real SCRAM conversation with a correct proof).

Usage: fuzz/seeds.py OUTDIR [SPEC_SOURCE_DIR]
Needs Debian's python3-pymongo (for its bson module) under /usr/bin/python3.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import zlib

import bson
from bson import Int64, ObjectId, Timestamp
from bson.binary import Binary, UUID_SUBTYPE

OP_QUERY, OP_COMPRESSED, OP_MSG = 2004, 2012, 2013


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def header(length, request_id, op):
    return struct.pack("<iiii", length, request_id, 0, op)


def op_msg(body, request_id=1, flags=0, sequences=(), checksum=False):
    sections = b"\x00" + bson.encode(body)
    for ident, docs in sequences:
        payload = ident.encode() + b"\x00" + b"".join(bson.encode(d) for d in docs)
        sections += b"\x01" + struct.pack("<i", 4 + len(payload)) + payload
    if checksum:
        flags |= 1
    rest = struct.pack("<I", flags) + sections
    length = 16 + len(rest) + (4 if checksum else 0)
    frame = header(length, request_id, OP_MSG) + rest
    if checksum:
        frame += struct.pack("<I", crc32c(frame))
    return frame


def op_query(ns, query, request_id=1):
    rest = struct.pack("<i", 0) + ns.encode() + b"\x00" + struct.pack("<ii", 0, -1) + bson.encode(query)
    return header(16 + len(rest), request_id, OP_QUERY) + rest


def op_compressed(frame, compressor_id, packed):
    original_op = struct.unpack_from("<i", frame, 12)[0]
    rest = struct.pack("<iiB", original_op, len(frame) - 16, compressor_id) + packed
    return header(16 + len(rest), 7, OP_COMPRESSED) + rest


LSID = {"id": Binary(bytes(range(16)), UUID_SUBTYPE)}
CLUSTER_TIME = {"clusterTime": Timestamp(1705046256, 1),
                "signature": {"hash": Binary(b"\x00" * 20), "keyId": Int64(0)}}

# Resume tokens as Brook and MongoDB write them (KeyString hex): an event token with a
# collection UUID and an eventIdentifier, a high-water mark, a version-0-style short one.
TOKENS = [
    "82612E8513000000012B022C0100296E5A1004A5093ABB38FE4B9EA67F01BB1A96D812463C5F6964003C5F5F5F78000004",
    "82612E8513000000012B022C0100296E5A1004",
    "8200000001000000012B0E04",
    "82650000000000000001",
]


def driver_commands():
    """Commands as the node driver and mongosh send them (fields and order)."""
    meta = {"driver": {"name": "nodejs", "version": "6.9.0"},
            "os": {"type": "Linux", "name": "linux", "architecture": "x64", "version": "6.1.0"},
            "platform": "Node.js v20.19.0, LE"}
    common = {"lsid": LSID, "$clusterTime": CLUSTER_TIME, "$db": "test"}
    token = {"_data": TOKENS[0]}
    return [
        {"hello": 1, "helloOk": True, "client": meta, "compression": ["zstd", "zlib", "snappy"],
         "saslSupportedMechs": "admin.fuzz",
         "speculativeAuthenticate": {"saslStart": 1, "mechanism": "SCRAM-SHA-256",
                                     "payload": Binary(b"n,,n=fuzz,r=abcdefgh"), "db": "admin"},
         "$db": "admin"},
        {"find": "c", "filter": {"a": {"$gt": 1}, "b": {"$in": ["x", "y"]}}, "sort": {"a": -1},
         "projection": {"a": 1, "c": {"$slice": 2}}, "limit": 10, "skip": 1, "batchSize": 5,
         "collation": {"locale": "simple"}, **common},
        {"find": "c", "filter": {"$or": [{"a.b.c": 1}, {"c": {"$elemMatch": {"$gte": 2}}}],
                                 "$expr": {"$lt": ["$a", {"$add": [1, "$$x"]}]}},
         "projection": {"c.$": 1}, "let": {"x": 3}, "singleBatch": True, **common},
        {"find": "c", "filter": {"s": {"$regex": "^he", "$options": "i"}, "n": None,
                                 "_id": {"$type": ["int", "string"]}},
         "sort": {"_id": 1, "x.y.z": -1}, "hint": {"_id": 1}, **common},
        {"update": "c", "updates": [
            {"q": {"_id": 1}, "u": {"$set": {"a": 2, "c.1": 5}, "$inc": {"n": Int64(1)},
                                    "$unset": {"b": ""}}, "upsert": True},
            {"q": {"a.b.c": 1}, "u": {"$set": {"a.b.$[e].c": 9}}, "arrayFilters": [{"e.c": {"$gte": 1}}],
             "multi": True},
            {"q": {}, "u": [{"$set": {"t": {"$concat": ["$b", "!"]}}}, {"$unset": "n"}]},
            {"q": {"_id": "k"}, "u": {"_id": "k", "replaced": True}},
            {"q": {"c": 2}, "u": {"$push": {"c": {"$each": [4, 5], "$sort": -1, "$slice": 3}},
                                  "$addToSet": {"tags": "t"}, "$currentDate": {"d": {"$type": "timestamp"}}}},
            {"q": {"arr": {"$exists": True}}, "u": {"$pull": {"arr": {"x": 3}}, "$rename": {"d": "e"},
                                                    "$min": {"m": 1}, "$mul": {"l": 2}}},
        ], "ordered": True, "let": {"v": 1}, **common},
        {"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}, **common},
        {"aggregate": "c", "pipeline": [
            {"$changeStream": {"fullDocument": "updateLookup", "fullDocumentBeforeChange": "whenAvailable",
                               "resumeAfter": token, "showExpandedEvents": True}},
            {"$match": {"operationType": {"$in": ["insert", "update"]}, "fullDocument.a": {"$gte": 1}}},
            {"$project": {"fullDocument": 1, "ns": 1, "documentKey": 1}},
            {"$addFields": {"seen": True}},
            {"$changeStreamSplitLargeEvent": {}}], "cursor": {"batchSize": 1}, **common},
        {"aggregate": 1, "pipeline": [{"$changeStream": {"allChangesForCluster": True,
                                                         "startAtOperationTime": Timestamp(1705046256, 1)}},
                                      {"$replaceRoot": {"newRoot": "$fullDocument"}}],
         "cursor": {}, "$db": "admin"},
        {"aggregate": 1, "pipeline": [{"$changeStream": {"startAfter": token}},
                                      {"$redact": {"$cond": [{"$eq": ["$operationType", "insert"]},
                                                             "$$KEEP", "$$PRUNE"]}},
                                      {"$unset": ["clusterTime"]}], "cursor": {}, **common},
        {"insert": "c", "documents": [{"_id": ObjectId("65a0f0f0f0f0f0f0f0f0f0f0"), "a": 1}],
         "ordered": True, "txnNumber": Int64(1), **common},
        {"getMore": Int64(123456789), "collection": "c", "maxTimeMS": 1000, **common},
        {"saslStart": 1, "mechanism": "SCRAM-SHA-1", "payload": Binary(b"n,,n=fuzz,r=abcdefgh"),
         "autoAuthorize": 1, "options": {"skipEmptyExchange": True}, "$db": "admin"},
    ]


def bson_corpus(spec):
    """Every BSON byte string of the bson-corpus: valid, degenerate and decode errors."""
    out = []
    tests = os.path.join(spec, "bson-corpus", "tests")
    for name in sorted(os.listdir(tests)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(tests, name)) as f:
            suite = json.load(f)
        for case in suite.get("valid", []):
            for key in ("canonical_bson", "degenerate_bson"):
                if key in case:
                    out.append(bytes.fromhex(case[key]))
        for case in suite.get("decodeErrors", []):
            out.append(bytes.fromhex(case["bson"]))
    return out


def scram_conversations():
    """Correct client messages against scram_fuzz.cpp's fixed credentials and nonce."""
    server_nonce = "c2VydmVyLW5vbmNlLWZvci1mdXp6aW5n"
    out = []
    for mech_byte, name, salt, password in (
            (0, "sha256", b"fuzz-salt-sha256-28-bytes!!!", b"pencil"),
            (1, "sha1", b"fuzz-salt-sha1!!", hashlib.md5(b"fuzz:mongo:pencil").hexdigest().encode())):
        client_nonce = "fyko+d2lbbFgONRv9qkxdawL"
        first_bare = "n=fuzz,r=" + client_nonce
        nonce = client_nonce + server_nonce
        server_first = "r=%s,s=%s,i=4096" % (nonce, base64.b64encode(salt).decode())
        without_proof = "c=biws,r=" + nonce
        auth_message = ",".join([first_bare, server_first, without_proof]).encode()
        salted = hashlib.pbkdf2_hmac(name, password, salt, 4096)
        client_key = hmac.new(salted, b"Client Key", name).digest()
        stored_key = hashlib.new(name, client_key).digest()
        signature = hmac.new(stored_key, auth_message, name).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        final = without_proof + ",p=" + base64.b64encode(proof).decode()
        out.append(bytes([mech_byte]) + ("n,," + first_bare).encode() + b"\x00" + final.encode())
        # The same with a wrong proof, and with an escaped user name and a channel-binding flag.
        out.append(bytes([mech_byte]) + ("n,," + first_bare).encode() + b"\x00" +
                   (without_proof + ",p=" + base64.b64encode(b"\x01" * len(proof)).decode()).encode())
        out.append(bytes([mech_byte]) + b"y,,n=a=2Cb=3Dc,r=xyz\x00c=eSws,r=xyz,p=AAAA")
    return out


def frames(commands, corpus):
    out = []
    for i, cmd in enumerate(commands):
        out.append(op_msg(cmd, request_id=i + 1))
        out.append(op_msg(cmd, request_id=i + 1, checksum=True))
    # Document sequences (kind 1), as drivers send insert and update batches.
    out.append(op_msg({"insert": "c", "$db": "test"}, sequences=[("documents", [{"_id": 1}, {"_id": 2, "a": [1]}])]))
    out.append(op_msg({"update": "c", "$db": "test"},
                      sequences=[("updates", [{"q": {}, "u": {"$set": {"a": 1}}}])], flags=2))
    out.append(op_msg({"ping": 1, "$db": "admin"}, flags=1 << 16))
    out.append(op_query("admin.$cmd", {"isMaster": 1, "helloOk": True, "client": {"application": {"name": "x"}}}))
    out.append(op_query("admin.$cmd", {"$query": {"ismaster": 1}, "$readPreference": {"mode": "primary"}}))
    hello = op_msg(commands[0])
    out.append(op_compressed(hello, 2, zlib.compress(hello[16:])))
    out.append(op_compressed(hello, 0, hello[16:]))
    # A few corpus documents as command bodies, so the fuzzer starts from odd BSON too.
    for doc in corpus[:: max(1, len(corpus) // 40)]:
        flags = struct.pack("<I", 0)
        out.append(header(16 + 4 + 1 + len(doc), 99, OP_MSG) + flags + b"\x00" + doc)
    return out


def tokens():
    out = []
    for hex_token in TOKENS:
        out.append(b"\x01" + bytes.fromhex(hex_token))
        out.append(b"\x00" + bson.encode({"_data": hex_token}))
    out.append(b"\x00" + bson.encode({"_data": TOKENS[0], "_typeBits": Binary(b"\x01")}))
    return out


def write(outdir, target, items):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    for i, data in enumerate(items):
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)


def main():
    outdir = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    spec = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "shared", "spec", "source")
    corpus = bson_corpus(spec)
    commands = driver_commands()
    write(outdir, "bson_validate_fuzz", corpus + [bson.encode(c) for c in commands])
    write(outdir, "wire_frame_fuzz", frames(commands, corpus))
    write(outdir, "command_parse_fuzz", [bson.encode(c) for c in commands])
    write(outdir, "resume_token_fuzz", tokens())
    write(outdir, "scram_fuzz", scram_conversations())


if __name__ == "__main__":
    main()
