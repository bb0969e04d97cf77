/**
 * The bpftrace program of the kernel-event source: one per wirelab process, shared by every lab
 * of a run. Labs register their network namespaces while it runs; every probe filters in the
 * kernel on the registered set (the map @ns: inode -> registration number, looked up only for
 * namespaces other than the host's), so other processes' and the host's events never leave the
 * kernel. Events carry the registration number `g` in place of the namespace: user space routes
 * each line to the lab that registered it. Registration, removal and the clock marker are fsync()
 * calls of invalid descriptors in a window [base, base + 3 * 2^24) chosen per process:
 *   base + tag                 a clock-calibration marker of the lab holding `tag` (1 .. 2^24-1)
 *   base + 2^24 + (ino - 0xF0000000)   register namespace `ino` (dynamic proc inodes start at 0xF0000000)
 *   base + 2^25 + (ino - 0xF0000000)   unregister it: the counters are printed (@emitted, @drops, @run), then X
 *
 * One line per event, space-separated, first the kind and bpftrace's `nsecs`:
 *   B t                                         the program runs (probes attached)
 *   C t tag                                     a calibration fsync
 *   N t ino g                                   namespace ino registered as g
 *   X t ino g                                   namespace ino unregistered (after its maps)
 *   S t ns sk old new sport dport saddr daddr    inet_sock_set_state (TCP)
 *   R t ns sk state sport dport saddr daddr seq err       tcp_retransmit_skb (seq "-": unknown)
 *   Y t ns sk sport dport saddr daddr            tcp_retransmit_synack
 *   I t ns sk sport dport saddr daddr            tcp_receive_reset
 *   O t ns sk state reason sport dport saddr daddr        tcp_send_reset (sk 0: no socket)
 *   D t ns reason proto ipver l4 saddr daddr sport dport x y location (hex address)
 *       kfree_skb; UDP: x = UDP length, y = the first 8 payload bytes as a little-endian u64;
 *       TCP: x = seq, y = flags; ipver 0: not IP (no addresses follow but the location)
 * (the `ns` field of every event line is the registration number g.)
 * Addresses of socket tracepoints come as IPv6 text (IPv4 as ::ffff:a.b.c.d): ntop() only copies
 * the raw bytes in the kernel; bpftrace formats them in user space, as it does every printf.
 * Counters `@emitted[g, kind]` (kind: EMITTED codes) and `@drops[g, reason]` are kept in the kernel
 * and printed when g is unregistered: they count every event even when the perf buffer overflowed.
 */
import type { TracepointFormat } from './tracepoint-format.js';
import type { TracepointName } from './tracefs.js';

const SK_NS = (expr: string): string => `((struct sock *)${expr})->__sk_common.skc_net.net->ns.inum`;

/** First inode of dynamically allocated proc inodes (every namespace but the initial ones). */
export const PROC_DYNAMIC_FIRST = 0xf0000000;
/** Width of each of the three fsync windows (calibration tags, registrations, removals). */
export const WINDOW = 1 << 24;
/** Kinds counted in @emitted[g, kind]. */
export const EMITTED: Record<number, string> = { 1: 'state', 2: 'retransmit', 3: 'synack-retransmit', 4: 'reset-received', 5: 'reset-sent', 6: 'drop', 7: 'run' };
const E = { state: 1, retransmit: 2, synack: 3, resetIn: 4, resetOut: 5, drop: 6, run: 7 } as const;

/** The registered-namespace filter around a probe body: `$ns` is set; the body sees `$g`. */
const FILTER = (body: string): string => `if ($ns >= ${PROC_DYNAMIC_FIRST}) {
    $g = @ns[(uint64)$ns];
    if ($g != 0) {
${body}
    }
  }`;
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
    $h = $skb->head;
    $nh = $h + $skb->network_header;
    $th = $h + $skb->transport_header;
    $v = (*(uint8*)$nh) >> 4;
    if ($v == 4) {
      $p = *(uint8*)($nh + 9);
      ${wrap(`printf("${head} 4 %u %s %s %u %u %llu %llu${tail}\\n", ${headArgs}, $p, ntop(2, *(uint32*)($nh + 12)), ntop(2, *(uint32*)($nh + 16)), ${l4('$p')}${tailArgs});`)}
    } else {
      if ($v == 6) {
        $p = *(uint8*)($nh + 6);
        ${wrap(`printf("${head} 6 %u %s %s %u %u %llu %llu${tail}\\n", ${headArgs}, $p, ntop(((struct ipv6hdr *)$nh)->saddr.in6_u.u6_addr8), ntop(((struct ipv6hdr *)$nh)->daddr.in6_u.u6_addr8), ${l4('$p')}${tailArgs});`)}
      } else {
        @emitted[$g, 6] = count();
        @drops[$g, $r] = sum(1);
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
 * @drops[g, reason] (a sum) counts each D line's drop when it is printed and a run's further drops
 * when the run ends, so that a drop continuing a run costs one map lookup and one update, not two
 * updates: the exact count is @drops plus (count - 1) of each run still open in @run.
 */
const K = '[$g, $r, $sp, $dp]';
const udpRuns = (printf: string): string => `if ($p == 17) {
        $sp = bswap(*(uint16*)$th); $dp = bswap(*(uint16*)($th + 2)); $q = bswap(*(uint32*)($th + 8));
        $c = @run${K};
        if ($c.1 > 0 && $q == $c.0 + 1) {
          @run${K} = ($q, (uint64)($c.1 + 1), nsecs);
        } else {
          if ($c.1 > 1) { @emitted[$g, 7] = count(); printf("U %llu %llu %u %u %u %u %u\\n", $c.2, $g, $r, $sp, $dp, $c.0, $c.1); }
          @run${K} = ($q, (uint64)1, nsecs);
          @drops[$g, $r] = sum($c.1 > 0 ? $c.1 : (uint64)1);
          @emitted[$g, 6] = count();
          ${printf}
        }
      } else {
        @drops[$g, $r] = sum(1);
        @emitted[$g, 6] = count();
        ${printf}
      }`;

export interface ScriptConfig {
  /** the fsync window's start: an integer with base + 3 * WINDOW < 2^31 */
  base: number;
}

export function buildScript(formats: Map<TracepointName, TracepointFormat>, cfg: ScriptConfig, opts: { fsyncUprobe?: string | null; skbCbOffset?: number | null } = {}): string {
  const { base } = cfg;
  if (!Number.isSafeInteger(base) || base <= 0 || base + 3 * WINDOW >= 2 ** 31) throw new TypeError(`the fsync window's base must be a positive integer below 2^31 - 3 * 2^24, got ${base}`);
  const out: string[] = ['BEGIN { printf("B %llu\\n", nsecs); }'];
  // The control window: a uprobe on the C library's fsync() where the kernel has uprobes (only
  // fsync callers pay), else the syscall tracepoint (enabling any syscall tracepoint sends every
  // syscall of every task through the kernel's slow path while it is attached). fsync's fd is an
  // int: the register's upper half is undefined, hence the cast.
  const ctl = (fd: string): string => `/ ${fd} >= ${base} && ${fd} < ${base + 3 * WINDOW} / {
  $v = (uint64)${fd} - ${base};
  if ($v < ${WINDOW}) {
    printf("C %llu %llu\\n", nsecs, $v);
  } else {
    if ($v < ${2 * WINDOW}) {
      $ino = ${PROC_DYNAMIC_FIRST} + $v - ${WINDOW};
      @next = @next + 1;
      @ns[$ino] = @next;
      printf("N %llu %llu %llu\\n", nsecs, $ino, @next);
    } else {
      $ino = ${PROC_DYNAMIC_FIRST} + $v - ${2 * WINDOW};
      $g = @ns[$ino];
      delete(@ns[$ino]);
      print(@emitted);
      print(@drops);
      print(@run);
      printf("X %llu %llu %llu\\n", nsecs, $ino, $g);
    }
  }
}`;
  if (opts.fsyncUprobe) out.push(`uprobe:${opts.fsyncUprobe}:fsync ${ctl('(int32)arg0')}`);
  else if (has(formats, 'syscalls/sys_enter_fsync', 'fd')) out.push(`tracepoint:syscalls:sys_enter_fsync ${ctl('args->fd')}`);
  out.push(`tracepoint:sock:inet_sock_set_state / args->protocol == 6 / {
  $ns = ${SK_NS('args->skaddr')};
  ${FILTER(`    @emitted[$g, ${E.state}] = count();
    printf("S %llu %llu %llx %d %d %u %u %s %s\\n", nsecs, $g, args->skaddr, args->oldstate, args->newstate, ${SOCK_TUPLE});`)}
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
  ${FILTER(`    @emitted[$g, ${E.retransmit}] = count();
    ${seq.decl}printf("R %llu %llu %llx %d %u %u %s %s ${seq.fmt} %d\\n", nsecs, $g, args->skaddr, args->state, ${SOCK_TUPLE}${seq.arg}, ${has(formats, 'tcp/tcp_retransmit_skb', 'err') ? 'args->err' : '0'});`)}
}`);
  }
  if (has(formats, 'tcp/tcp_retransmit_synack', 'skaddr', 'saddr_v6')) {
    out.push(`tracepoint:tcp:tcp_retransmit_synack {
  $ns = ${SK_NS('args->skaddr')};
  ${FILTER(`    @emitted[$g, ${E.synack}] = count();
    printf("Y %llu %llu %llx %u %u %s %s\\n", nsecs, $g, args->skaddr, ${SOCK_TUPLE});`)}
}`);
  }
  if (has(formats, 'tcp/tcp_receive_reset', 'skaddr', 'saddr_v6')) {
    out.push(`tracepoint:tcp:tcp_receive_reset {
  $ns = ${SK_NS('args->skaddr')};
  ${FILTER(`    @emitted[$g, ${E.resetIn}] = count();
    printf("I %llu %llu %llx %u %u %s %s\\n", nsecs, $g, args->skaddr, ${SOCK_TUPLE});`)}
}`);
  }
  if (has(formats, 'tcp/tcp_send_reset', 'skbaddr', 'skaddr', 'state')) {
    const reason = has(formats, 'tcp/tcp_send_reset', 'reason') ? 'args->reason' : '0';
    // With a socket: its 4-tuple. Without one (a segment to a closed port): the segment's, reversed.
    out.push(`tracepoint:tcp:tcp_send_reset {
  $skb = (struct sk_buff *)args->skbaddr;
  $sk = (struct sock *)args->skaddr;
  $ns = $sk != 0 ? $sk->__sk_common.skc_net.net->ns.inum : ($skb != 0 && $skb->dev != 0 ? $skb->dev->nd_net.net->ns.inum : 0);
  ${FILTER(`    @emitted[$g, ${E.resetOut}] = count();
    if ($sk != 0) {
      if ($sk->__sk_common.skc_family == 2) {
        printf("O %llu %llu %llx %d %u %u %u %s %s\\n", nsecs, $g, args->skaddr, args->state, ${reason}, $sk->__sk_common.skc_num, bswap($sk->__sk_common.skc_dport), ntop(2, $sk->__sk_common.skc_rcv_saddr), ntop(2, $sk->__sk_common.skc_daddr));
      } else {
        printf("O %llu %llu %llx %d %u %u %u %s %s\\n", nsecs, $g, args->skaddr, args->state, ${reason}, $sk->__sk_common.skc_num, bswap($sk->__sk_common.skc_dport), ntop($sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8), ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8));
      }
    } else {
      $nh = $skb->head + $skb->network_header;
      $th = $skb->head + $skb->transport_header;
      if ((*(uint8*)$nh) >> 4 == 4) {
        printf("O %llu %llu 0 %d %u %u %u %s %s\\n", nsecs, $g, args->state, ${reason}, bswap(*(uint16*)($th + 2)), bswap(*(uint16*)$th), ntop(2, *(uint32*)($nh + 16)), ntop(2, *(uint32*)($nh + 12)));
      } else {
        printf("O %llu %llu 0 %d %u %u %u %s %s\\n", nsecs, $g, args->state, ${reason}, bswap(*(uint16*)($th + 2)), bswap(*(uint16*)$th), ntop(((struct ipv6hdr *)$nh)->daddr.in6_u.u6_addr8), ntop(((struct ipv6hdr *)$nh)->saddr.in6_u.u6_addr8));
      }
    }`)}
}`);
  }
  if (has(formats, 'skb/kfree_skb', 'skbaddr', 'location', 'protocol')) {
    const reason = has(formats, 'skb/kfree_skb', 'reason') ? 'args->reason' : '0';
    // The namespace: the receiving socket's (rx_sk, Linux 6.10+), the skb's socket's, or its device's.
    // This probe runs for every freed-not-consumed skb on the machine: the host's (init_net, below
    // the dynamic inodes) are out after one comparison, other namespaces after one map lookup.
    const rx = has(formats, 'skb/kfree_skb', 'rx_sk') ? '(struct sock *)args->rx_sk' : '(struct sock *)0';
    out.push(`tracepoint:skb:kfree_skb {
  $skb = (struct sk_buff *)args->skbaddr;
  $sk = ${rx};
  if ($sk == 0) { $sk = $skb->sk; }
  $ns = $sk != 0 ? $sk->__sk_common.skc_net.net->ns.inum : ($skb->dev != 0 ? $skb->dev->nd_net.net->ns.inum : 0);
  ${FILTER(`    $r = ${reason};
    ${packetPrintf('D %llu %llu %u %u', 'nsecs, $g, $r, args->protocol', ' %llx', ', args->location', udpRuns)}`)}
}`);
  }
  return out.join('\n');
}
