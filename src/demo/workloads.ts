/**
 * Argument vectors for the real workloads the demo and the integration tests run inside sandbox
 * cgroups. They use this Node binary, so they need nothing else installed.
 */

/** Allocates and touches memory in 1 MiB steps until `totalBytes` are held, then holds it. */
export function allocateArgv(totalBytes: number): string[] {
  const script = `const held=[];let n=0;const total=${Math.round(totalBytes)};` +
    `const step=()=>{for(let i=0;i<8&&n<total;i++){held.push(Buffer.alloc(1<<20,1));n+=1<<20;}` +
    `if(n<total)setImmediate(step);else setInterval(()=>held.length,1e6);};step();`;
  return [process.execPath, "-e", script];
}

/**
 * Allocates until the cgroup's own usage file reads `share` of `limitBytes`, then holds it: the
 * Node runtime's own footprint counts towards the limit, so a fixed size would miss the target.
 */
export function fillToShareArgv(usageFile: string, limitBytes: number, share: number): string[] {
  const script = `const fs=require("fs");const held=[];const goal=${Math.round(limitBytes * share)};` +
    `const step=()=>{const used=Number(fs.readFileSync(${JSON.stringify(usageFile)},"utf8").split("\\n")[0].split(" ").pop());` +
    `if(used<goal){held.push(Buffer.alloc(1<<20,1));setImmediate(step);}else setTimeout(step,200);};step();`;
  return [process.execPath, "-e", script];
}
