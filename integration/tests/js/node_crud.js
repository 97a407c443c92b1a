// The Node driver, unmodified, against mojim-docd (node_driver.sh):
// CRUD, a cursor over 10,000 documents across getMore batches, bulkWrite,
// a duplicate key (11000), write concerns w:1, j:true and majority, an
// unknown command (59), cursors killed by a drop. Prints one "ok NAME" line per check; any failed
// assertion exits non-zero with the reason.
'use strict';
const assert = require('assert');
const { MongoClient, MongoServerError, MongoBulkWriteError } = require('mongodb');

async function expectCode(code, fn) {
	try {
		await fn();
	} catch (e) {
		assert.strictEqual(e.code, code, `wanted code ${code}, got ${e.code}: ${e.message}`);
		return e;
	}
	throw new Error(`wanted an error with code ${code}, none came`);
}

async function main() {
	const client = new MongoClient(process.argv[2], { serverSelectionTimeoutMS: 10000 });
	await client.connect();
	const db = client.db('drv');
	const c = db.collection('docs');

	const many = [];
	for (let i = 0; i < 10000; i++)
		many.push({ _id: i, k: i % 97, s: 'v' + i, nested: { n: i } });
	const r1 = await c.insertMany(many, { writeConcern: { w: 1 } });
	assert.strictEqual(r1.insertedCount, 10000);
	console.log('ok insertMany 10000 w:1');

	const cur = c.find({}, { batchSize: 500 }).sort({ _id: 1 });
	let n = 0;
	for await (const d of cur) {
		assert.strictEqual(d._id, n);
		n++;
	}
	assert.strictEqual(n, 10000);
	assert.deepStrictEqual((await c.find({}).sort({ _id: -1 }).limit(3).toArray()).map(d => d._id),
		[9999, 9998, 9997]);
	assert.deepStrictEqual((await c.find({ _id: { $gte: 5000 } }).sort({ _id: 1 }).skip(1).limit(2)
		.toArray()).map(d => d._id), [5001, 5002]);
	assert.deepStrictEqual((await c.find({ k: 0 }).sort({ _id: -1 }).limit(2).toArray()).map(d => d._id),
		[9991, 9894]);
	console.log('ok cursor 10000 over getMore batches of 500, _id order both ways');

	const part = c.find({ k: 5 }, { batchSize: 10 });
	assert.strictEqual((await part.next()).k, 5);
	await part.close(); // killCursors
	console.log('ok killCursors');

	assert.strictEqual((await c.findOne({ _id: 42 })).s, 'v42');
	assert.strictEqual((await c.findOne({ 'nested.n': 4242 }))._id, 4242);
	const u = await c.updateOne({ _id: 7 }, { $set: { s: 'seven' }, $inc: { k: 1000 } });
	assert.strictEqual(u.matchedCount, 1);
	assert.strictEqual(u.modifiedCount, 1);
	assert.deepStrictEqual(await c.findOne({ _id: 7 }, { projection: { _id: 0, s: 1, k: 1 } }),
		{ k: 1007, s: 'seven' });
	const rep = await c.replaceOne({ _id: 8 }, { only: true });
	assert.strictEqual(rep.modifiedCount, 1);
	assert.deepStrictEqual(await c.findOne({ _id: 8 }), { _id: 8, only: true });
	const del = await c.deleteOne({ _id: 9 });
	assert.strictEqual(del.deletedCount, 1);
	const ups = await c.updateOne({ _id: 'new' }, { $set: { made: 1 } }, { upsert: true });
	assert.strictEqual(ups.upsertedId, 'new');
	console.log('ok findOne updateOne replaceOne deleteOne upsert');

	assert.strictEqual(await c.countDocuments({ k: 3 }), many.filter(d => d.k === 3).length);
	assert.strictEqual(await c.estimatedDocumentCount(), 10000);
	assert.strictEqual((await c.distinct('k', { _id: { $gte: 100, $lt: 300 } })).length, 97);
	console.log('ok countDocuments estimatedDocumentCount distinct');

	const bw = await c.bulkWrite([
		{ insertOne: { document: { _id: 'b1', x: 1 } } },
		{ updateOne: { filter: { _id: 'b1' }, update: { $inc: { x: 1 } } } },
		{ updateMany: { filter: { k: 96 }, update: { $set: { last: true } } } },
		{ replaceOne: { filter: { _id: 10 }, replacement: { r: 1 } } },
		{ deleteOne: { filter: { _id: 11 } } },
		{ deleteMany: { filter: { k: 95 } } },
	], { ordered: true });
	assert.strictEqual(bw.insertedCount, 1);
	assert.strictEqual(bw.modifiedCount, 1 + many.filter(d => d.k === 96).length + 1);
	assert.strictEqual(bw.deletedCount, 1 + many.filter(d => d.k === 95 && d._id !== 11).length);
	assert.strictEqual((await c.findOne({ _id: 'b1' })).x, 2);
	console.log('ok bulkWrite');

	const dup = await expectCode(11000, () => c.insertOne({ _id: 42 }));
	assert.ok(dup instanceof MongoServerError);
	assert.match(dup.message, /E11000 duplicate key error collection: drv\.docs index: _id_/);
	const bdup = await expectCode(11000, () => c.insertMany([{ _id: 'd1' }, { _id: 43 }, { _id: 'd2' }], { ordered: true }));
	assert.ok(bdup instanceof MongoBulkWriteError);
	assert.ok(await c.findOne({ _id: 'd1' }));
	assert.strictEqual(await c.findOne({ _id: 'd2' }), null); // ordered: stopped
	const uq = db.collection('uniq');
	await uq.insertMany([{ _id: 1, s: 'a' }, { _id: 2, s: 'b' }]);
	assert.strictEqual(await uq.createIndex({ s: 1 }, { unique: true }), 's_1');
	await expectCode(11000, () => uq.insertOne({ _id: 3, s: 'a' }));
	await expectCode(11000, () => uq.updateOne({ _id: 2 }, { $set: { s: 'a' } }));
	assert.strictEqual((await uq.findOne({ _id: 2 })).s, 'b');
	console.log('ok duplicate keys raise 11000 (insertOne, ordered insertMany, unique index)');

	await c.insertOne({ _id: 'wmaj' }, { writeConcern: { w: 'majority' } });
	await c.insertOne({ _id: 'wj' }, { writeConcern: { w: 1, j: true } });
	assert.ok(await c.findOne({ _id: 'wmaj' }));
	console.log('ok write concerns majority and j:true');

	await expectCode(59, () => db.command({ definitelyNotACommand: 1 }));
	console.log('ok unknown command raises 59');

	// A cursor does not outlive its collection: getMore after a drop or a
	// rename finds none (43), it does not hand out the gone documents.
	for (const how of ['drop', 'rename']) {
		const g = db.collection('gone');
		await g.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
		const open = g.find({}, { batchSize: 2 }).sort({ _id: 1 });
		assert.strictEqual((await open.next())._id, 0);
		assert.strictEqual((await open.next())._id, 1);
		if (how === 'drop')
			await g.drop();
		else
			await g.rename('moved');
		await expectCode(43, () => open.next());
		await db.collection('moved').drop().catch(() => {});
	}
	console.log('ok getMore after drop or rename finds no cursor (43)');

	await c.drop();
	await uq.drop();
	assert.deepStrictEqual(await db.listCollections().toArray(), []);
	console.log('ok drop');
	await client.close();
}

main().catch(e => { console.error('FAIL', e && e.stack || e); process.exit(1); });
