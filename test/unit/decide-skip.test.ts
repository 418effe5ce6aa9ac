import { describe, expect, it } from "vitest";
import { decideSkip, describeSkipAction, type SkipFacts } from "../../src/skip/decide-skip.js";

const NOW = "2030-01-02T03:04:05.000Z";

function facts(over: Partial<SkipFacts> = {}): SkipFacts {
  return { slug: "demo", task: { id: "b", phase: 1, branch: "feature/demo-b" }, undo: false, reason: "nothing to do", now: NOW, phase: { synced: false }, ...over };
}

describe("decideSkip", () => {
  it("refuses while the task's phase has not started", () => {
    const d = decideSkip(facts({ phase: undefined }));
    expect(d).toEqual({ refusals: [{ code: "phase-not-started", message: "phase 1 of demo, which holds b, has not started", fix: "start it first: claude-parallel start 'demo'" }] });
  });

  it("refuses once the phase is synced, to skip or to undo", () => {
    for (const undo of [false, true]) expect(decideSkip(facts({ undo, phase: { synced: true } }))).toMatchObject({ refusals: [{ code: "phase-synced" }] });
  });

  it("records the reason and the time", () => {
    const d = decideSkip(facts());
    expect(d).toEqual({ actions: [{ kind: "skip", task: "b", reason: "nothing to do", at: NOW }] });
    expect(describeSkipAction((d as { actions: [never] }).actions[0], 1)).toBe("record b as skipped (nothing to do): the sync of phase 1 merges nothing of it");
  });

  it("undo takes a skipped task back, and says when there is nothing to undo", () => {
    const d = decideSkip(facts({ undo: true, phase: { synced: false, skipped: { reason: "x", at: NOW } } }));
    expect(d).toEqual({ actions: [{ kind: "unskip", task: "b" }] });
    expect(describeSkipAction({ kind: "unskip", task: "b" }, 1)).toBe("take b back into the sync of phase 1");
    const nothing = decideSkip(facts({ undo: true }));
    expect(nothing).toEqual({ actions: [{ kind: "say", text: "b is not skipped: the sync of phase 1 merges it." }] });
    expect(describeSkipAction({ kind: "say", text: "t" }, 1)).toBe("t");
  });
});
