// Run before every test file (vitest's setupFiles), also where test files share one module graph.
import { afterAll } from "vitest";
import { removeTempDirs } from "./tmp.js";

afterAll(removeTempDirs);
