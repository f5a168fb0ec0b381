import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AgentEndpoint } from "../report/agent-endpoint.js";
import { autoAccess, canConnect, directAccess, type AgentAccess } from "./agent-access.js";

let server: Server;
let open: AgentEndpoint;
let closed: AgentEndpoint;

function endpoint(port: number): AgentEndpoint {
  return { url: `http://127.0.0.1:${port}`, pod: { namespace: "xander-system", name: "xander-agent-x7k2p" }, port };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ path: req.url, authorization: req.headers.authorization }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open = endpoint((server.address() as AddressInfo).port);
  // A port that was just free: nothing listens there.
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
  closed = endpoint((spare.address() as AddressInfo).port);
  await new Promise((resolve) => spare.close(resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("directAccess", () => {
  it("answers with the status and the parsed JSON", async () => {
    expect(await directAccess.get(open, "/api/v1/history/incidents", { authorization: "Bearer t" }, 5000)).toEqual({
      status: 200,
      body: { path: "/api/v1/history/incidents", authorization: "Bearer t" },
    });
  });

  it("says why there was no answer, not just that fetch failed", async () => {
    await expect(directAccess.get(closed, "/", {}, 5000)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("autoAccess", () => {
  function recording(name: string, calls: string[]): AgentAccess {
    return {
      get: (e) => {
        calls.push(`${name} ${e.url}`);
        return Promise.resolve({ status: 200, body: name });
      },
    };
  }

  it("goes direct where the pod IP answers and through the port-forward elsewhere, probing each endpoint once", async () => {
    const calls: string[] = [];
    const probed: string[] = [];
    const probe = (e: AgentEndpoint): Promise<boolean> => {
      probed.push(e.url);
      return canConnect(e);
    };
    const access = autoAccess(recording("direct", calls), recording("port-forward", calls), probe);
    for (let i = 0; i < 2; i++) {
      await access.get(open, "/", {}, 1000);
      await access.get(closed, "/", {}, 1000);
    }
    expect(calls).toEqual([`direct ${open.url}`, `port-forward ${closed.url}`, `direct ${open.url}`, `port-forward ${closed.url}`]);
    expect(probed).toEqual([open.url, closed.url]);
  });
});
