/**
 * The lab catalogue against the claim catalogue: every claim ID a lab names exists (a lab author's
 * mistake is caught here, before a user sees it), params are sound, every opening claim is covered.
 * Param validation: unknown names and out-of-range values are BAD_USAGE (exit 2) naming the params.
 */
import { describe, expect, it } from 'vitest';
import { CLAIMS } from '../../../labs/claims.js';
import { labs } from '../../../labs/index.js';
import { claimsOf, labProblems } from '../../../src/lab/catalogue.js';
import { resolveParams } from '../../../src/lab/params.js';
import { WirelabError } from '../../../src/errors.js';
import type { AnyLab } from '../../../src/lab/types.js';

const ids = new Set(CLAIMS.map((c) => c.id));

describe('the lab catalogue', () => {
  it('every claim ID every lab names is in labs/claims.ts, and no lab has a problem', () => {
    for (const lab of labs) for (const id of claimsOf(lab)) expect(ids, `${lab.name} names ${id}`).toContain(id);
    expect(labProblems(labs, ids)).toEqual([]);
  });

  it('claims are unique, in the catalogue\'s own words, and H01-H11 are each covered by a lab', () => {
    expect(new Set(CLAIMS.map((c) => c.id)).size).toBe(CLAIMS.length);
    expect(CLAIMS.length).toBe(38);
    const covered = new Set(labs.flatMap(claimsOf));
    const opening = CLAIMS.filter((c) => c.topic === 'opening').map((c) => c.id);
    expect(opening.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('a lab that names a claim not in the catalogue is reported, with the lab and the ID', () => {
    const bad = { ...labs[0]!, name: 'typo-lab', claims: { H99: () => ({ untestable: 'x' }) } } as AnyLab;
    expect(labProblems([bad], ids)).toEqual(['lab typo-lab names claim H99, which is not in the catalogue (labs/claims.ts)']);
  });

  it('a param default outside its own range and an IPv4-only lab that does not say why are reported', () => {
    const bad = {
      ...labs[0]!, name: 'bad-params', families: [4], familyNote: undefined,
      params: { n: { type: 'int', default: 9, min: 1, max: 5, help: 'n' } },
    } as unknown as AnyLab;
    expect(labProblems([bad], ids)).toEqual(['lab bad-params param n: default 9 outside 1..5', 'lab bad-params runs over IPv4 only and must say why (familyNote)']);
  });
});

describe('typed params', () => {
  const specs = {
    retries: { type: 'int', default: 2, min: 1, max: 6, help: 'SYN-ACK retries' },
    cookies: { type: 'boolean', default: true, help: 'SYN cookies' },
    mode: { type: 'enum', values: ['a', 'b'], default: 'a', help: 'which' },
  } as const;

  it('defaults, overridden by validated values of the right type', () => {
    expect(resolveParams('lab', specs, {})).toEqual({ retries: 2, cookies: true, mode: 'a' });
    expect(resolveParams('lab', specs, { retries: '4', cookies: 'false', mode: 'b' })).toEqual({ retries: 4, cookies: false, mode: 'b' });
  });

  const bad = (given: Record<string, string>): WirelabError => {
    try {
      resolveParams('lab', specs, given);
    } catch (e) {
      return e as WirelabError;
    }
    throw new Error('no error');
  };

  it('unknown names, wrong types and values out of range are BAD_USAGE (exit 2) listing the params and their types', () => {
    const unknown = bad({ bad: '1' });
    expect(unknown.code).toBe('BAD_USAGE');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toContain('lab lab has no param "bad"');
    expect(unknown.message).toContain('retries (int 1..6, default 2): SYN-ACK retries; cookies (true|false, default true): SYN cookies; mode (a|b, default a): which');
    expect(bad({ retries: '9' }).message).toMatch(/^--param retries=9: retries must be within 1\.\.6/);
    expect(bad({ retries: '1.5' }).message).toMatch(/retries is a whole number/);
    expect(bad({ retries: '' }).message).toMatch(/retries is a whole number/);
    expect(bad({ cookies: 'maybe' }).message).toMatch(/cookies is true or false/);
    expect(bad({ mode: 'c' }).message).toMatch(/mode is one of a, b/);
  });
});
