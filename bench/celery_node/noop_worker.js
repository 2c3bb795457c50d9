// The Node reference of bench/run's message-path workload: one celery-node
// worker process (npm celery-node, pinned in package-lock.json) with a no-op
// task under the name verdi's built-in one has, results to Redis. As
// celery-node ships it: it acks each message when it arrives and sets no
// prefetch limit.
//
// usage: node noop_worker.js BROKER_URL REDIS_URL QUEUE
'use strict';

const celery = require('celery-node');

const [broker, backend, queue] = process.argv.slice(2);
if (!queue) {
  console.error('usage: node noop_worker.js BROKER_URL REDIS_URL QUEUE');
  process.exit(2);
}
const worker = celery.createWorker(broker, backend, queue);
worker.register('verdi.noop', () => null);
worker.start();
