import { isIP } from "node:net";
import fc from "fast-check";
import { fuzzInput, fuzzRuns } from "../../test/fuzz.js";
import { parseLocalAddresses } from "./local-addresses.js";

// /proc/1/net/fib_trie of a node running a CNI bridge (10.244.7.1) on 192.0.2.2.
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 0.0.0.0/4 2 0 2
        |-- 0.0.0.0
           /0 universe UNICAST
        +-- 10.244.7.0/24 2 0 2
           +-- 10.244.7.0/31 1 0 0
              |-- 10.244.7.0
                 /24 link UNICAST
              |-- 10.244.7.1
                 /32 host LOCAL
           |-- 10.244.7.255
              /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 0.0.0.0/4 2 0 2
        +-- 10.244.7.0/24 2 0 2
              |-- 10.244.7.1
                 /32 host LOCAL
`;

describe("local addresses from fib_trie", () => {
  it("lists the addresses with a /32 host LOCAL route, not networks or broadcasts", () => {
    expect(parseLocalAddresses(FIB_TRIE)).toEqual(["10.244.7.1", "127.0.0.1", "192.0.2.2"]);
  });

  it("finds nothing in an empty or foreign text", () => {
    expect(parseLocalAddresses("")).toEqual([]);
    expect(parseLocalAddresses("|-- not-an-ip\n /32 host LOCAL\n")).toEqual([]);
  });

  it("fuzzed: never throws, and lists only distinct, real IPv4 addresses", () => {
    const leaf = fc.tuple(fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }), fc.constantFrom("/32 host LOCAL", "/24 link UNICAST", "/32 link BROADCAST"))
      .map(([ip, route]) => `        |-- ${ip.join(".")}\n           ${route}`);
    const valid = fc.array(leaf, { maxLength: 8 }).map((leaves) => `Main:\n  +-- 0.0.0.0/0 3 0 5\n${leaves.join("\n")}\n`);
    fc.assert(
      fc.property(fuzzInput(fc.oneof(valid, fc.constant(FIB_TRIE))), (text) => {
        const found = parseLocalAddresses(text);
        return found.every((a) => isIP(a) === 4) && new Set(found).size === found.length;
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it("a leaf that is not an IPv4 address (an octet over 255) is not listed", () => {
    expect(parseLocalAddresses("|-- 999.0.0.1\n   /32 host LOCAL\n|-- 10.0.0.1\n   /32 host LOCAL\n")).toEqual(["10.0.0.1"]);
  });
});
