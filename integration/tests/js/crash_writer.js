// crash_writer.js URI ACKED-FILE LIFE: inserts {_id: "LIFE-W-N"} with
// w:"majority" from 4 concurrent writers until it is killed (or 120 s),
// and appends each _id to ACKED-FILE once the server acknowledged it.
'use strict';
const fs = require('fs');
const { MongoClient } = require('mongodb');

async function writer(c, file, life, w, stopAt) {
	for (let n = 0; Date.now() < stopAt; n++) {
		const _id = `${life}-${w}-${n}`;
		await c.insertOne({ _id, life, w, n, pad: 'x'.repeat(200) },
			{ writeConcern: { w: 'majority' } });
		fs.appendFileSync(file, _id + '\n');
	}
}

async function main() {
	const [uri, file, life] = process.argv.slice(2);
	const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20000,
		retryWrites: false });
	await client.connect();
	const c = client.db('crash').collection('acked');
	const stopAt = Date.now() + 120000;
	await Promise.all([0, 1, 2, 3].map(w => writer(c, file, life, w, stopAt)));
	await client.close();
}

main().catch(e => { console.error('writer stopped:', e.message); process.exit(3); });
