/**
 * bpftrace finds tracepoints through tracefs. It is mounted only inside a private mount namespace
 * (`unshare --mount --propagation private`), for the one process that needs it: the host's mounts
 * never change. Also: reading the tracepoints' format files there, and whether this machine can
 * run kernel events at all (bpftrace, BTF, privileges, tracefs), with the fix when it cannot.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { run, which } from '../sandbox/command.js';
import { readPrivileges } from '../sandbox/privileges.js';
import { memberOffset } from './btf-offset.js';
import { parseTracepointFormat, type TracepointFormat } from './tracepoint-format.js';

export const TRACEFS = '/sys/kernel/tracing';

/** The bpftrace to run: WIRELAB_BPFTRACE (a name on PATH or a path), else `bpftrace`; null when absent. */
export function bpftraceBinary(): string | null {
  const b = process.env.WIRELAB_BPFTRACE || 'bpftrace';
  if (!b.includes('/')) return which(b);
  try {
    accessSync(b, constants.X_OK);
    return b;
  } catch {
    return null;
  }
}
const MOUNT_FAILED = 97;
const MOUNT_SH = `[ -d ${TRACEFS}/events ] || mount -t tracefs tracefs ${TRACEFS} 2>/dev/null || exit ${MOUNT_FAILED}; exec "$@"`;

/** The tracepoints the event source uses (group/name). */
export const TRACEPOINTS = [
  'sock/inet_sock_set_state',
  'tcp/tcp_retransmit_skb',
  'tcp/tcp_retransmit_synack',
  'tcp/tcp_send_reset',
  'tcp/tcp_receive_reset',
  'skb/kfree_skb',
  'syscalls/sys_enter_fsync',
] as const;
export type TracepointName = (typeof TRACEPOINTS)[number];

/** argv that runs `argv` in a private mount namespace with tracefs mounted at /sys/kernel/tracing. */
export function withPrivateTracefs(argv: string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', MOUNT_SH, 'sh', ...argv];
}

export interface KernelEventsSupport {
  ok: boolean;
  detail: string; // what was found, or what is missing
  fix: string | null;
  formats: Map<TracepointName, TracepointFormat>;
  bpftrace: string | null;
  /**
   * The C library this process calls fsync() through, when the kernel takes uprobes: the control
   * and clock markers are then seen at that function's entry and cost nothing to anyone else. Null:
   * the syscall tracepoint sys_enter_fsync, which sends every syscall of every task through the
   * kernel's slow path while bpftrace runs (measured: a UDP sender 7% slower).
   */
  fsyncUprobe: string | null;
  /** offsetof(struct sk_buff, cb) from BTF, or null */
  skbCbOffset: number | null;
}

export const PRIVILEGE_FIX =
  'run as root; in a container: docker run --cap-add SYS_ADMIN --cap-add BPF --cap-add PERFMON --security-opt apparmor=unconfined (or --privileged)';

function missing(detail: string, fix: string): KernelEventsSupport {
  return { ok: false, detail, fix, formats: new Map(), bpftrace: null, fsyncUprobe: null, skbCbOffset: null };
}

let cached: { key: string; p: Promise<KernelEventsSupport> } | null = null;

/**
 * What stands between this machine and kernel events: bpftrace, BTF, privileges, tracefs, the
 * tracepoints. Cached per process (and WIRELAB_KERNEL_EVENTS / WIRELAB_BPFTRACE); the format files come with it (they do not change while the
 * kernel runs). Never throws.
 */
export function kernelEventsSupport(): Promise<KernelEventsSupport> {
  const key = `${process.env.WIRELAB_KERNEL_EVENTS ?? ''}|${process.env.WIRELAB_BPFTRACE ?? ''}`;
  if (cached?.key !== key) cached = { key, p: probeSupport() };
  return cached.p;
}

async function probeSupport(): Promise<KernelEventsSupport> {
  if (process.env.WIRELAB_KERNEL_EVENTS === 'off') return missing('turned off (WIRELAB_KERNEL_EVENTS=off)', 'unset WIRELAB_KERNEL_EVENTS');
  const bpftrace = bpftraceBinary();
  if (!bpftrace) return missing(`bpftrace is not installed (${process.env.WIRELAB_BPFTRACE || 'bpftrace'} not found)`, process.env.WIRELAB_IN_CONTAINER === '1'
    ? 'build the image with kernel events: docker build --build-arg RUNTIME_PACKAGES="tcpdump nftables iproute2 procps python3 bpftrace", and run it with --cap-add SYS_ADMIN'
    : 'apt-get install bpftrace (scripts/setup.sh installs it)');
  if (!which('unshare')) return missing('unshare is not installed (tracefs is mounted in a private mount namespace)', 'apt-get install util-linux');
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    return missing('the kernel has no BTF (/sys/kernel/btf/vmlinux): bpftrace cannot read socket structures', 'a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian and Ubuntu kernels are)');
  }
  const p = readPrivileges();
  if (p.uid !== 0 || !p.sysAdmin) {
    return missing(`eBPF tracing and mounting tracefs need CAP_SYS_ADMIN (uid ${p.uid}, CAP_SYS_ADMIN ${p.sysAdmin ? 'yes' : 'no'})`, PRIVILEGE_FIX);
  }
  const script = TRACEPOINTS.map((t) => `printf '\\n@@ ${t}\\n'; cat ${TRACEFS}/events/${t}/format 2>/dev/null`).join('; ');
  const r = await run(withPrivateTracefs(['sh', '-c', script]));
  if (r.code === MOUNT_FAILED || (r.code === 127 && /unshare/.test(r.stderr))) {
    return missing(`tracefs could not be mounted in a private mount namespace (${r.stderr.trim() || `exit ${r.code}`})`, PRIVILEGE_FIX);
  }
  if (r.code !== 0 && !r.stdout.includes('@@')) return missing(`unshare failed: ${r.stderr.trim() || `exit ${r.code}`}`, PRIVILEGE_FIX);
  const formats = new Map<TracepointName, TracepointFormat>();
  for (const part of r.stdout.split('\n@@ ').slice(1)) {
    const nl = part.indexOf('\n');
    const name = part.slice(0, nl) as TracepointName;
    const text = part.slice(nl + 1);
    if (text.includes('format:')) formats.set(name, parseTracepointFormat(text));
  }
  if (!formats.has('sock/inet_sock_set_state')) {
    return missing('the kernel has no sock:inet_sock_set_state tracepoint (Linux 4.16+)', 'a newer kernel');
  }
  const absent = TRACEPOINTS.filter((t) => !formats.has(t));
  const fsyncUprobe = libcForUprobe();
  const detail = `bpftrace ${bpftrace}, BTF, tracefs in a private mount namespace; ${formats.size} tracepoints${absent.length ? ` (absent: ${absent.join(', ')})` : ''}; markers seen ${fsyncUprobe ? `by a uprobe on ${fsyncUprobe}:fsync` : 'by the syscall tracepoint (no uprobes: every syscall takes the slow path while kernel events run)'}`;
  return { ok: true, detail, fix: null, formats, bpftrace, fsyncUprobe, skbCbOffset: memberOffset('sk_buff', 'cb') };
}

/**
 * The C library mapped into this process (whose fsync() node's fsyncSync calls), when the kernel
 * has the uprobe event source; null otherwise (a static or musl node: the syscall tracepoint then).
 */
export function libcForUprobe(): string | null {
  if (!existsSync('/sys/bus/event_source/devices/uprobe')) return null;
  try {
    const m = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'));
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}
