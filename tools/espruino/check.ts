/**
 * What the Espruino bundle must be, checked on its final text: ES5 that acorn parses with
 * `ecmaVersion: 5` (no BigInt, classes, arrows, destructuring, spread, `**`, async, generators,
 * template literals, let or const survive that), no labelled statement (Espruino has none), no
 * global Espruino lacks (Map, Set, Symbol...), no static member outside Espruino's list
 * (builtins.ts: Number.isInteger is polyfilled, Array.from is not there), no Math.pow, and no
 * TypeScript helper the prelude does not define, and no regular expression Espruino's engine
 * would misread (espruinoRegexProblem). Returns the problems, each with its place.
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

/**
 * What Espruino 2v29's regular expressions lack, as tried on its Linux build: `?` (optional or
 * lazy), counted quantifiers, (?:...) and lookarounds, a quantifier on a group, word boundaries,
 * back references; and its lexer ends a literal at an unescaped `/` even inside a class.
 * Classes, `.`, `*`, `+` on one atom, plain groups with `|`, `^`, `$` and the i flag work.
 */
export function espruinoRegexProblem(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (!inClass && (next === 'b' || next === 'B')) return 'a word boundary';
      if (!inClass && next >= '1' && next <= '9') return 'a back reference';
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '/') return 'an unescaped / in a class';
    } else if (c === '[') inClass = true;
    else if (c === '?') return pattern[i - 1] === '(' ? 'a (?...) group' : 'the ? quantifier';
    else if (c === '{') return 'a counted quantifier';
    else if ((c === '*' || c === '+') && pattern[i - 1] === ')') return 'a quantified group';
  }
  return undefined;
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
    Literal(node: AnyNode) {
      const problem = node.regex ? espruinoRegexProblem(node.regex.pattern) : undefined;
      if (problem)
        problems.push(`${at(node)}: /${node.regex.pattern}/ has ${problem}, which Espruino's regular expressions do not support`);
    },
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
