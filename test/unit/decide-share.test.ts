import { describe, expect, it } from "vitest";
import { decidePullRefs, decidePullState, decidePush, describePushAction, type RefFacts, type StateFacts } from "../../src/core/decide/decide-share.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const ref = "refs/heads/feature/x";
const fact = (f: Partial<RefFacts>): RefFacts => ({ ref, remoteInLocal: false, localInRemote: false, ...f });

describe("decidePush", () => {
  it("skips a ref that is the same there, or missing here (never deletes on the remote)", () => {
    const d = decidePush([fact({ local: A, remote: A }), fact({ remote: A })], "origin", "x", A);
    expect(d).toEqual({ actions: [{ kind: "say", text: `origin already has x's state and refs (refs/parallel/x/state at ${A.slice(0, 12)}).` }] });
  });
  it("creates a ref the remote lacks, with a lease that it must not exist", () => {
    const d = decidePush([fact({ local: A })], "origin", "x", A);
    expect(d).toEqual({ actions: [{ kind: "push", update: { ref, to: A } }] });
    expect(describePushAction((d as { actions: [never] }).actions[0])).toBe(`push ${ref}: new at ${A.slice(0, 12)}`);
  });
  it("moves a ref forward with a lease on exactly the remote's commit", () => {
    const d = decidePush([fact({ local: B, remote: A, remoteInLocal: true })], "origin", "x", A);
    expect(d).toEqual({ actions: [{ kind: "push", update: { ref, expect: A, to: B } }] });
    expect(describePushAction((d as { actions: [never] }).actions[0])).toBe(`push ${ref}: ${A.slice(0, 12)} -> ${B.slice(0, 12)}`);
  });
  it("refuses, pushing nothing, when the remote holds commits this clone does not (moved, or diverged)", () => {
    const d = decidePush([fact({ ref: "refs/heads/other", local: A }), fact({ local: B, remote: A }), fact({ local: A, remote: B, localInRemote: true })], "origin", "x", A);
    expect(d).toMatchObject({
      refusals: [
        { code: "remote-ahead", message: expect.stringContaining(`${ref} on origin`) },
        { code: "remote-ahead", message: expect.stringContaining("holds commits") },
      ],
    });
    expect("actions" in d).toBe(false);
  });
});

describe("decidePullRefs", () => {
  it("creates what is missing here and fast-forwards what is behind", () => {
    expect(decidePullRefs([fact({ remote: A }), fact({ ref: "refs/heads/y", local: A, remote: B, localInRemote: true })], "origin")).toEqual({
      updates: [
        { ref, to: A },
        { ref: "refs/heads/y", from: A, to: B },
      ],
      kept: [],
    });
  });
  it("leaves alone (and says) a ref that is ahead, diverged, or checked out", () => {
    const d = decidePullRefs([fact({ local: B, remote: A, remoteInLocal: true }), fact({ local: B, remote: A }), fact({ local: A, remote: B, localInRemote: true, checkedOutIn: "/w" })], "origin");
    expect(d.updates).toEqual([]);
    expect(d.kept).toEqual([expect.stringContaining("ahead"), expect.stringContaining("kept yours"), expect.stringContaining("checked out in /w")]);
  });
  it("ignores refs the remote does not have, or has at the same commit", () => {
    expect(decidePullRefs([fact({ local: A }), fact({ local: A, remote: A })], "origin")).toEqual({ updates: [], kept: [] });
  });
});

describe("decidePullState", () => {
  const base: StateFacts = { hasLocalState: true, localMatchesLast: true, localMatchesRemote: false, lastInRemote: true, remoteInLast: false, last: A, remote: B };
  const kind = (f: Partial<StateFacts>) => decidePullState({ ...base, ...f }, "origin", "x").kind;
  it("keeps the local state when the remote has none", () => expect(kind({ remote: undefined })).toBe("keep"));
  it("adopts the remote's when this clone has none", () => expect(kind({ hasLocalState: false, last: undefined })).toBe("adopt"));
  it("adopts a newer remote state when this clone did not change its own since", () => expect(kind({})).toBe("adopt"));
  it("keeps its own when nothing is new there", () => expect(kind({ remote: A, localMatchesLast: false })).toBe("keep"));
  it("keeps its own when it is ahead", () => expect(kind({ remoteInLast: true, lastInRemote: false, localMatchesLast: false })).toBe("keep"));
  it("refuses when both changed since they last matched", () => expect(kind({ localMatchesLast: false })).toBe("refuse"));
  it("refuses two separate starts of one slug", () => expect(kind({ last: undefined, lastInRemote: false })).toBe("refuse"));
  it("takes an identical state as it is", () => expect(kind({ last: undefined, localMatchesRemote: true, lastInRemote: false })).toBe("adopt"));
});
