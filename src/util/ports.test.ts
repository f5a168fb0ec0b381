import { createServer } from "node:net";
import { freePort, freePorts } from "./ports.js";

function listenOn(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => server.close(() => { resolve(); }));
  });
}

describe("freePorts", () => {
  it("hands out distinct ports that can be listened on", async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) await listenOn(port);
  });

  it("gives one port on its own", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await listenOn(port);
  });
});
