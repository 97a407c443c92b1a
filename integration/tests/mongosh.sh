# mongosh, unmodified, against mojim-docd: a script of the everyday shell
# commands (create, insertMany, find with filters, sort and projection,
# updateOne/updateMany, deleteMany, countDocuments, createIndex, an
# aggregate, show dbs, show collections, an unknown command), fed on
# stdin as a user would type it; its results must be exactly
# mongosh_crud.expected, and the data must survive a clean restart.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
start_docd "$T/db"
timeout 120 "$JS/node_modules/.bin/mongosh" --quiet --norc "$DOCD_URI" \
	<"$here/js/mongosh_crud.txt" >"$T/out" 2>&1 || fail "mongosh failed: $(tail -5 "$T/out")"
grep -o 'R .*' "$T/out" >"$T/got" || true
diff -u "$here/mongosh_crud.expected" "$T/got" >"$T/diff" ||
	fail "mongosh's results differ: $(cat "$T/diff")"
grep -Eq '> shop +[0-9]+' "$T/out" || fail "show dbs did not list shop: $(grep -A3 'show dbs' "$T/out" | head)"
grep -q '> items$' "$T/out" || fail "show collections did not list items"
stop_docd
start_docd "$T/db"
echo 'print("R again", JSON.stringify(db.getSiblingDB("shop").items.find({}, {_id: 1}).sort({_id: 1}).toArray()), JSON.stringify(db.getSiblingDB("shop").items.getIndexes().map(i => i.name)))' >"$T/again.js"
mongosh_run "$T/again.js" "$T/again"
grep -q 'R again \[{"_id":2},{"_id":3}\] \["_id_","qty_1"\]' "$T/again" ||
	fail "after a restart: $(cat "$T/again")"
stop_docd
echo "mongosh: $(wc -l <"$T/got") results as expected, show dbs and show collections, all kept across a restart"
