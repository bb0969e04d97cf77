/** Sending crafted segments from inside a lab namespace through the compiled craft helper. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { WirelabError } from '../errors.js';
import type { HostRole, Sandbox } from '../sandbox/types.js';
import { buildSegment, type CraftSpec } from './craft.js';
import { repoRoot } from './paths.js';

export function craftHelperPath(): string {
  return path.join(repoRoot, 'dist', 'src', 'lab', 'craft-helper.js');
}

/** Send `segments` from `role`'s namespace; resolves with the epoch time of each send. */
export async function craftIn(sb: Sandbox, role: HostRole, segments: CraftSpec[]): Promise<number[]> {
  for (const s of segments) buildSegment(s); // bad specs fail here, with the reason, before anything is sent
  const helper = craftHelperPath();
  if (!existsSync(helper)) throw new WirelabError('PROGRAM_FAILED', `the packet crafting helper is not built (${path.relative(repoRoot, helper)} is missing): run \`npm run build\``);
  const r = await sb.exec(role, [process.execPath, helper, JSON.stringify(segments)]);
  let out: { sent?: number; t?: number[]; error?: string } = {};
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as typeof out;
  } catch {
    // reported below
  }
  if (r.code !== 0 || out.error || out.sent !== segments.length) {
    throw new WirelabError('PROGRAM_FAILED', `sending ${segments.length} crafted segment(s) from the ${role} namespace failed: ${out.error ?? (r.stderr.trim() || r.stdout.trim())}`);
  }
  return out.t ?? [];
}
