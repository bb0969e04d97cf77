/**
 * Fault rules as nftables inside the receiving host's namespace, on its input path: one table
 * `inet wirelab`, a prerouting chain at priority -450 (before conntrack's defragmentation at -400,
 * so IP fragments are seen one by one), one named counter per rule (faultCounts reads them).
 *
 * - drop-nth: `numgen inc mod 4000000000 N-1-(N+count-2)`, after the match expressions, so the
 *   rule's counter counts only matching packets (one counter per address family when `from` is
 *   given: IPv4 and IPv6 packets are numbered apart).
 * - every rule looks its packet's family up in a timeout set `arm_<rule>`; armFault adds the
 *   elements (with `timeout Ns` for a duration: the kernel disarms it), disarmFault flushes it. A
 *   drop-window starts disarmed (unless armed: true), the other kinds armed (unless armed: false).
 * - random-loss: `numgen random mod 100 < P` (`mod 10000 < 100*P` for a fractional P); with
 *   nflogGroup N the rule also logs each packet it drops to NFLOG group N (`tcpdump -i nflog:N`
 *   records exactly the dropped packets, fragments included).
 * - fragment-loss: `ip frag-off & 0x3fff != 0` and `exthdr frag exists` (IPv6).
 * - TCP shapes 'pure-ack' and 'data' need the payload length, which nft cannot compute: a
 *   classify chain sets mark bit 0x1000 when IP length == TCP header length (IPv4 without options,
 *   IPv6 without extension headers), so the mark bit 0x1000 is taken in a sandbox namespace.
 *
 * On loopback client and server share 127.0.0.1 / ::1, so `from` cannot be told by address: a rule
 * with `from` there must also give `dport` (the server's port for from: 'client') or `sport` (the
 * server's port for from: 'server'); `from` then adds no address match.
 */
import { WirelabError } from '../errors.js';
import { run, which } from './command.js';
import type { FaultCount, FaultRule, HostRole, PacketMatch } from './types.js';

export interface RoleAddrs {
  v4: string[];
  v6: string[];
}

export interface FaultContext {
  loopback: boolean;
  nsOf(role: HostRole): string;
  addrsOf(role: HostRole): RoleAddrs;
  /** The argv prefix that runs nft in `ns`; default `ip netns exec NS` ([] in container mode: our own namespace). */
  execPrefix?(ns: string): string[];
}

interface Installed {
  rule: FaultRule;
  ns: string;
  counter: string;
  armSet: string;
}

const PAYLOAD_ZERO = 0x1000;
const TABLE = 'inet wirelab';

function ident(name: string, i: number): string {
  return `${name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}_${i}`;
}

function bad(rule: { name: string }, why: string): WirelabError {
  return new WirelabError('FAULT_RULE_FAILED', `fault rule ${JSON.stringify(rule.name)}: ${why}`, { rule: rule.name });
}

function tcpShape(shape: NonNullable<PacketMatch['tcp']>): string {
  const all = '(fin|syn|rst|psh|ack|urg)';
  switch (shape) {
    case 'syn':
      return 'tcp flags & (fin|syn|rst|ack) == syn';
    case 'syn-ack':
      return 'tcp flags & (fin|syn|rst|ack) == syn|ack';
    case 'pure-ack':
      return `meta mark & ${PAYLOAD_ZERO} == ${PAYLOAD_ZERO} tcp flags & ${all} == ack`;
    case 'fin':
      return 'tcp flags & fin == fin';
    case 'rst':
      return 'tcp flags & rst == rst';
    case 'data':
      return `meta l4proto tcp meta mark & ${PAYLOAD_ZERO} == 0`;
  }
}

/** The match expressions of one rule; one string per address family variant. */
function matchExprs(rule: FaultRule & { match: PacketMatch }, ctx: FaultContext): string[] {
  const m = rule.match;
  const parts: string[] = [];
  const proto = m.tcp ? 'tcp' : m.proto;
  if (m.tcp && m.proto && m.proto !== 'tcp') throw bad(rule, `tcp shape ${m.tcp} with proto ${m.proto}`);
  if (proto === 'icmp' && (m.sport !== undefined || m.dport !== undefined)) throw bad(rule, 'icmp has no ports');
  if (proto === 'icmp') parts.push('meta l4proto { icmp, ipv6-icmp }');
  else if (proto) parts.push(`meta l4proto ${proto}`);
  else if (m.sport !== undefined || m.dport !== undefined) parts.push('meta l4proto { tcp, udp }');
  for (const [k, v] of [['sport', m.sport], ['dport', m.dport]] as const) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw bad(rule, `${k} ${v} is not a port`);
    parts.push(`th ${k} ${v}`);
  }
  if (m.tcp) parts.push(tcpShape(m.tcp));
  if (m.ttl !== undefined && !(Number.isInteger(m.ttl) && m.ttl >= 0 && m.ttl <= 255)) throw bad(rule, `ttl ${m.ttl} is not within 0..255`);
  const base = parts.join(' ');
  // A TTL match is per family: IPv4's ttl, IPv6's hoplimit.
  const ttl4 = m.ttl === undefined ? '' : `ip ttl ${m.ttl} `;
  const ttl6 = m.ttl === undefined ? '' : `ip6 hoplimit ${m.ttl} `;
  if (!m.from && m.ttl !== undefined) return [`${ttl4}${base}`, `${ttl6}${base}`];
  if (!m.from) return [base];
  if (ctx.loopback) {
    if (m.sport === undefined && m.dport === undefined) {
      throw bad(
        rule,
        `on loopback client and server share 127.0.0.1/::1, so from: '${m.from}' cannot be told by address: add dport (the server's port) for packets from the client, or sport (the server's port) for packets from the server`,
      );
    }
    return m.ttl === undefined ? [base] : [`${ttl4}${base}`, `${ttl6}${base}`];
  }
  const a = ctx.addrsOf(m.from);
  const set = (xs: string[]): string => (xs.length === 1 ? xs[0]! : `{ ${xs.join(', ')} }`);
  return [`ip saddr ${set(a.v4)} ${ttl4}${base}`, `ip6 saddr ${set(a.v6)} ${ttl6}${base}`];
}

function percentOf(rule: { name: string; percent: number }): number {
  const p = rule.percent;
  if (!(p >= 0 && p <= 100)) throw bad(rule, `percent ${p} is not within 0..100`);
  return Math.round(p);
}

/** `numgen random mod 100 < P` for a whole percent, `mod 10000 < 100*P` for hundredths. */
function randomDraw(rule: { name: string; percent: number }): string {
  const p = rule.percent;
  if (!(p >= 0 && p <= 100)) throw bad(rule, `percent ${p} is not within 0..100`);
  if (p >= 100) return ''; // every packet: nft refuses `mod 100 < 100` (the value must be 0..99)
  if (Number.isInteger(p)) return `numgen random mod 100 < ${p}`;
  return `numgen random mod 10000 < ${Math.round(p * 100)}`;
}

const chainHeader = (): string[] => {
  const classify: string[] = [];
  for (let doff = 5; doff <= 15; doff++) {
    classify.push(`    ip length ${20 + doff * 4} tcp doff ${doff} meta mark set meta mark | ${PAYLOAD_ZERO}`);
    classify.push(`    ip6 length ${doff * 4} tcp doff ${doff} meta mark set meta mark | ${PAYLOAD_ZERO}`);
  }
  return [
    `table ${TABLE} {`,
    '  chain classify {',
    ...classify,
    '  }',
    '  chain pre {',
    '    type filter hook prerouting priority -450; policy accept;',
    `    meta mark set meta mark & ${(~PAYLOAD_ZERO >>> 0).toString()}`,
    '    meta l4proto tcp jump classify',
    '  }',
    '}',
  ];
};

export class FaultTables {
  private readonly installed = new Map<string, Installed>();
  private readonly tables = new Set<string>();
  private seq = 0;

  constructor(private readonly ctx: FaultContext) {}

  private in(ns: string): string[] {
    return this.ctx.execPrefix?.(ns) ?? ['ip', 'netns', 'exec', ns];
  }

  private async nft(ns: string, script: string, what: string): Promise<string> {
    const r = await run([...this.in(ns), 'nft', '-f', '-'], script);
    if (r.code !== 0) {
      throw new WirelabError('FAULT_RULE_FAILED', `${what}: nft in ${ns} failed: ${r.stderr.trim()}\n--- script ---\n${script}`, { ns });
    }
    return r.stdout;
  }

  async apply(rules: FaultRule[]): Promise<void> {
    if (!which('nft')) {
      throw new WirelabError('NO_TOOL', 'nft (nftables) is not installed: fault rules need it: apt-get install nftables', { tool: 'nft' });
    }
    const perNs = new Map<string, string[]>();
    const pending: Installed[] = [];
    for (const rule of rules) {
      if (!rule.name) throw bad(rule, 'a fault rule needs a name');
      if (this.installed.has(rule.name) || pending.some((p) => p.rule.name === rule.name)) throw bad(rule, 'duplicate name');
      const ns = this.ctx.nsOf(rule.at);
      const i = this.seq++;
      const counter = `c_${ident(rule.name, i)}`;
      const lines: string[] = [`add counter ${TABLE} ${counter}`];
      const verdict = `counter name ${counter} drop`;
      // Every rule looks its packet's family up in its own timeout set: arm/disarm (and a timed arm)
      // work on any kind. A drop-window starts disarmed unless armed: true; the others start armed.
      const armSet = `arm_${ident(rule.name, i)}`;
      lines.push(`add set ${TABLE} ${armSet} { type nf_proto; flags timeout; }`);
      const armed = `meta nfproto @${armSet}`;
      const startArmed = rule.kind === 'drop-window' ? !!rule.armed : rule.armed !== false;
      if (startArmed) lines.push(`add element ${TABLE} ${armSet} { ipv4, ipv6 }`);
      switch (rule.kind) {
        case 'drop-nth': {
          const count = rule.count ?? 1;
          if (!Number.isInteger(rule.nth) || rule.nth < 1) throw bad(rule, `nth must be an integer >= 1, got ${rule.nth}`);
          if (!Number.isInteger(count) || count < 1) throw bad(rule, `count must be an integer >= 1, got ${count}`);
          const lo = rule.nth - 1;
          const hi = lo + count - 1;
          const range = lo === hi ? `${lo}` : `${lo}-${hi}`;
          for (const m of matchExprs(rule, this.ctx)) lines.push(`add rule ${TABLE} pre ${m} ${armed} numgen inc mod 4000000000 ${range} ${verdict}`);
          break;
        }
        case 'drop-window': {
          for (const m of matchExprs(rule, this.ctx)) lines.push(`add rule ${TABLE} pre ${m} ${armed} ${verdict}`);
          break;
        }
        case 'random-loss': {
          const draw = randomDraw(rule);
          const g = rule.nflogGroup;
          if (g !== undefined && !(Number.isInteger(g) && g >= 0 && g <= 65535)) throw bad(rule, `nflogGroup ${g} is not 0..65535`);
          const logStmt = g === undefined ? '' : `log group ${g} queue-threshold 1 `;
          for (const m of matchExprs(rule, this.ctx)) lines.push(`add rule ${TABLE} pre ${m} ${armed} ${draw ? `${draw} ` : ''}${logStmt}${verdict}`);
          break;
        }
        case 'fragment-loss': {
          const p = percentOf(rule);
          const rnd = p >= 100 ? '' : ` numgen random mod 100 < ${p}`;
          lines.push(`add rule ${TABLE} pre ip frag-off & 0x3fff != 0 ${armed}${rnd} ${verdict}`);
          lines.push(`add rule ${TABLE} pre exthdr frag exists ${armed}${rnd} ${verdict}`);
          break;
        }
        default:
          throw bad(rule as { name: string }, `unknown kind ${(rule as { kind: string }).kind}`);
      }
      const list = perNs.get(ns) ?? [];
      list.push(...lines);
      perNs.set(ns, list);
      pending.push({ rule, ns, counter, armSet });
    }
    for (const [ns, lines] of perNs) {
      const header = this.tables.has(ns) ? [] : chainHeader();
      await this.nft(ns, [...header, ...lines].join('\n') + '\n', `installing fault rules ${pending.filter((p) => p.ns === ns).map((p) => p.rule.name).join(', ')}`);
      this.tables.add(ns);
    }
    for (const p of pending) this.installed.set(p.rule.name, p);
  }

  private window(name: string): Installed {
    const f = this.installed.get(name);
    if (!f) throw new WirelabError('FAULT_RULE_FAILED', `no fault rule named ${JSON.stringify(name)} (applyFaults it first)`, { rule: name });
    return f;
  }

  async arm(name: string, durationMs?: number): Promise<void> {
    const f = this.window(name);
    let elems = 'ipv4, ipv6';
    if (durationMs !== undefined) {
      if (!(durationMs > 0)) throw new WirelabError('FAULT_RULE_FAILED', `armFault(${name}): duration ${durationMs} ms must be > 0`);
      const t = `${Math.max(1, Math.round(durationMs))}ms`;
      elems = `ipv4 timeout ${t}, ipv6 timeout ${t}`;
    }
    await this.nft(f.ns, `flush set ${TABLE} ${f.armSet}\nadd element ${TABLE} ${f.armSet} { ${elems} }\n`, `arming ${name}`);
  }

  async disarm(name: string): Promise<void> {
    const f = this.window(name);
    await this.nft(f.ns, `flush set ${TABLE} ${f.armSet}\n`, `disarming ${name}`);
  }

  async counts(): Promise<FaultCount[]> {
    const byNs = new Map<string, Map<string, number>>();
    for (const ns of this.tables) {
      const r = await run([...this.in(ns), 'nft', '-j', 'list', 'counters', 'table', 'inet', 'wirelab']);
      if (r.code !== 0) throw new WirelabError('FAULT_RULE_FAILED', `reading fault counters in ${ns}: ${r.stderr.trim()}`, { ns });
      const m = new Map<string, number>();
      const doc = JSON.parse(r.stdout) as { nftables: Array<{ counter?: { name: string; packets: number } }> };
      for (const o of doc.nftables) if (o.counter) m.set(o.counter.name, o.counter.packets);
      byNs.set(ns, m);
    }
    return [...this.installed.values()].map((f) => ({ name: f.rule.name, dropped: byNs.get(f.ns)?.get(f.counter) ?? 0 }));
  }
}
