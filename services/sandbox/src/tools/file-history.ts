/**
 * Earlier contents of files the editor changed in one sandbox, for `undo_edit`. `null`
 * records that the file did not exist (it was made by `create`), so undoing removes it.
 * Whole contents are kept, so the total is bounded: past `maxBytes` the oldest entries,
 * of whatever file, are dropped first.
 */
export class FileHistory {
  private readonly entries: Array<{ path: string; content: string | null; bytes: number }> = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(path: string, content: string | null): void {
    const bytes = content === null ? 0 : Buffer.byteLength(content, "utf8");
    this.entries.push({ path, content, bytes });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes && this.entries.length > 0) {
      const dropped = this.entries.shift();
      this.bytes -= dropped?.bytes ?? 0;
    }
  }

  /** The most recent earlier content of `path`, removed from the history; undefined if none. */
  pop(path: string): { content: string | null } | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e?.path !== path) continue;
      this.entries.splice(i, 1);
      this.bytes -= e.bytes;
      return { content: e.content };
    }
    return undefined;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}
