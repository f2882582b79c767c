'use strict';
// The calendar operators through the Node.js driver: $dateAdd, $dateDiff, $dateTrunc,
// $dateFromParts, $dateToParts with Olson time zones, and their errors' codes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient } = require('mongodb');
const { startBrookd } = require('./lib/brookd');

let srv;
let client;
let coll;

test.before(async () => {
  srv = await startBrookd();
  client = new MongoClient(srv.uri);
  await client.connect();
  coll = client.db('dates').collection('events');
  await coll.insertMany([
    { _id: 1, at: new Date('2021-03-13T12:00:00Z') },
    { _id: 2, at: new Date('2021-11-06T12:00:00Z') },
  ]);
});

test.after(async () => {
  await client?.close();
  await srv?.stop();
});

test('a local day across a DST change keeps the wall-clock time', async () => {
  const out = await coll
    .aggregate([
      { $sort: { _id: 1 } },
      {
        $project: {
          next: { $dateAdd: { startDate: '$at', unit: 'day', amount: 1, timezone: 'America/New_York' } },
          hours: {
            $dateDiff: {
              startDate: '$at',
              endDate: { $dateAdd: { startDate: '$at', unit: 'day', amount: 1, timezone: 'America/New_York' } },
              unit: 'hour',
            },
          },
        },
      },
    ])
    .toArray();
  assert.deepEqual(out[0].next, new Date('2021-03-14T11:00:00Z'));
  assert.equal(out[0].hours, 23); // spring forward
  assert.deepEqual(out[1].next, new Date('2021-11-07T13:00:00Z'));
  assert.equal(out[1].hours, 25); // fall back
});

test('$dateTrunc buckets by local weeks and $dateToParts reads them back', async () => {
  const [doc] = await coll
    .aggregate([
      { $match: { _id: 1 } },
      {
        $project: {
          week: { $dateTrunc: { date: '$at', unit: 'week', startOfWeek: 'monday', timezone: 'Europe/Paris' } },
          parts: { $dateToParts: { date: '$at', timezone: 'Asia/Kolkata', iso8601: true } },
          built: { $dateFromParts: { year: 2021, month: 7, day: 1, timezone: 'Europe/Paris' } },
        },
      },
    ])
    .toArray();
  assert.deepEqual(doc.week, new Date('2021-03-07T23:00:00Z')); // Monday 8 March, 00:00 in Paris
  assert.deepEqual(doc.parts, {
    isoWeekYear: 2021, isoWeek: 10, isoDayOfWeek: 6, hour: 17, minute: 30, second: 0, millisecond: 0,
  });
  assert.deepEqual(doc.built, new Date('2021-06-30T22:00:00Z'));
});

test('bad units and unknown zones fail with MongoDB codes', async () => {
  await assert.rejects(
    coll.aggregate([{ $project: { x: { $dateAdd: { startDate: '$at', unit: 'fortnight', amount: 1 } } } }]).toArray(),
    (err) => err.code === 5439014,
  );
  await assert.rejects(
    coll.aggregate([{ $project: { x: { $hour: { date: '$at', timezone: 'Atlantis/Capital' } } } }]).toArray(),
    (err) => err.code === 40485,
  );
  await assert.rejects(
    coll.aggregate([{ $project: { x: { $dateDiff: { startDate: '$at', unit: 'day' } } } }]).toArray(),
    (err) => err.code === 5166304,
  );
});
