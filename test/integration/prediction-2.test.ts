// Part 2 of 4 of the conflict-prediction check (see test/helpers/prediction.ts).
import { predictionScenarios } from "../helpers/prediction.js";

predictionScenarios(1);
