/** Cuts `text` to at most `maxChars`, keeping the head (where the first failure is) and saying so. */
export function truncateToBudget(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const marker = "\n[… truncated]";
  return text.slice(0, Math.max(0, maxChars - marker.length)) + marker;
}
