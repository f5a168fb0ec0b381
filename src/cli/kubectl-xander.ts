#!/usr/bin/env node
/** `kubectl xander …`: kubectl runs the `kubectl-xander` executable it finds on PATH with the remaining arguments. */
import { buildProgram, run } from "./program.js";

run(buildProgram("kubectl xander"), process.argv);
