import type { IncomingMessage } from "node:http";
import { hostAllowed } from "./dashboard.js";

const req = (host?: string): Pick<IncomingMessage, "headers"> => ({ headers: host === undefined ? {} : { host } });

describe("xander dashboard's Host check", () => {
  it("answers requests addressed to it by a loopback name or the bound address", () => {
    for (const host of ["127.0.0.1:7080", "localhost:7080", "[::1]:7080"]) expect([host, hostAllowed(req(host), "127.0.0.1", 7080)]).toEqual([host, true]);
    expect(hostAllowed(req("10.1.2.3:7080"), "10.1.2.3", 7080)).toBe(true);
  });

  it("refuses a page elsewhere that reaches it through a name rebound to 127.0.0.1", () => {
    expect(hostAllowed(req("attacker.example:7080"), "127.0.0.1", 7080)).toBe(false);
    expect(hostAllowed(req("localhost:7081"), "127.0.0.1", 7080)).toBe(false);
    expect(hostAllowed(req(), "127.0.0.1", 7080)).toBe(false);
  });
});
