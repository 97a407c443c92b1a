"""pymongo_client.py URI: Debian's pymongo 3.11, unmodified, against
mojim-docd: insert with j:true, find, count, update, a duplicate key
(11000) and an unknown command (59). Prints "ok NAME" per check."""
import sys

import pymongo
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.write_concern import WriteConcern


def main():
    client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=20000)
    coll = client.py.docs.with_options(write_concern=WriteConcern(j=True))
    coll.insert_many([{"_id": i, "sq": i * i, "tag": "even" if i % 2 == 0 else "odd"}
                      for i in range(500)])
    coll.insert_one({"_id": "one", "sq": -1})
    print("ok insert j:true")
    assert coll.find_one({"_id": 12})["sq"] == 144
    got = [d["_id"] for d in coll.find({"sq": {"$gte": 400, "$lt": 900}}).sort("_id", -1)]
    assert got == list(range(29, 19, -1)), got
    assert len(list(coll.find({}, batch_size=50))) == 501
    print("ok find")
    assert coll.count_documents({"tag": "odd"}) == 250
    assert coll.estimated_document_count() == 501
    print("ok count")
    r = coll.update_many({"tag": "odd"}, {"$inc": {"sq": 1}, "$set": {"seen": True}})
    assert r.matched_count == 250 and r.modified_count == 250, r.raw_result
    assert coll.find_one({"_id": 3}) == {"_id": 3, "sq": 10, "tag": "odd", "seen": True}
    r = coll.replace_one({"_id": "one"}, {"v": 2})
    assert r.modified_count == 1
    print("ok update")
    try:
        coll.insert_one({"_id": 7})
        raise AssertionError("no duplicate key error")
    except DuplicateKeyError as e:
        assert e.code == 11000
    print("ok duplicate key 11000")
    try:
        client.py.command("noSuchCommandHere")
        raise AssertionError("no error for an unknown command")
    except OperationFailure as e:
        assert e.code == 59, e.code
    print("ok unknown command 59")
    client.drop_database("py")
    client.close()


main()
