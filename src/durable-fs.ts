/**
 * Durable file writes shared by every store that keeps files next to the catalogue: data is
 * fsynced before it is renamed into place, and the folder is fsynced so the rename survives too.
 */
import { open } from 'node:fs/promises';

/**
 * Writes `data` to `path` and fsyncs it before returning. `exclusive` refuses to overwrite an
 * existing file (for temp names that must be fresh).
 */
export async function writeDurably(path: string, data: Uint8Array | string, options: { exclusive?: boolean } = {}): Promise<void> {
  const handle = await open(path, options.exclusive ? 'wx' : 'w', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename or a new entry in `dir` durable. Some platforms (Windows) cannot fsync a folder: skipped there. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'ENOENT') throw err;
  } finally {
    await handle?.close();
  }
}
