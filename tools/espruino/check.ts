/**
 * What the Espruino bundle must be, checked on its final text: ES5 that acorn parses with
 * `ecmaVersion: 5` (no BigInt, classes, arrows, destructuring, spread, `**`, async, generators,
 * template literals, let or const survive that), no labelled statement (Espruino has none), no
 * global Espruino lacks (Map, Set, Symbol...), no static member outside Espruino's list
 * (builtins.ts: Number.isInteger is polyfilled, Array.from is not there), no Math.pow, and no
 * TypeScript helper the prelude does not define. Returns the problems, each with its place.
 */
import { parse, type Node } from 'acorn';
import { ancestor } from 'acorn-walk';
import { AVOIDED, ESPRUINO_MISSING_GLOBALS, ESPRUINO_STATICS, POLYFILLED } from './builtins.ts';

type AnyNode = Node & Record<string, any>;

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** Whether an Identifier node is a reference (not a property name, a declaration or a label). */
function isReference(node: AnyNode, parent: AnyNode | undefined): boolean {
  if (!parent) return true;
  if (parent.type === 'MemberExpression' && parent.property === node && !parent.computed) return false;
  if (parent.type === 'Property' && parent.key === node && !parent.computed) return false;
  return true;
}

export function checkEspruinoBundle(source: string): string[] {
  let program: AnyNode;
  try {
    program = parse(source, { ecmaVersion: 5, sourceType: 'script', locations: true }) as AnyNode;
  } catch (error) {
    return [`not ES5: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const at = (node: AnyNode) => `line ${lineOf(source, node.start)}`;
  const declared = new Set<string>();
  ancestor(program, {
    VariableDeclarator(node: AnyNode) {
      declared.add(node.id.name);
    },
    Function(node: AnyNode) {
      if (node.id) declared.add(node.id.name);
      for (const p of node.params) declared.add(p.name);
    },
    CatchClause(node: AnyNode) {
      if (node.param) declared.add(node.param.name);
    },
  });
  const missing = new Set<string>(ESPRUINO_MISSING_GLOBALS);
  ancestor(program, {
    LabeledStatement(node: AnyNode) {
      problems.push(`${at(node)}: a labelled statement (${node.label.name}:), which Espruino does not support`);
    },
    Identifier(node: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      const parent = ancestors[ancestors.length - 2];
      if (!isReference(node, parent) || declared.has(node.name)) return;
      if (missing.has(node.name)) problems.push(`${at(node)}: ${node.name}, which Espruino does not have`);
      else if (/^__[A-Za-z]+$/.test(node.name)) problems.push(`${at(node)}: ${node.name}, a helper the prelude does not define`);
    },
    MemberExpression(node: AnyNode) {
      const object = node.object;
      if (object.type !== 'Identifier' || node.computed || declared.has(object.name)) return;
      const statics = ESPRUINO_STATICS[object.name];
      if (!statics) return;
      const name = node.property.name;
      if ((AVOIDED[object.name] ?? []).includes(name)) problems.push(`${at(node)}: ${object.name}.${name}, inexact on Espruino`);
      else if (!statics.includes(name) && !(POLYFILLED[object.name] ?? []).includes(name))
        problems.push(`${at(node)}: ${object.name}.${name}, which Espruino does not have`);
    },
  });
  return problems;
}
