import { access } from "node:fs/promises";

/** True when `path` exists (any type); never throws. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
