import { killSyncSuite } from "./kill-sync.js";

killSyncSuite(2, 10);
