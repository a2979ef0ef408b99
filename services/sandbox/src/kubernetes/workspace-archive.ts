import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { ValidationError } from "@sluice/common";
import type { WorkspaceArchive } from "./exec-protocol.js";

/** Packs a host directory (an episode's starting workspace) for upload to a sandbox pod, within `maxBytes`. */
export async function packWorkspace(root: string, maxBytes: number): Promise<WorkspaceArchive> {
  const archive: WorkspaceArchive = { files: [], symlinks: [] };
  if (root === "") return archive;
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path).split("\\").join("/");
      const st = await lstat(path);
      if (st.isSymbolicLink()) archive.symlinks.push({ path: rel, target: await readlink(path) });
      else if (st.isDirectory()) await walk(path);
      else if (st.isFile()) {
        total += st.size;
        if (total > maxBytes) throw new ValidationError(`workspace ${root} is over ${maxBytes} bytes`);
        archive.files.push({ path: rel, mode: st.mode, contentB64: (await readFile(path)).toString("base64") });
      }
    }
  };
  await walk(root);
  return archive;
}
