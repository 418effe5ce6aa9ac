import { killSyncSuite } from "./kill-sync.js";

killSyncSuite(1, 10);
