/** The lab catalogue. The runner takes labs from here; it never checks a name. */
import type { LabDefinition } from '../src/lab/types.js';
import fourWayClose from './four-way-close.js';
import handshake from './handshake.js';

export const labs: LabDefinition[] = [handshake, fourWayClose];
