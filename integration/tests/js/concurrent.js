// concurrent.js URI: writers on separate connections racing on the same
// documents. 4 clients x 250 $inc of one counter must add up to 1000 (no
// lost update), and 4 clients deleting and re-inserting the same 5 _ids
// for 2 s must leave at most one document per _id, each in the _id index
// (no duplicate behind a racing check). Prints "ok ..." per check.
'use strict';
const assert = require('assert');
const { MongoClient } = require('mongodb');

async function main() {
	const uri = process.argv[2];
	const clients = await Promise.all([0, 1, 2, 3].map(() =>
		new MongoClient(uri, { maxPoolSize: 1 }).connect()));
	const col = i => clients[i].db('conc').collection('c');
	await col(0).insertOne({ _id: 'ctr', n: 0 });
	await Promise.all([0, 1, 2, 3].map(async i => {
		for (let k = 0; k < 250; k++)
			await col(i).updateOne({ _id: 'ctr' }, { $inc: { n: 1 } });
	}));
	assert.strictEqual((await col(0).findOne({ _id: 'ctr' })).n, 1000);
	console.log('ok 4 x 250 concurrent $inc = 1000');
	const stop = Date.now() + 2000;
	await Promise.all([0, 1, 2, 3].map(async i => {
		for (let k = 0; Date.now() < stop; k++) {
			const _id = k % 5;
			await col(i).deleteOne({ _id });
			try { await col(i).insertOne({ _id, by: i }); } catch (e) {
				assert.strictEqual(e.code, 11000, e.message);
			}
		}
	}));
	const all = await col(0).find({ _id: { $type: 'number' } }).toArray();
	const ids = all.map(d => d._id).sort();
	assert.deepStrictEqual(ids, [...new Set(ids)], `duplicates: ${ids}`);
	for (const id of ids)
		assert.ok(await col(0).findOne({ _id: id }), `${id} not in the index`);
	const st = await clients[0].db('conc').command({ collStats: 'c' });
	assert.strictEqual(st.count, ids.length + 1, `collStats ${st.count} records`);
	console.log(`ok delete/insert races left ${ids.length} unique _ids`);
	await Promise.all(clients.map(c => c.close()));
}

main().catch(e => { console.error('FAIL', e && e.stack || e); process.exit(1); });
