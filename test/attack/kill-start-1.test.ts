import { killStartSuite } from "./kill-start.js";

killStartSuite(1, 10);
