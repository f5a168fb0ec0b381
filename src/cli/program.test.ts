import { Command } from "commander";
import { COMMAND_MODULES, buildProgram, requestedCommand } from "./program.js";

describe("the command tree", () => {
  test("each module registers exactly the names the table gives it, so choosing a module needs no module", async () => {
    for (const module of COMMAND_MODULES) {
      const program = new Command();
      (await module.load())(program);
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...module.names].sort());
    }
  });

  test("a command builds only its own module; help and unknown words build the whole tree", async () => {
    const names = async (...args: string[]) => (await buildProgram("xander", ["node", "xander", ...args])).commands.map((c) => c.name());
    expect(await names("scan", "--duration", "5s")).toEqual(["scan"]);
    expect(await names("top", "-n", "shop")).toEqual(["summary", "top", "incidents", "pod"]);
    expect(await names("help", "report")).toEqual(["report"]);
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    expect(await names()).toEqual(all);
    expect(await names("--help")).toEqual(all);
    expect(await names("frobnicate")).toEqual(all);
  });

  test("the requested command is the first word that is not an option", () => {
    expect(requestedCommand(["node", "xander", "--help"])).toBeUndefined();
    expect(requestedCommand(["node", "xander", "pod", "shop/api-1", "-o", "json"])).toBe("pod");
    expect(requestedCommand(["node", "xander", "help"])).toBeUndefined();
  });
});
