// restart.js URI write K | check K: phase K writes 100 documents with
// j:true into restart.a and restart.b (the first phase also makes a
// unique index on a.s and a compound one on b); check K verifies phases
// 1..K: every document, both collections, the indexes, and that the
// unique index still refuses a duplicate (11000).
'use strict';
const assert = require('assert');
const { MongoClient } = require('mongodb');

async function main() {
	const [uri, what, kStr] = process.argv.slice(2);
	const k = Number(kStr);
	const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20000 });
	await client.connect();
	const db = client.db('restart');
	const a = db.collection('a'), b = db.collection('b');
	if (what === 'write') {
		if (k === 1) {
			await a.createIndex({ s: 1 }, { unique: true });
			await b.createIndex({ g: 1, n: -1 });
		}
		for (let n = 0; n < 100; n++) {
			const id = k * 1000 + n;
			await a.insertOne({ _id: id, s: `s${id}` }, { writeConcern: { j: true } });
			await b.insertOne({ _id: id, g: n % 7, n }, { writeConcern: { j: true } });
		}
		console.log(`wrote phase ${k}`);
	} else {
		const names = (await db.listCollections().toArray()).map(c => c.name).sort();
		assert.deepStrictEqual(names, ['a', 'b']);
		const ia = (await a.indexes()).map(i => i.name).sort();
		const ib = (await b.indexes()).map(i => i.name).sort();
		assert.deepStrictEqual(ia, ['_id_', 's_1']);
		assert.deepStrictEqual(ib, ['_id_', 'g_1_n_-1']);
		assert.strictEqual(await a.countDocuments(), 100 * k);
		assert.strictEqual(await b.countDocuments(), 100 * k);
		for (let p = 1; p <= k; p++)
			assert.strictEqual((await a.findOne({ s: `s${p * 1000 + 42}` }))._id, p * 1000 + 42);
		const g3 = await b.find({ g: 3 }).sort({ g: 1, n: -1 }).toArray();
		assert.strictEqual(g3.length, k * b_count(3));
		let dup = null;
		try { await a.insertOne({ _id: -1, s: 's1042' }); } catch (e) { dup = e.code; }
		assert.strictEqual(dup, 11000);
		console.log(`checked phases 1..${k}`);
	}
	await client.close();
}

function b_count(g) { let c = 0; for (let n = 0; n < 100; n++) if (n % 7 === g) c++; return c; }

main().catch(e => { console.error('FAIL', e && e.stack || e); process.exit(1); });
