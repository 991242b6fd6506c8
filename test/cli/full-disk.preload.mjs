/**
 * Loaded with --import into a child of start-errors.int.test.ts: making a folder under
 * FULL_DISK_UNDER fails with ENOSPC, as mkdir does on a disk with no block left. For machines that
 * cannot mount a small tmpfs to fill for real (the test does that too, where it can).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const under = process.env.FULL_DISK_UNDER;
const mkdirSync = fs.mkdirSync;
fs.mkdirSync = function fullDiskMkdirSync(target, ...rest) {
  if (under && String(target).startsWith(under)) {
    throw Object.assign(new Error(`ENOSPC: no space left on device, mkdir '${target}'`), { code: 'ENOSPC', errno: -28, syscall: 'mkdir', path: String(target) });
  }
  return mkdirSync.call(this, target, ...rest);
};
syncBuiltinESMExports();
