// crash_check.js URI ACKED-FILE...: every _id listed (one per line) must
// be in crash.acked; prints "present N of N" or the missing ones.
'use strict';
const fs = require('fs');
const { MongoClient } = require('mongodb');

async function main() {
	const [uri, ...files] = process.argv.slice(2);
	const want = [];
	for (const f of files)
		for (const line of fs.readFileSync(f, 'utf8').split('\n'))
			if (line) want.push(line);
	const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20000 });
	await client.connect();
	const c = client.db('crash').collection('acked');
	const have = new Set();
	for await (const d of c.find({}, { projection: { _id: 1 }, batchSize: 5000 }))
		have.add(d._id);
	await client.close();
	const missing = want.filter(id => !have.has(id));
	if (missing.length) {
		console.log(`missing ${missing.length} of ${want.length}: ${missing.slice(0, 10).join(' ')}`);
		process.exit(1);
	}
	console.log(`present ${want.length} of ${want.length} (${have.size} in all)`);
}

main().catch(e => { console.error('check failed:', e.message); process.exit(2); });
