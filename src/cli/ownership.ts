/**
 * Files a run writes belong to whoever owns the folder they are written into. In a container
 * wirelab runs as root, and the captures folder is usually a host folder mounted from the user's
 * home (`-v "$PWD/captures:/app/captures"`): without this the user would need sudo to delete them.
 */
import { chown, lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { child } from '../log.js';

const log = child('cli');

async function chownTree(p: string, uid: number, gid: number): Promise<number> {
  const st = await lstat(p);
  let n = 0;
  if (st.uid !== uid || st.gid !== gid) {
    await chown(p, uid, gid);
    n++;
  }
  if (st.isDirectory()) for (const e of await readdir(p)) n += await chownTree(path.join(p, e), uid, gid);
  return n;
}

/**
 * Give `dir` and everything in it to the owner of its parent folder, when we are root and that
 * owner is someone else. Never throws: a failure is logged (the files are still there, root's).
 */
export async function adoptParentOwner(dir: string): Promise<void> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  try {
    const parent = await stat(path.dirname(path.resolve(dir)));
    if (parent.uid === 0 && parent.gid === 0) return;
    const n = await chownTree(dir, parent.uid, parent.gid);
    if (n) log.debug({ dir, uid: parent.uid, gid: parent.gid, changed: n }, 'gave the run\'s files to the folder\'s owner');
  } catch (e) {
    log.warn({ err: e, dir }, 'could not give the run\'s files to the owner of their folder');
  }
}
