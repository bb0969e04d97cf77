/**
 * Run a group of labs through the CLI as a user does (`wirelab run LAB… --json`), in one process per
 * family, and hand a test what it asserts on: each lab's JSON, every failed expectation spelled out,
 * and the claims by ID. The lab-group tests share it so that a change to the run JSON is made once.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from './cli.js';

export interface ClaimJson {
  id: string;
  verdict: string;
  evidence: string;
  differs?: { textbook?: string; linux?: string; measured: string };
}

export interface LabJson {
  lab: string;
  family: number;
  verdict: string;
  reason: string | null;
  capture: string | null; // the pcap, relative to the repository root
  claims: ClaimJson[];
  expectations: { text: string; ok: boolean; expected: unknown; actual: unknown; at: string }[];
  story: string | null;
}

export interface LabsRun<L extends LabJson> extends CliResult {
  out: string; // the run's output folder (captures, report.json)
  labs: L[];
  failed: string[]; // "lab file:line: text: expected … got …" per failed expectation
  verdicts: Record<string, string>; // claim ID -> verdict, over every lab of the run
  claims: Record<string, ClaimJson>; // claim ID -> the claim (the last lab's, when two labs share an ID)
}

export async function runLabs<L extends LabJson = LabJson>(names: string[], family: 4 | 6, opts: { jobs: number; timeoutMs: number; tag: string }): Promise<LabsRun<L>> {
  const out = mkdtempSync(path.join(os.tmpdir(), `wl-${opts.tag}-`));
  const r = await runCli(['run', ...names, '--json', '--jobs', String(opts.jobs), '--out', out, ...(family === 6 ? ['--ipv6'] : [])], { timeoutMs: opts.timeoutMs });
  let labs: L[];
  try {
    labs = (JSON.parse(r.stdout) as { labs: L[] }).labs;
  } catch {
    throw new Error(`wirelab run ${names.join(' ')} printed no run JSON (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  }
  const failed = labs.flatMap((l) => l.expectations.filter((e) => !e.ok).map((e) => `${l.lab} ${e.at}: ${e.text}: expected ${JSON.stringify(e.expected)} got ${JSON.stringify(e.actual)}`));
  const all = labs.flatMap((l) => l.claims);
  return {
    ...r, out, labs, failed,
    verdicts: Object.fromEntries(all.map((c) => [c.id, c.verdict])),
    claims: Object.fromEntries(all.map((c) => [c.id, c])),
  };
}
