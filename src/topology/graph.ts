import type { TopologySpec } from './load.js';

export type GraphFormat = 'mermaid' | 'dot';

interface Node {
  id: string;
  label: string;
  shape: 'source' | 'step' | 'resource';
}
interface Edge {
  from: string;
  to: string;
  label?: string;
  dashed?: boolean;
}

/** The stage graph of a topology: pipelines left to right, resources hanging off the steps that use them. */
export function renderGraph(spec: TopologySpec, format: GraphFormat): string {
  const { nodes, edges } = buildGraph(spec);
  return format === 'dot' ? toDot(spec.name, nodes, edges) : toMermaid(nodes, edges);
}

function buildGraph(spec: TopologySpec): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = spec.resources.map((r) => ({ id: `r_${r.name}`, label: `${r.name}\\n(${r.type})`, shape: 'resource' }));
  const edges: Edge[] = [];
  for (const p of spec.pipelines) {
    const sourceId = `${p.name}__${p.source.name}`;
    nodes.push({ id: sourceId, label: `${p.name}: ${p.source.name}\\n(${p.source.type})`, shape: 'source' });
    let previous = sourceId;
    let emits = p.source.declaration.emits;
    for (const step of p.steps) {
      const id = `${p.name}__${step.name}`;
      nodes.push({ id, label: `${step.name}\\n(${step.type})`, shape: 'step' });
      edges.push({ from: previous, to: id, label: emits });
      for (const ref of resourceNamesIn(step.config, spec)) edges.push({ from: id, to: `r_${ref}`, dashed: true });
      emits = step.declaration.emits === 'same' ? emits : step.declaration.emits;
      previous = id;
    }
  }
  if (spec.api.index) {
    nodes.push({ id: 'api', label: 'Prometheus HTTP API\\n/api/v1/series …', shape: 'source' });
    edges.push({ from: 'api', to: `r_${spec.api.index}`, dashed: true });
  }
  return { nodes, edges };
}

/** Resource names a step's config mentions (string values equal to a declared resource's name). */
function resourceNamesIn(config: unknown, spec: TopologySpec): string[] {
  const names = new Set(spec.resources.map((r) => r.name));
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string' && names.has(v)) found.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(config);
  return [...found];
}

function toMermaid(nodes: Node[], edges: Edge[]): string {
  const shape = (n: Node) => {
    const text = `"${n.label.replace(/\\n/g, '<br/>').replace(/"/g, '#quot;')}"`;
    return n.shape === 'source' ? `${n.id}([${text}])` : n.shape === 'resource' ? `${n.id}[(${text})]` : `${n.id}[${text}]`;
  };
  const lines = ['flowchart LR', ...nodes.map((n) => `  ${shape(n)}`)];
  for (const e of edges) lines.push(`  ${e.from} ${e.dashed ? '-.->' : e.label ? `-- ${e.label} -->` : '-->'} ${e.to}`);
  return `${lines.join('\n')}\n`;
}

function toDot(name: string, nodes: Node[], edges: Edge[]): string {
  const shape = { source: 'oval', step: 'box', resource: 'cylinder' } as const;
  const lines = [`digraph "${name}" {`, '  rankdir=LR;'];
  for (const n of nodes) lines.push(`  "${n.id}" [label="${n.label.replace(/"/g, '\\"')}", shape=${shape[n.shape]}];`);
  for (const e of edges) {
    const attrs = [e.label ? `label="${e.label}"` : '', e.dashed ? 'style=dashed' : ''].filter(Boolean).join(', ');
    lines.push(`  "${e.from}" -> "${e.to}"${attrs ? ` [${attrs}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
