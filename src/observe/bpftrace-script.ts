/**
 * The bpftrace program of the kernel-event source. Every probe filters in the kernel on the run's
 * network namespaces (their inode numbers, written into the program), so other labs' and the
 * host's events never leave the kernel. `marker` is this run's clock-calibration descriptor: an
 * fsync() of that (invalid) descriptor, whose kernel time is printed.
 *
 * One line per event, space-separated, first the kind and bpftrace's `nsecs`:
 *   B t                                         the program runs (probes attached)
 *   C t                                         a calibration fsync
 *   S t ns sk old new sport dport saddr daddr    inet_sock_set_state (TCP)
 *   R t ns sk state sport dport saddr daddr seq err       tcp_retransmit_skb (seq "-": unknown)
 *   Y t ns sk sport dport saddr daddr            tcp_retransmit_synack
 *   I t ns sk sport dport saddr daddr            tcp_receive_reset
 *   O t ns sk state reason sport dport saddr daddr        tcp_send_reset (sk 0: no socket)
 *   D t ns reason proto ipver l4 saddr daddr sport dport x y location (hex address)
 *       kfree_skb; UDP: x = UDP length, y = the first 8 payload bytes as a little-endian u64;
 *       TCP: x = seq, y = flags; ipver 0: not IP (no addresses follow but the location)
 * Addresses of socket tracepoints come as IPv6 text (IPv4 as ::ffff:a.b.c.d).
 * Counters `@emitted[kind]` and `@drops[ns, reason]` are kept in the kernel and printed at exit:
 * they count every event even when the perf buffer overflowed.
 */
import type { TracepointFormat } from './tracepoint-format.js';
import type { TracepointName } from './tracefs.js';

const SK_NS = (expr: string): string => `((struct sock *)${expr})->__sk_common.skc_net.net->ns.inum`;
const SOCK_TUPLE = 'args->sport, args->dport, ntop(args->saddr_v6), ntop(args->daddr_v6)';

function has(formats: Map<TracepointName, TracepointFormat>, tp: TracepointName, ...fields: string[]): boolean {
  const f = formats.get(tp);
  return !!f && fields.every((x) => f.fields.includes(x));
}

/**
 * Packet headers of `$skb` (IPv4 or IPv6, then TCP/UDP) printed after `head` (a printf prefix and
 * its args); `wrap` places each IP printf in further logic (it sees `$p`, the IP protocol).
 */
function packetPrintf(head: string, headArgs: string, tail: string, tailArgs: string, wrap: (printf: string) => string = (x) => x): string {
  const l4 = (p: string): string =>
    `bswap(*(uint16*)$th), bswap(*(uint16*)($th + 2)), ${p} == 17 ? (uint64)bswap(*(uint16*)($th + 4)) : (uint64)bswap(*(uint32*)($th + 4)), ${p} == 17 ? *(uint64*)($th + 8) : (uint64)*(uint8*)($th + 13)`;
  return `
    $nh = $skb->head + $skb->network_header;
    $th = $skb->head + $skb->transport_header;
    $v = (*(uint8*)$nh) >> 4;
    if ($v == 4) {
      $p = *(uint8*)($nh + 9);
      ${wrap(`printf("${head} 4 %u %s %s %u %u %llu %llu${tail}\\n", ${headArgs}, $p, ntop(2, *(uint32*)($nh + 12)), ntop(2, *(uint32*)($nh + 16)), ${l4('$p')}${tailArgs});`)}
    } else {
      if ($v == 6) {
        $p = *(uint8*)($nh + 6);
        ${wrap(`printf("${head} 6 %u %s %s %u %u %llu %llu${tail}\\n", ${headArgs}, $p, ntop(((struct ipv6hdr *)$nh)->saddr.in6_u.u6_addr8), ntop(((struct ipv6hdr *)$nh)->daddr.in6_u.u6_addr8), ${l4('$p')}${tailArgs});`)}
      } else {
        @emitted["drop"] = count();
        printf("${head} 0${tail}\\n", ${headArgs}${tailArgs});
      }
    }`;
}

/**
 * UDP drops of datagrams numbered consecutively (a big-endian u32 at payload offset 0, as labs
 * number them) are folded into runs in the kernel: the first drop of a run prints in full (D), the
 * run's end prints once (U t ns reason sport dport last count) when the next drop does not continue
 * it; runs still open at exit are in the @run map (last, count, time). A blast that overflows a
 * buffer then costs a few lines, not one per datagram. Other drops print one D line each.
 */
const K = '[$ns, $r, $sp, $dp]';
const udpRuns = (printf: string): string => `if ($p == 17) {
        $sp = bswap(*(uint16*)$th); $dp = bswap(*(uint16*)($th + 2)); $q = bswap(*(uint32*)($th + 8));
        $c = @run${K};
        if ($c.1 > 0 && $q == $c.0 + 1) {
          @run${K} = ($q, (uint64)($c.1 + 1), nsecs);
        } else {
          if ($c.1 > 1) { @emitted["run"] = count(); printf("U %llu %u %u %u %u %u %u\\n", $c.2, $ns, $r, $sp, $dp, $c.0, $c.1); }
          @run${K} = ($q, (uint64)1, nsecs);
          @emitted["drop"] = count();
          ${printf}
        }
      } else {
        @emitted["drop"] = count();
        ${printf}
      }`;

export function buildScript(formats: Map<TracepointName, TracepointFormat>, inodes: number[], marker: number, opts: { kprobeFsync?: boolean; skbCbOffset?: number | null } = {}): string {
  if (inodes.length === 0 || !inodes.every((n) => Number.isSafeInteger(n) && n > 0)) throw new TypeError(`namespace inodes must be positive integers, got ${inodes.join(',')}`);
  if (!Number.isSafeInteger(marker)) throw new TypeError(`marker must be an integer, got ${marker}`);
  const NS_MATCH = `(${inodes.map((n) => `$ns == ${n}`).join(' || ')})`;
  const out: string[] = ['BEGIN { printf("B %llu\\n", nsecs); }'];
  // The calibration marker: a kprobe on do_fsync where the kernel has one (enabling any syscall
  // tracepoint sends every syscall of every task through the slow path), else the syscall tracepoint.
  if (opts.kprobeFsync) {
    out.push(`kprobe:do_fsync / arg0 == ${marker} / { printf("C %llu\\n", nsecs); }`);
  } else if (has(formats, 'syscalls/sys_enter_fsync', 'fd')) {
    out.push(`tracepoint:syscalls:sys_enter_fsync / args->fd == ${marker} / { printf("C %llu\\n", nsecs); }`);
  }
  out.push(`tracepoint:sock:inet_sock_set_state / args->protocol == 6 / {
  $ns = ${SK_NS('args->skaddr')};
  if ${NS_MATCH} {
    @emitted["state"] = count();
    printf("S %llu %u %llx %d %d %u %u %s %s\\n", nsecs, $ns, args->skaddr, args->oldstate, args->newstate, ${SOCK_TUPLE});
  }
}`);
  if (has(formats, 'tcp/tcp_retransmit_skb', 'skbaddr', 'skaddr', 'state', 'saddr_v6')) {
    // The segment's sequence number lives in the skb's control block (TCP_SKB_CB(skb)->seq, its
    // first field); bpftrace 0.17 has no `&`, so the block's offset comes from BTF. Unknown: "-".
    const off = opts.skbCbOffset;
    const seq = off === undefined || off === null
      ? { decl: '', fmt: '-', arg: '' }
      : { decl: `$cb = (struct tcp_skb_cb *)((uint64)args->skbaddr + ${off});\n    `, fmt: '%u', arg: ', $cb->seq' };
    out.push(`tracepoint:tcp:tcp_retransmit_skb {
  $ns = ${SK_NS('args->skaddr')};
  if ${NS_MATCH} {
    @emitted["retransmit"] = count();
    ${seq.decl}printf("R %llu %u %llx %d %u %u %s %s ${seq.fmt} %d\\n", nsecs, $ns, args->skaddr, args->state, ${SOCK_TUPLE}${seq.arg}, ${has(formats, 'tcp/tcp_retransmit_skb', 'err') ? 'args->err' : '0'});
  }
}`);
  }
  if (has(formats, 'tcp/tcp_retransmit_synack', 'skaddr', 'saddr_v6')) {
    out.push(`tracepoint:tcp:tcp_retransmit_synack {
  $ns = ${SK_NS('args->skaddr')};
  if ${NS_MATCH} {
    @emitted["synack-retransmit"] = count();
    printf("Y %llu %u %llx %u %u %s %s\\n", nsecs, $ns, args->skaddr, ${SOCK_TUPLE});
  }
}`);
  }
  if (has(formats, 'tcp/tcp_receive_reset', 'skaddr', 'saddr_v6')) {
    out.push(`tracepoint:tcp:tcp_receive_reset {
  $ns = ${SK_NS('args->skaddr')};
  if ${NS_MATCH} {
    @emitted["reset-received"] = count();
    printf("I %llu %u %llx %u %u %s %s\\n", nsecs, $ns, args->skaddr, ${SOCK_TUPLE});
  }
}`);
  }
  if (has(formats, 'tcp/tcp_send_reset', 'skbaddr', 'skaddr', 'state')) {
    const reason = has(formats, 'tcp/tcp_send_reset', 'reason') ? 'args->reason' : '0';
    // With a socket: its 4-tuple. Without one (a segment to a closed port): the segment's, reversed.
    out.push(`tracepoint:tcp:tcp_send_reset {
  $skb = (struct sk_buff *)args->skbaddr;
  $sk = (struct sock *)args->skaddr;
  $ns = $sk != 0 ? $sk->__sk_common.skc_net.net->ns.inum : ($skb != 0 && $skb->dev != 0 ? $skb->dev->nd_net.net->ns.inum : 0);
  if ${NS_MATCH} {
    @emitted["reset-sent"] = count();
    if ($sk != 0) {
      if ($sk->__sk_common.skc_family == 2) {
        printf("O %llu %u %llx %d %u %u %u %s %s\\n", nsecs, $ns, args->skaddr, args->state, ${reason}, $sk->__sk_common.skc_num, bswap($sk->__sk_common.skc_dport), ntop(2, $sk->__sk_common.skc_rcv_saddr), ntop(2, $sk->__sk_common.skc_daddr));
      } else {
        printf("O %llu %u %llx %d %u %u %u %s %s\\n", nsecs, $ns, args->skaddr, args->state, ${reason}, $sk->__sk_common.skc_num, bswap($sk->__sk_common.skc_dport), ntop($sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8), ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8));
      }
    } else {
      $nh = $skb->head + $skb->network_header;
      $th = $skb->head + $skb->transport_header;
      if ((*(uint8*)$nh) >> 4 == 4) {
        printf("O %llu %u 0 %d %u %u %u %s %s\\n", nsecs, $ns, args->state, ${reason}, bswap(*(uint16*)($th + 2)), bswap(*(uint16*)$th), ntop(2, *(uint32*)($nh + 16)), ntop(2, *(uint32*)($nh + 12)));
      } else {
        printf("O %llu %u 0 %d %u %u %u %s %s\\n", nsecs, $ns, args->state, ${reason}, bswap(*(uint16*)($th + 2)), bswap(*(uint16*)$th), ntop(((struct ipv6hdr *)$nh)->daddr.in6_u.u6_addr8), ntop(((struct ipv6hdr *)$nh)->saddr.in6_u.u6_addr8));
      }
    }
  }
}`);
  }
  if (has(formats, 'skb/kfree_skb', 'skbaddr', 'location', 'protocol')) {
    const reason = has(formats, 'skb/kfree_skb', 'reason') ? 'args->reason' : '0';
    // The namespace: the receiving socket's (rx_sk, Linux 6.10+), the skb's socket's, or its device's.
    const rx = has(formats, 'skb/kfree_skb', 'rx_sk') ? '(struct sock *)args->rx_sk' : '(struct sock *)0';
    out.push(`tracepoint:skb:kfree_skb {
  $skb = (struct sk_buff *)args->skbaddr;
  $sk = ${rx};
  if ($sk == 0) { $sk = $skb->sk; }
  $ns = $sk != 0 ? $sk->__sk_common.skc_net.net->ns.inum : ($skb->dev != 0 ? $skb->dev->nd_net.net->ns.inum : 0);
  if ${NS_MATCH} {
    $r = ${reason};
    @drops[$ns, $r] = count();
    ${packetPrintf('D %llu %u %u %u', 'nsecs, $ns, $r, args->protocol', ' %llx', ', args->location', udpRuns)}
  }
}`);
  }
  return out.join('\n');
}
