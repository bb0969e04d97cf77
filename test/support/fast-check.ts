/**
 * Property tests run with a fixed seed by default, so a CI run is reproducible and a red run can be
 * replayed. Explore with FC_SEED=random (the seed is printed) or FC_SEED=<number>.
 */
import fc from 'fast-check';

const raw = process.env.FC_SEED;
const seed = raw === 'random' ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : raw ? Number(raw) : 20261121;
fc.configureGlobal({ seed });
if (raw === 'random') process.stderr.write(`fast-check seed ${seed}\n`);
