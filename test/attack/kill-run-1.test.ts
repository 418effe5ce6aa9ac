import { killRunSuite } from "./kill-run.js";

killRunSuite(1, 8);
