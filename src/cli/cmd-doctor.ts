/** `wirelab doctor [--clean] [--json]`: what this machine can run, and what to do about what it can't. */
import os from 'node:os';
import { describeError } from '../errors.js';
import { cleanupStale, createSandbox, listSandboxNamespaces, readPrivileges, sandboxMode, which } from '../sandbox/index.js';
import type { Sandbox } from '../sandbox/types.js';
import { kernelEventsSupport, startKernelEvents } from '../observe/index.js';
import { parse } from './args.js';
import { out, outJson } from './output.js';

const USAGE = 'wirelab doctor [--clean] [--json]';

interface Check {
  name: string;
  ok: boolean;
  required: boolean; // a failed required check means labs cannot run (exit 3)
  detail: string;
  fix: string | null;
}

/** The sysctls labs rely on, read inside a fresh lab namespace (their per-namespace defaults). */
const SYSCTLS = [
  'net.ipv4.tcp_syn_retries', 'net.ipv4.tcp_synack_retries', 'net.ipv4.tcp_syn_linear_timeouts', 'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_max_syn_backlog', 'net.core.somaxconn', 'net.ipv4.tcp_timestamps', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_max_tw_buckets', 'net.ipv4.tcp_tw_reuse', 'net.ipv4.tcp_early_retrans', 'net.ipv4.tcp_no_metrics_save',
  'net.ipv4.ipfrag_time', 'net.ipv4.tcp_fastopen', 'net.core.rmem_default', 'net.core.rmem_max',
];

function tool(name: string, pkg: string, required: boolean, why: string): Check {
  const p = which(name);
  return { name: `tool ${name}`, ok: !!p, required, detail: p ? `${p} (${why})` : `missing (${why})`, fix: p ? null : `apt-get install ${pkg}` };
}

async function kernelChecks(checks: Check[], values: Record<string, string>): Promise<void> {
  let sb: Sandbox | null = null;
  try {
    sb = await createSandbox({ kind: 'loopback' }, { label: 'doctor' });
    const shared = sandboxMode(readPrivileges()).kind === 'own-netns'; // container mode
    checks.push({ name: 'network namespaces', ok: true, required: true, detail: shared ? "single-host labs use this container's own network namespace" : 'created and configured a lab namespace', fix: null });
    const read = await sb.exec('server', ['sh', '-c', SYSCTLS.map((k) => `printf '%s=%s\\n' ${k} "$(cat /proc/sys/${k.replace(/\./g, '/')} 2>/dev/null || echo absent)"`).join('; ')]);
    for (const line of read.stdout.trim().split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1).replace(/\s+/g, ' ');
    }
    const w = await sb.exec('server', ['sh', '-c', 'v=$(cat /proc/sys/net/ipv4/tcp_synack_retries) && echo "$v" > /proc/sys/net/ipv4/tcp_synack_retries']);
    checks.push({
      name: 'per-namespace sysctls', ok: w.code === 0, required: false,
      detail: w.code === 0 ? 'writable inside a lab namespace' : `not writable: ${w.stderr.trim()}`,
      fix: w.code === 0 ? null : 'in a container: docker run --security-opt systempaths=unconfined (podman: --security-opt unmask=/proc/sys), or pass each --sysctl KEY=VALUE',
    });
    const nft = which('nft') ? await sb.exec('server', ['nft', 'add table inet wirelab_doctor']) : null;
    checks.push({
      name: 'nftables in a namespace', ok: nft?.code === 0, required: false,
      detail: nft ? (nft.code === 0 ? 'rules can be added (fault labs work)' : nft.stderr.trim()) : 'nft missing',
      fix: nft?.code === 0 ? null : 'apt-get install nftables; the kernel needs nf_tables',
    });
    const netem = which('tc') ? await sb.exec('server', ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']) : null;
    checks.push({
      name: 'netem qdisc', ok: netem?.code === 0, required: false,
      detail: netem?.code === 0 ? 'available' : 'not in this kernel: labs add delay with nftables/NFQUEUE instead, loss with nftables',
      fix: null,
    });
    const missing = SYSCTLS.filter((k) => values[k] === 'absent');
    checks.push({
      name: 'kernel TCP features', ok: missing.length === 0, required: false,
      detail: missing.length ? `this kernel lacks ${missing.join(', ')}` : 'every sysctl labs rely on is present',
      fix: missing.length ? 'labs that need these keys say so and are skipped' : null,
    });
    checks.push(await kernelEventsCheck(sb.host('server').netns));
  } catch (e) {
    checks.push({ name: 'network namespaces', ok: false, required: true, detail: describeError(e), fix: 'run as root with CAP_NET_ADMIN and CAP_SYS_ADMIN (ip netns needs to mount)' });
  } finally {
    // In container mode the namespace is the container's and outlives the sandbox: undo the probes.
    await sb?.exec('server', ['sh', '-c', 'nft delete table inet wirelab_doctor; tc qdisc del dev lo root; true']).catch(() => null);
    await sb?.destroy();
  }
}

/** Kernel events: the prerequisites, then a real attach to the doctor's namespace. */
async function kernelEventsCheck(netns: string): Promise<Check> {
  const name = 'kernel events (eBPF)';
  const without = 'without them labs run on /proc samples every 10 ms and counters, and their reports say so';
  const support = await kernelEventsSupport();
  if (!support.ok) return { name, ok: false, required: false, detail: `unavailable: ${support.detail}; ${without}`, fix: support.fix };
  const src = startKernelEvents([netns]);
  await src.ready();
  const k = await src.stop();
  if (!k.available) return { name, ok: false, required: false, detail: `${k.missing}; ${without}`, fix: k.fix };
  return {
    name, ok: true, required: false,
    detail: `${support.detail}; attached in ${(k.startMs / 1000).toFixed(1)} s, kernel times on the pcap clock ± ${k.clock.errorUs.toFixed(1)} µs`,
    fix: null,
  };
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse('doctor', argv, { clean: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  const checks: Check[] = [];
  const p = readPrivileges();
  const mode = sandboxMode(p);
  const canRun = p.uid === 0 && p.netAdmin && p.netRaw && mode.kind !== 'none';
  checks.push({
    name: 'privileges', ok: canRun, required: true,
    detail: `uid ${p.uid}, CAP_NET_ADMIN ${p.netAdmin ? 'yes' : 'no'}, CAP_NET_RAW ${p.netRaw ? 'yes' : 'no'}, CAP_SYS_ADMIN ${p.sysAdmin ? 'yes' : 'no'} (namespaces)` +
      (mode.kind === 'own-netns' ? `; container mode (${mode.why}): single-host labs run in this container's own network namespace, one at a time; two hosts or a router need --cap-add SYS_ADMIN` : ''),
    fix: canRun ? null : mode.kind === 'none' && p.uid === 0 && p.netAdmin ? mode.why : 'run as root (sudo); in Docker add --cap-add NET_ADMIN --cap-add NET_RAW (and --cap-add SYS_ADMIN for labs with two hosts or a router)',
  });
  checks.push(tool('ip', 'iproute2', true, 'namespaces, veth'));
  checks.push(tool('tcpdump', 'tcpdump', false, 'captures; without it the raw-socket backend sees IPv4 only, no fragments'));
  checks.push(tool('nft', 'nftables', false, 'fault rules: loss, dropped ACKs'));
  checks.push(tool('iptables', 'iptables', false, 'not used yet: fault rules are nftables; kept for NFQUEUE delay'));
  checks.push(tool('tshark', 'tshark', false, 'only for the oracle tests and benchmarks'));
  let rawSocket = true;
  try {
    await import('raw-socket');
  } catch {
    rawSocket = false;
  }
  checks.push({ name: 'raw-socket addon', ok: rawSocket, required: false, detail: rawSocket ? 'built' : 'not built', fix: rawSocket ? null : 'bash scripts/setup.sh (builds it against this node\'s headers)' });

  const values_: Record<string, string> = {};
  if (checks[0]!.ok && which('ip')) await kernelChecks(checks, values_);

  const stale = checks[0]!.ok ? await listSandboxNamespaces() : [];
  let removed: string[] = [];
  if (values.clean && checks[0]!.ok) removed = await cleanupStale();
  const staleDead = stale.filter((s) => !s.ownerAlive);
  checks.push({
    name: 'stale lab namespaces', ok: staleDead.length === 0 || removed.length > 0, required: false,
    detail: values.clean ? `removed ${removed.length}: ${removed.join(' ') || '(none)'}` : `${staleDead.length} left by killed runs${staleDead.length ? `: ${staleDead.map((s) => s.name).join(' ')}` : ''}; ${stale.length - staleDead.length} in use`,
    fix: staleDead.length && !values.clean ? 'wirelab doctor --clean' : null,
  });

  const failedRequired = checks.some((c) => c.required && !c.ok);
  if (values.json) {
    outJson({ kernel: os.release(), ok: !failedRequired, checks, sysctls: values_ });
  } else {
    out(`wirelab doctor: kernel ${os.release()}, node ${process.version}`);
    for (const c of checks) {
      out(`${c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn'}  ${c.name}: ${c.detail}${c.fix ? `\n      fix: ${c.fix}` : ''}`);
    }
    if (Object.keys(values_).length) {
      out('sysctls in a fresh lab namespace:');
      for (const [k, v] of Object.entries(values_)) out(`      ${k} = ${v}`);
    }
    out(failedRequired ? 'labs cannot run here: fix the FAIL lines above' : 'labs can run here');
  }
  return failedRequired ? 3 : 0;
}
