import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * The plugin as users install it (the layout of plugin/), built fresh from src/ by the tests'
 * global setup, so a test run after an edit tests the edit. The committed copy (plugin/) is
 * checked to equal a fresh build by `npm run build:check`, and run as it is by the launcher,
 * package and install tests.
 */
export const BUILD_DIR = `${REPO_ROOT}.cache/build/`;
export const PLUGIN_DIR = `${BUILD_DIR}plugin`;
export const HELPER = `${PLUGIN_DIR}/scripts/parallel.mjs`;
