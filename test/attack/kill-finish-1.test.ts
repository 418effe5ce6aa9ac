import { killFinishSuite } from "./kill-finish.js";

killFinishSuite(1, 10, false);
