import { describe, expect, it } from "vitest";
import { decideSandbox, SANDBOX_PLACEHOLDERS, sandboxIgnoreText, sandboxSettings } from "../../src/session/sandbox.js";

describe("decideSandbox: whether the sessions we launch get Claude Code's Bash sandbox", () => {
  const linux = { platform: "linux" as const, missing: [] };
  const bare = { platform: "linux" as const, missing: ["bwrap", "socat"] };
  const mac = { platform: "darwin" as const, missing: [] };

  it("auto (the default) and on use it where it runs; off never", () => {
    for (const mode of [undefined, "auto", "on"] as const) expect(decideSandbox(mode, linux), mode).toEqual({ use: true });
    for (const host of [linux, bare, mac]) expect(decideSandbox("off", host)).toEqual({ use: false });
  });

  it("on Linux without bubblewrap or socat: on refuses, naming what to install; auto says once what is not confined", () => {
    expect(decideSandbox("on", bare)).toEqual({
      refuse: "the plan asks for Claude Code's sandbox (sandbox: on), which needs bubblewrap (bwrap) and socat, not installed here",
      fix: "install bubblewrap and socat (apt-get install bubblewrap socat), or write `sandbox: auto` or `sandbox: off` in the plan",
    });
    expect(decideSandbox("on", { platform: "linux", missing: ["socat"] })).toMatchObject({ refuse: expect.stringContaining("which needs socat, not installed") });
    const auto = decideSandbox(undefined, bare);
    expect(auto).toMatchObject({ use: false, note: expect.stringContaining("the sessions' Bash commands can write outside their worktrees") });
  });

  it("elsewhere (not checked there): only when the plan says on; Claude Code then refuses a session it cannot confine", () => {
    expect(decideSandbox("on", mac)).toEqual({ use: true });
    expect(decideSandbox("auto", mac)).toMatchObject({ use: false, note: expect.stringContaining("not checked on darwin") });
  });
});

describe("sandboxSettings", () => {
  it("enables the sandbox, requires it, forbids commands outside it, and denies what it is given; it grants nothing", () => {
    const s = sandboxSettings(
      { stateFolder: "/r/.git/parallel", rules: "/r/.git/worktrees/a/rules.json", worktrees: ["/w/b"], refs: ["/r/.git/refs/heads/main"], repositoryFiles: ["/r/.git/packed-refs"] },
      "/r/.git/parallel/x/sandbox/gitignore",
    );
    expect(s).toEqual({
      env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.excludesFile", GIT_CONFIG_VALUE_0: "/r/.git/parallel/x/sandbox/gitignore" },
      sandbox: {
        enabled: true,
        failIfUnavailable: true,
        allowUnsandboxedCommands: false,
        filesystem: { denyWrite: ["/r/.git/parallel", "/r/.git/worktrees/a/rules.json", "/w/b", "/r/.git/refs/heads/main", "/r/.git/packed-refs"] },
      },
    });
    expect(JSON.stringify(s)).not.toMatch(/autoAllow|allowWrite|allowedDomains|permissions/);
  });

  it("has the sessions' git ignore the sandbox's placeholders at the worktree's root, then the user's own patterns", () => {
    const text = sandboxIgnoreText("*.swp\n.DS_Store\n");
    const lines = text.split("\n");
    expect(lines).toContain("/.bashrc");
    expect(lines).toContain("/.claude/commands");
    expect(lines).not.toContain("/.claude/");
    expect(lines.filter((l) => l.startsWith("/"))).toHaveLength(SANDBOX_PLACEHOLDERS.length);
    expect(text.endsWith("*.swp\n.DS_Store\n")).toBe(true);
    expect(sandboxIgnoreText(undefined)).not.toContain("core.excludesFile");
  });
});
