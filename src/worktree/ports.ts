import { createHash } from "node:crypto";
import { createServer } from "node:net";

export const PORTS_PER_TASK = 10;
const FIRST_PORT = 20000;
const BLOCKS = 4000; // ports 20000-59999

/** The preferred block of a task: the same for the same feature and task on every machine. */
function preferredBlock(slug: string, taskId: string): number {
  return createHash("sha256").update(`${slug}\0${taskId}`).digest().readUInt32BE(0) % BLOCKS;
}

function blockPort(block: number): number {
  return FIRST_PORT + (block % BLOCKS) * PORTS_PER_TASK;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function blockIsFree(first: number): Promise<boolean> {
  const ports = Array.from({ length: PORTS_PER_TASK }, (_, i) => first + i);
  return (await Promise.all(ports.map(portIsFree))).every(Boolean);
}

/**
 * First port of a free block of 10 for the task: its preferred block, or the next free one,
 * never one in `taken` (the blocks of the feature's other tasks).
 */
export async function allocatePortBlock(slug: string, taskId: string, taken: ReadonlySet<number>): Promise<number> {
  const start = preferredBlock(slug, taskId);
  for (let k = 0; k < BLOCKS; k++) {
    const first = blockPort(start + k);
    if (taken.has(first)) continue;
    if (await blockIsFree(first)) return first;
  }
  throw new Error("no free block of 10 ports between 20000 and 59999");
}
