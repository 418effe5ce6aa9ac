import { killSyncSuite } from "./kill-sync.js";

killSyncSuite(3, 10);
