import { describe, expect, it } from "vitest";
import { runArgv } from "../../src/run/detach.js";

describe("runArgv (run --detach's command line)", () => {
  it("carries --pr with --no-watch and --watch-rounds, so the detached run follows the pull request as asked", () => {
    const base = { attempts: 3, stopSessions: false, json: false, detach: true };
    expect(runArgv("s", { ...base, finishMode: "pr", noWatch: true, watchRounds: 5 })).toEqual(["run", "s", "--attempts", "3", "--pr", "--no-watch", "--watch-rounds", "5", "--json"]);
    expect(runArgv("s", { ...base, finishMode: "pr" })).toEqual(["run", "s", "--attempts", "3", "--pr", "--json"]);
  });
});
