/**
 * Lab definitions checked against the claim catalogue and against themselves: every claim ID a
 * lab names exists, names are unique, param specs are sound. A problem is a lab author's mistake:
 * BAD_LAB (exit 2), caught by the catalogue test before any user sees it.
 */
import { WirelabError } from '../errors.js';
import { specProblems } from './params.js';
import type { AnyLab } from './types.js';

export function claimsOf(lab: AnyLab): string[] {
  return Object.keys(lab.claims);
}

export function labProblems(labs: readonly AnyLab[], claimIds: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  for (const lab of labs) {
    if (!/^[a-z0-9-]+$/.test(lab.name)) out.push(`lab "${lab.name}": a name is lower-case letters, digits and dashes`);
    if (names.has(lab.name)) out.push(`lab "${lab.name}" is defined twice`);
    names.add(lab.name);
    const ids = claimsOf(lab);
    if (!ids.length) out.push(`lab ${lab.name} tests no claim`);
    for (const id of ids) if (!claimIds.has(id)) out.push(`lab ${lab.name} names claim ${id}, which is not in the catalogue (labs/claims.ts)`);
    for (const p of specProblems(lab.params)) out.push(`lab ${lab.name} param ${p}`);
    if (lab.families && lab.families.length < 2 && !lab.familyNote) out.push(`lab ${lab.name} runs over IPv${lab.families.join('')} only and must say why (familyNote)`);
  }
  return out;
}

export function assertLabsValid(labs: readonly AnyLab[], claimIds: ReadonlySet<string>): void {
  const problems = labProblems(labs, claimIds);
  if (problems.length) throw new WirelabError('BAD_LAB', `the lab catalogue has problems (a lab author's mistake):\n  ${problems.join('\n  ')}`);
}
