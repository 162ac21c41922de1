/**
 * Makes an ES5 script safe for Espruino, which does not hoist: in the program and in every function
 * body, the function declarations move to the top (in their order) behind one `var` of every name
 * the scope declares with `var`. That is what a JavaScript engine does before it runs a scope, so
 * the script means what it meant; on Espruino it now also runs when a top-level statement calls a
 * function declared further down, or reads a `var` before its declaration ran.
 */
import { parse, type Node } from 'acorn';
import { simple } from 'acorn-walk';

interface Scope {
  /** The statements' container: the Program, or a function's body block. */
  body: Node & { body: Node[] };
  /** Names a `var` of this scope declares (params and function names excluded). */
  vars: string[];
}

type AnyNode = Node & Record<string, any>;

/** `var` names of a function scope: its own statements', not those of nested functions. */
function scopeVars(body: AnyNode, excluded: Set<string>): string[] {
  const names: string[] = [];
  const visit = (node: AnyNode | null | undefined): void => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression') return;
    // ES5 has no destructuring: every declarator's id is an Identifier.
    if (node.type === 'VariableDeclaration') for (const d of node.declarations) names.push(d.id.name);
    for (const key of Object.keys(node)) {
      if (key === 'type' || key === 'start' || key === 'end') continue;
      const child = node[key];
      if (Array.isArray(child)) child.forEach((c) => visit(c));
      else if (child && typeof child.type === 'string') visit(child);
    }
  };
  for (const statement of body.body) visit(statement);
  return [...new Set(names)].filter((n) => !excluded.has(n));
}

export function hoistForEspruino(source: string): string {
  const program = parse(source, { ecmaVersion: 5, sourceType: 'script' }) as AnyNode;
  const scopes: Scope[] = [{ body: program as Scope['body'], vars: scopeVars(program, new Set()) }];
  simple(program, {
    Function(node: AnyNode) {
      // A `var` of a parameter's name would be harmless in JavaScript; it is left out all the same.
      const excluded = new Set<string>(['arguments', ...node.params.map((p: AnyNode) => p.name)]);
      for (const s of node.body.body) if (s.type === 'FunctionDeclaration') excluded.add(s.id.name);
      scopes.push({ body: node.body, vars: scopeVars(node.body, excluded) });
    },
  });
  const top = scopes[0];
  const topFunctions = new Set(top.body.body.filter((s) => s.type === 'FunctionDeclaration').map((s) => (s as AnyNode).id.name));
  top.vars = top.vars.filter((n) => !topFunctions.has(n));
  const byStart = new Map(scopes.map((s) => [s.body.start, s]));
  const ordered = scopes.map((s) => s.body).sort((a, b) => a.start - b.start);

  /** The text of [start, end) with every scope body inside it rewritten. */
  const emit = (start: number, end: number): string => {
    let out = '';
    let at = start;
    for (const body of ordered) {
      if (body.start < at || body.end > end || (body.start === start && body.end === end)) continue;
      out += source.slice(at, body.start) + rewrite(byStart.get(body.start)!);
      at = body.end;
    }
    return out + source.slice(at, end);
  };

  const rewrite = (scope: Scope): string => {
    const statements = scope.body.body as AnyNode[];
    const isProgram = scope.body.type === 'Program';
    const directives: AnyNode[] = [];
    let i = 0;
    while (i < statements.length && statements[i].type === 'ExpressionStatement' && statements[i].directive !== undefined)
      directives.push(statements[i++]);
    const rest = statements.slice(i);
    const parts = directives.map((d) => source.slice(d.start, d.end));
    if (scope.vars.length > 0) parts.push(`var ${scope.vars.join(',')};`);
    for (const s of rest) if (s.type === 'FunctionDeclaration') parts.push(emit(s.start, s.end));
    for (const s of rest) if (s.type !== 'FunctionDeclaration') parts.push(emit(s.start, s.end));
    const inner = parts.join('\n');
    return isProgram ? inner + '\n' : `{\n${inner}\n}`;
  };

  return rewrite(top);
}
