import { killFinishSuite } from "./kill-finish.js";

// Base checked out in a clean worktree of the user's: a real merge there.
killFinishSuite(2, 6, true);
