/**
 * Routing one shared bpftrace's output to the labs of a run: event lines by registration number,
 * clock marks by tag, acknowledgements to their waiters, printed maps filtered per lab. Lines as
 * bpftrace 0.17 printed them on this machine (-f json).
 */
import { describe, expect, it } from 'vitest';
import { EventRouter, type EventSink } from '../../../src/observe/kernel-route.js';

const printf = (s: string): string => `{"type": "printf", "data": "${s}\\n"}`;
const sink = (): EventSink => ({ lines: [], marks: [] });

describe('routing events by namespace registration', () => {
  it("gives each lab only its own namespaces' events, and counts those of no lab", () => {
    const r = new EventRouter();
    const a = sink();
    const b = sink();
    r.route(1, a); // lab A: client namespace registered as 1
    r.route(2, a); // lab A: server namespace, 2
    r.route(3, b); // lab B: 3
    r.line(printf('S 556512160931 1 ffff88819ddd40c0 7 2 0 8080 ::ffff:10.0.0.1 ::ffff:10.0.0.2'));
    r.line(printf('S 556512161000 3 ffff88819ddd4000 7 2 0 8080 ::ffff:10.0.0.1 ::ffff:10.0.0.2'));
    r.line(printf('D 556512162000 2 6 2048 4 17 127.0.0.1 127.0.0.1 40000 9000 108 4 ffffffff820a7607'));
    r.line(printf('U 556512163000 3 6 40000 9000 77 70'));
    r.line(printf('S 556512164000 9 ffff88819ddd4000 1 4 8080 5000 ::1 ::1'));
    expect(a.lines.map((l) => l.split(' ')[2])).toEqual(['1', '2']);
    expect(a.lines[1]).toBe('D 556512162000 2 6 2048 4 17 127.0.0.1 127.0.0.1 40000 9000 108 4 ffffffff820a7607');
    expect(b.lines.map((l) => l[0])).toEqual(['S', 'U']);
    expect(r.unrouted).toBe(1);
    r.unroute(3, b);
    r.line(printf('S 556512165000 3 ffff88819ddd4000 1 4 8080 5000 ::1 ::1'));
    expect(b.lines).toHaveLength(2);
    expect(r.unrouted).toBe(2);
  });

  it('shares a namespace two labs registered (the container mode\'s own) until both let go', () => {
    const r = new EventRouter();
    const a = sink();
    const b = sink();
    r.route(5, a);
    r.route(5, b);
    r.line(printf('I 10 5 ffff88819ddd4000 8080 5000 ::1 ::1'));
    r.unroute(5, a);
    r.line(printf('I 11 5 ffff88819ddd4000 8080 5000 ::1 ::1'));
    expect(a.lines).toHaveLength(1);
    expect(b.lines).toHaveLength(2);
  });

  it('routes clock marks by tag and acknowledgements to their waiter, with the registration number', () => {
    const r = new EventRouter();
    const a = sink();
    let marked = 0;
    a.onMark = () => marked++;
    r.tag(7, a);
    r.line(printf('C 21636216697351 7'));
    r.line(printf('C 21636216697999 8')); // another lab's tag
    expect(a.marks).toEqual([21636216697351n]);
    expect(marked).toBe(1);
    const got: number[] = [];
    r.expect('N', 4026532174, (g) => got.push(g));
    r.line(printf('N 21636216664061 4026532174 12'));
    r.line(printf('N 21636216664062 4026532174 13')); // nobody waits any more
    expect(got).toEqual([12]);
    let begun = false;
    r.onBegin = () => (begun = true);
    r.line(printf('B 21632938417593'));
    expect(begun).toBe(true);
  });

  it("keeps bpftrace's printed maps and hands each lab only its registrations' keys; counts lost events", () => {
    const r = new EventRouter();
    r.line('{"type": "map", "data": {"@emitted": {"1,2": 1, "1,1": 4, "3,6": 2, "12,6": 9}}}');
    r.line('{"type": "map", "data": {"@run": {"1,6,40000,9000": [77,70,21636216561347], "3,6,1,2": [5,6,7]}}}');
    r.line('{"type": "lost_events", "data": {"events": 3}}');
    r.line('Attaching 7 probes...'); // not JSON: ignored
    const mine = new Set([1, 2]);
    expect(r.mapOf('@emitted', mine)).toEqual({ '1,2': 1, '1,1': 4 });
    expect(r.mapOf('@run', mine)).toEqual({ '1,6,40000,9000': [77, 70, 21636216561347] });
    expect(r.mapOf('@drops', mine)).toEqual({});
    expect(r.lost).toBe(3);
  });

  it('fails every waiting acknowledgement with 0 when bpftrace is gone', () => {
    const r = new EventRouter();
    const got: number[] = [];
    r.expect('X', 4026532174, (g) => got.push(g));
    r.failAcks();
    expect(got).toEqual([0]);
  });
});
