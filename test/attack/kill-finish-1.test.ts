import { killFinishSuite } from "./kill-finish.js";

killFinishSuite(1, 6, false);
