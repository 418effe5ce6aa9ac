import { killStartSuite } from "./kill-start.js";

killStartSuite(3, 10);
