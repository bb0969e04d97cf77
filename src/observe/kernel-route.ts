/**
 * Routing bpftrace's output lines (JSON, one per line) to the labs of a run: event lines by their
 * registration number (the third field: each lab's namespaces were registered under their own
 * numbers), clock marks by the lab's marker tag, acknowledgements (N: registered, X: unregistered)
 * to whoever waits for them, printed maps and lost-event reports kept for whoever asks. Pure:
 * no process, no kernel; the hub feeds it lines.
 */

const PRINTF = '{"type": "printf", "data": "';

/** Where one lab's lines and clock marks go. */
export interface EventSink {
  lines: string[];
  marks: bigint[];
  /** called after a mark arrives */
  onMark?: () => void;
}

export class EventRouter {
  /** bpftrace's lost-event reports so far (perf buffer overflow: not attributable to a lab) */
  lost = 0;
  /** event lines whose registration number nobody holds (arrived after their lab unregistered) */
  unrouted = 0;
  /** the maps bpftrace printed last, by name (@emitted, @drops, @run) */
  readonly maps: Record<string, Record<string, unknown>> = {};
  /** called on the BEGIN line (the probes are attached) */
  onBegin: (() => void) | null = null;
  private readonly byGen = new Map<number, EventSink[]>();
  private readonly byTag = new Map<number, EventSink>();
  private readonly acks = new Map<string, (gen: number) => void>();

  route(gen: number, sink: EventSink): void {
    const l = this.byGen.get(gen);
    if (l) l.push(sink);
    else this.byGen.set(gen, [sink]);
  }

  unroute(gen: number, sink: EventSink): void {
    const l = this.byGen.get(gen);
    if (!l) return;
    const i = l.indexOf(sink);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.byGen.delete(gen);
  }

  tag(tag: number, sink: EventSink | null): void {
    if (sink) this.byTag.set(tag, sink);
    else this.byTag.delete(tag);
  }

  /** Wait for the acknowledgement `kind` ("N" or "X") of namespace `ino`: resolves with its registration number. */
  expect(kind: 'N' | 'X', ino: number, resolve: (gen: number) => void): () => void {
    const key = `${kind} ${ino}`;
    this.acks.set(key, resolve);
    return () => this.acks.delete(key);
  }

  /** Every waiter gets 0 (bpftrace is gone). */
  failAcks(): void {
    for (const w of this.acks.values()) w(0);
    this.acks.clear();
  }

  line(line: string): void {
    if (line.startsWith(PRINTF)) {
      const data = line.slice(PRINTF.length, line.lastIndexOf('"'));
      this.event(data.endsWith('\\n') ? data.slice(0, -2) : data);
      return;
    }
    try {
      const o = JSON.parse(line) as { type: string; data: Record<string, unknown> };
      if (o.type === 'lost_events') this.lost += Number(o.data.events) || 0;
      else if (o.type === 'map') Object.assign(this.maps, o.data);
    } catch {
      // not JSON (bpftrace's warnings go to stderr; nothing else is expected): ignore
    }
  }

  /** One printf line: "K t third ...". */
  event(ev: string): void {
    const k = ev.charCodeAt(0);
    const s1 = ev.indexOf(' ', 2);
    const s2 = ev.indexOf(' ', s1 + 1);
    const third = Number(s2 < 0 ? ev.slice(s1 + 1) : ev.slice(s1 + 1, s2));
    if (k === 66 /* B */) this.onBegin?.();
    else if (k === 67 /* C t tag */) {
      const a = this.byTag.get(third);
      if (a) {
        a.marks.push(BigInt(ev.slice(2, s1)));
        a.onMark?.();
      }
    } else if (k === 78 /* N t ino g */ || k === 88 /* X t ino g */) {
      const key = `${ev[0]} ${third}`;
      const w = this.acks.get(key);
      this.acks.delete(key);
      w?.(Number(ev.slice(s2 + 1)));
    } else {
      const sinks = this.byGen.get(third);
      if (sinks) for (const a of sinks) a.lines.push(ev);
      else this.unrouted++;
    }
  }

  /** The printed map `name`, only the keys whose first part is one of `gens`. */
  mapOf(name: string, gens: { has(g: number): boolean }): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.maps[name] ?? {})) {
      const c = k.indexOf(',');
      if (gens.has(Number(c < 0 ? k : k.slice(0, c)))) out[k] = v;
    }
    return out;
  }
}
