import { killCleanSuite } from "./kill-clean.js";

killCleanSuite(1, 8);
