import { main } from "./cli.js";

void main();
