// Pure parts of the node fixture's teardown (test/cluster/node.ts): reading `iptables -S` rules back
// into the arguments that delete them.
import { splitRule } from "../cluster/node.js";

describe("node fixture: iptables rules", () => {
  test("a rule with a quoted comment splits into the arguments `iptables -D` takes", () => {
    const rule = '-A INPUT -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j KUBE-FIREWALL';
    expect(splitRule(rule)).toEqual(["-A", "INPUT", "-m", "comment", "--comment", "kubernetes firewall for dropping marked packets", "-m", "mark", "--mark", "0x8000/0x8000", "-j", "KUBE-FIREWALL"]);
  });

  test("escaped quotes inside a comment stay part of it", () => {
    expect(splitRule('-A X -m comment --comment "say \\"hi\\"" -j Y')).toEqual(["-A", "X", "-m", "comment", "--comment", 'say "hi"', "-j", "Y"]);
  });

  test("a DNAT rule without quotes splits on spaces", () => {
    expect(splitRule("-A XANDER-NODE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 192.0.2.2:6443")).toHaveLength(14);
  });
});
