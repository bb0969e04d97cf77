/**
 * The floor for reading a classic pcap with pcap-parser: parse every record, count, do nothing
 * else. bench/inspect.bench.ts compares `wirelab inspect` with this loop.
 *
 *   node dist/bench/pcap-parser-count.js FILE   -> prints the packet count
 */
import pcapParser from 'pcap-parser';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/pcap-parser-count.js FILE\n');
  process.exit(2);
}
let packets = 0;
const parser = pcapParser.parse(file);
parser.on('packet', () => {
  packets++;
});
parser.on('error', (e) => {
  process.stderr.write(`pcap-parser: ${e.message}\n`);
  process.exit(1);
});
parser.on('end', () => {
  process.stdout.write(`${packets}\n`);
});
