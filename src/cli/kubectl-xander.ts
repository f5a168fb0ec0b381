#!/usr/bin/env node
/** `kubectl xander …`: kubectl runs the `kubectl-xander` executable it finds on PATH with the remaining arguments. */
import { run } from "./program.js";

run("kubectl xander", process.argv);
