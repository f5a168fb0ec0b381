#!/usr/bin/env node
import { buildProgram, run } from "./program.js";

run(buildProgram("xander"), process.argv);
