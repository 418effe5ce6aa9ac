/** Polls `done` every 100 ms until it holds or `ms` pass; says whether it held. */
export async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited >= ms) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}
