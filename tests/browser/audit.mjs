// The GraphQL-over-HTTP audit (graphql-http's auditServer) against a running server:
//   node audit.mjs http://127.0.0.1:8000/graphql
// Prints every audit and exits 1 when a MUST or SHOULD one fails (MAY are reported).
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? process.env.LPM_GRAPHQL_URL;
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = {};
let failed = 0;
for (const result of results) {
  const level = result.name.split(' ')[0]; // MUST, SHOULD or MAY
  counts[level] ??= { ok: 0, warn: 0, error: 0 };
  counts[level][result.status] += 1;
  if (result.status !== 'ok') {
    const blocking = level === 'MUST' || level === 'SHOULD';
    if (blocking) failed += 1;
    console.log(`${blocking ? 'FAIL' : 'note'} ${result.name}: ${result.reason}`);
  }
}
console.log(JSON.stringify({ audits: results.length, counts }));
process.exit(failed ? 1 : 0);
