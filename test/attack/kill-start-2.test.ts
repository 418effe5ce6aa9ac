import { killStartSuite } from "./kill-start.js";

killStartSuite(2, 10);
