import { open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { FilePort } from "../ports";

/** The real disk: each write goes to a temporary file, is fsynced, then renamed over the old one. */
export const nodeFilePort: FilePort = {
  async read(path) {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  },
  async write(path, data) {
    const temporary = `${path}.tmp-${process.pid}`;
    try {
      const handle = await open(temporary, "w", 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    // The rename itself must survive a power cut: sync the directory.
    const dir = await open(dirname(path), "r").catch(() => undefined);
    if (dir) {
      await dir.sync().catch(() => undefined);
      await dir.close();
    }
  },
};
