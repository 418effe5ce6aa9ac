declare const __VERSION__: string;

/** The package's version, set by the bundle (build.mjs); `dev` when the sources run unbundled (tests). */
export const VERSION = typeof __VERSION__ === "string" ? __VERSION__ : "dev";
