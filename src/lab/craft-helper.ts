/**
 * Sends crafted packets from inside a lab namespace (`ip netns exec NS node
 * dist/src/lab/craft-helper.js JSON`): JSON is a list of CraftSpec; each becomes a whole IP packet
 * (buildSegment) sent on a raw IPPROTO_RAW socket of its family, which makes the kernel take our IP
 * header as it is (IPv4: it fills in the header checksum and total length; IPv6: nothing). Prints one
 * JSON line {"sent": n, "t": [epoch seconds of each send]} and exits 0, or prints the error and exits 1.
 */
import raw from 'raw-socket';
import { buildSegment, type CraftSpec } from './craft.js';

const IPPROTO_RAW = 255;

async function main(): Promise<void> {
  // raw-socket's poll handle does not keep the event loop alive: this timer does, and fails the send
  // if the kernel never lets us write.
  const guard = setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ error: 'the raw socket never became writable within 5 s' })}\n`);
    process.exit(1);
  }, 5000);
  const specs = JSON.parse(process.argv[2] ?? '[]') as CraftSpec[];
  const sockets = new Map<number, ReturnType<typeof raw.createSocket>>();
  const sockFor = (v6: boolean): ReturnType<typeof raw.createSocket> => {
    const fam = v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4;
    let s = sockets.get(fam);
    if (!s) {
      s = raw.createSocket({ addressFamily: fam, protocol: IPPROTO_RAW });
      s.on('error', (e) => {
        process.stdout.write(`${JSON.stringify({ error: e.message })}\n`);
        process.exit(1);
      });
      sockets.set(fam, s);
    }
    return s;
  };
  const times: number[] = [];
  for (const spec of specs) {
    const pkt = buildSegment(spec);
    const v6 = spec.dst.includes(':');
    await new Promise<void>((resolve, reject) => {
      sockFor(v6).send(pkt, 0, pkt.length, spec.dst, (err) => (err ? reject(err) : resolve()));
    });
    times.push(Date.now() / 1000);
  }
  for (const s of sockets.values()) s.close();
  clearTimeout(guard);
  process.stdout.write(`${JSON.stringify({ sent: specs.length, t: times })}\n`);
}

main().catch((e: Error) => {
  process.stdout.write(`${JSON.stringify({ error: e.message })}\n`);
  process.exit(1);
});
