/**
 * U06: does a node:dgram sender lose datagrams when its send buffer is full? Two hosts on a veth
 * pair whose client end is rate-limited by a tbf qdisc; the same blast twice:
 *   queue: tbf limit far above the socket's send buffer: the skbs wait in the qdisc, the send buffer
 *     fills, sendmsg says EAGAIN and libuv keeps the sends in its own queue until there is room;
 *   drop: tbf limit (16 KiB) far below the send buffer: the qdisc overflows and drops; the kernel
 *     swallows the ENOBUFS (Udp SndbufErrors, Ip OutDiscards) and the send callback reports success.
 */
import { check, defineLab } from '../../src/lab/index.js';
import type { HostRole } from '../../src/sandbox/types.js';
import { accountingChecks, accountingText, cause, experiment, experiments, kernelDropsAt, type Exp } from './experiment.js';

const NAMES = ['queue', 'drop'] as const;
const sndbufErrors = (e: Exp): number => (e.counters.sender['Udp.SndbufErrors'] ?? 0) + (e.counters.sender['Udp6.SndbufErrors'] ?? 0);
const outDiscards = (e: Exp): number => (e.counters.sender['Ip.OutDiscards'] ?? 0) + (e.counters.sender['Ip6.OutDiscards'] ?? 0);
const ms = (s: number): string => `${Math.round(s * 1000)} ms`;

export default defineLab({
  name: 'sender-side',
  title: "A full send buffer: libuv queues, a full qdisc drops (silently)",
  topic: 'udp',
  seconds: 6,
  // Generous: on a loaded two-core machine (load average 50+) each experiment's programs start slowly; the lab itself needs ~6 s.
  timeoutMs: 180_000,
  needs: ['root', 'tcpdump', 'tc'],
  topology: { kind: 'veth' },
  captureFilter: 'icmp or icmp6',
  params: {
    count: { type: 'int', default: 2000, min: 200, max: 50_000, help: 'datagrams per blast' },
    size: { type: 'int', default: 1000, min: 16, max: 1472, help: 'UDP payload bytes (one packet on the veth)' },
    mbit: { type: 'int', default: 20, min: 1, max: 1000, help: "the tbf qdisc's rate on the client's veth, Mbit/s" },
    dropLimitKiB: { type: 'int', default: 16, min: 4, max: 64, help: "the tbf queue's limit in the drop experiment, KiB (below the socket's send buffer)" },
  },
  explanation: `The seed says sendto never blocks and datagrams are lost at the sender when its buffer is full. On
Linux a UDP socket's send buffer (net.core.wmem_default = 212992 bytes) counts the datagrams that
left the socket but not yet the host: on a rate-limited link they wait in the device's queue (here a
tbf qdisc on the client's veth, so the link drains at a set rate). When that buffer is full a
blocking sendto blocks, and a non-blocking one (node's, through libuv) gets EAGAIN: libuv then keeps
the send in its own queue and retries when the socket is writable, and the callback comes later.
Nothing is lost there. Loss at the sender happens one step further: when the qdisc's own queue is
shorter than the send buffer, the qdisc drops; the kernel turns that ENOBUFS into success for the
application (unless IP_RECVERR is set), and counts it in Udp SndbufErrors and Ip OutDiscards. The
same blast runs twice: once with a tbf queue longer than the send buffer, once with a short one.`,

  async run(ctx) {
    const { count, size, mbit, dropLimitKiB } = ctx.params;
    const sb = ctx.sandbox;
    const dev = sb.host('client').iface;
    // Neighbours known up front: a datagram blast into an unresolved neighbour would be dropped by ARP/ND's own small queue.
    const mac = async (role: HostRole): Promise<string> => (JSON.parse(await ctx.exec(role, ['ip', '-j', 'link', 'show', sb.host(role).iface])) as { address: string }[])[0]!.address;
    const [cmac, smac] = [await mac('client'), await mac('server')];
    await ctx.exec('client', ['ip', 'neigh', 'replace', ctx.addr('server'), 'lladdr', smac, 'dev', dev, 'nud', 'permanent']);
    await ctx.exec('server', ['ip', 'neigh', 'replace', ctx.addr('client'), 'lladdr', cmac, 'dev', sb.host('server').iface, 'nud', 'permanent']);
    const tbf = (limit: string): string[] => ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '16kb', 'limit', limit];
    await ctx.exec('client', tbf('4mb'));
    ctx.mark('tbf', { dev, mbit, limit: '4mb' });
    // A large receive buffer: this lab is about the sender; a receiver starved of CPU must not lose datagrams here.
    await experiment(ctx, 'queue', { rate: 'max', count, size, rcvbuf: 4 << 20 });
    await ctx.exec('client', tbf(`${dropLimitKiB}kb`));
    ctx.mark('tbf', { dev, mbit, limit: `${dropLimitKiB}kb` });
    await experiment(ctx, 'drop', { rate: 'max', count, size, rcvbuf: 4 << 20 });
    ctx.mark('qdisc', { text: await ctx.exec('client', ['tc', '-s', 'qdisc', 'show', 'dev', dev]) });
  },

  facts(ctx, setup) {
    const e = experiments(ctx, setup, NAMES);
    if (!e) return null;
    const wire = (e.queue.params.size + (ctx.family === 6 ? 48 : 28) + 14) * 8; // bits per datagram on the veth
    const k = kernelDropsAt(ctx, e.drop.port);
    return { ...e, qdiscFreed: k ? k.QDISC_DROP ?? 0 : null, linkSeconds: (e.queue.params.count * wire) / (ctx.params.mbit * 1e6), qdisc: String(ctx.mark('qdisc')?.data?.text ?? '').trim().replace(/\s+/g, ' ') };
  },

  claims: {
    U06: (f, ctx) => {
      const { queue, drop } = f;
      return {
        checks: [
          check.eq('queue: no send callback reported an error', queue.sender.errors, 0),
          check.ok("queue: libuv held sends in its own queue (the kernel said EAGAIN: the socket's send buffer was full)", queue.sender.queuedMax > 0, queue.sender.queuedMax, '> 0'),
          check.ok('queue: Udp SndbufErrors and Ip OutDiscards counted those refusals alike (each EAGAIN of a full send buffer, though nothing was lost)', sndbufErrors(queue) > 0 && outDiscards(queue) === sndbufErrors(queue), [sndbufErrors(queue), outDiscards(queue)], 'equal, > 0'),
          check.ok(`queue: the send callbacks took as long as the link (${ctx.params.mbit} Mbit/s, ${ms(f.linkSeconds)} for the blast; only the last send buffer's worth is still queued when the last send is taken), not as long as the sends`, queue.sender.callbackSeconds >= 0.8 * f.linkSeconds, queue.sender.callbackSeconds, `>= ${(0.8 * f.linkSeconds).toFixed(3)} s`),
          check.eq('queue: the qdisc dropped nothing', queue.counters.qdiscDrops, 0),
          check.eq('queue: nothing was lost on the way (none missing from the receiver\'s capture, no send error)', cause(queue, 'before-receiver') + cause(queue, 'send-error'), 0),
          check.eq('drop: no send callback reported an error either', drop.sender.errors, 0),
          check.ok('drop: the short qdisc queue dropped datagrams (tc -s qdisc drops)', drop.counters.qdiscDrops > 0, drop.counters.qdiscDrops, '> 0'),
          check.ok('drop: Udp SndbufErrors and Ip OutDiscards counted every qdisc drop (the ENOBUFS the kernel hid from the application), EAGAINs apart', sndbufErrors(drop) >= drop.counters.qdiscDrops && outDiscards(drop) >= drop.counters.qdiscDrops, [sndbufErrors(drop), outDiscards(drop)], `both >= ${drop.counters.qdiscDrops}`),
          check.eq('drop: the datagrams lost before the receiver are exactly the qdisc drops', cause(drop, 'before-receiver'), drop.counters.qdiscDrops),
          ...(f.qdiscFreed === null ? [] : [check.eq('drop: the kernel freed exactly those datagrams at the qdisc (kfree_skb QDISC_DROP)', f.qdiscFreed, drop.counters.qdiscDrops)]),
        ],
        evidence: `queue (tbf ${ctx.params.mbit} Mbit/s, limit 4 MiB): ${queue.sender.attempted} sends issued in ${ms(queue.sender.seconds)}, their callbacks done after ${ms(queue.sender.callbackSeconds)} (the link needs ${ms(f.linkSeconds)}), ` +
          `libuv's queue up to ${queue.sender.queuedMax} sends (${queue.sender.queuedMaxBytes} bytes), ${queue.sender.errors} errors, Udp SndbufErrors +${sndbufErrors(queue)} (EAGAINs), qdisc drops +${queue.counters.qdiscDrops}, Ip OutDiscards +${outDiscards(queue)}; ${accountingText(ctx, queue)}. ` +
          `drop (limit ${ctx.params.dropLimitKiB} KiB): callbacks done after ${ms(drop.sender.callbackSeconds)}, ${drop.sender.errors} errors, qdisc drops +${drop.counters.qdiscDrops}, Udp SndbufErrors +${sndbufErrors(drop)}, Ip OutDiscards +${outDiscards(drop)}; ${accountingText(ctx, drop)}`,
        differs: {
          textbook: "sendto never blocks; when the sender's buffer is full, datagrams are lost at the sender",
          linux: "a full socket send buffer loses nothing: sendto blocks (a blocking socket) or says EAGAIN, and libuv queues the send and retries; datagrams are lost at the sender only when the device's queue (the qdisc) is shorter than the send buffer, and then silently: the send succeeds and only the qdisc's drop count (tc -s qdisc, kfree_skb QDISC_DROP) says so. Udp SndbufErrors and Ip OutDiscards are no loss counters: they rise for every EAGAIN too",
          measured: `queue: ${cause(queue, 'before-receiver')} of ${queue.sender.attempted} lost at the sender, libuv queued up to ${queue.sender.queuedMax}; drop: ${cause(drop, 'before-receiver')} of ${drop.sender.attempted} lost at the sender, ${drop.counters.qdiscDrops} qdisc drops = ${sndbufErrors(drop)} SndbufErrors, ${drop.sender.errors} send errors`,
        },
      };
    },
  },

  checks: (f, ctx) => accountingChecks(ctx, [f.queue, f.drop]),

  story: (f, ctx) =>
    `Both blasts handed ${f.queue.sender.attempted} datagrams to node in a few milliseconds (${ms(f.queue.sender.seconds)}, ${ms(f.drop.sender.seconds)}); ` +
    `the veth drains at ${ctx.params.mbit} Mbit/s. With a tbf queue longer than the socket's send buffer, the datagrams waited in the qdisc until the send buffer was full; ` +
    `then the kernel answered EAGAIN (${sndbufErrors(f.queue)} times: Udp SndbufErrors and Ip OutDiscards count these refusals exactly like real drops, so neither is a loss counter) and libuv held up to ${f.queue.sender.queuedMax} sends itself, handing them over as room came: the last callback came after ${ms(f.queue.sender.callbackSeconds)}, ` +
    `the link's pace, and ${f.queue.receiver.received} arrived (${cause(f.queue, 'before-receiver')} lost on the way). With a ${ctx.params.dropLimitKiB} KiB queue the qdisc dropped ${f.drop.counters.qdiscDrops} datagrams; ` +
    `every send callback still said success: the kernel hides the qdisc's ENOBUFS from a UDP socket and only counts it (Ip OutDiscards +${outDiscards(f.drop)}, Udp SndbufErrors +${sndbufErrors(f.drop)}${f.qdiscFreed !== null ? `, kfree_skb QDISC_DROP ${f.qdiscFreed}` : ''}). ` +
    `So a sender does lose datagrams, but at the device queue and without a word, never because sendto failed to block (qdisc at the end: ${f.qdisc}).`,
});
