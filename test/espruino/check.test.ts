/**
 * The Espruino bundle's checks and rewrites (tools/espruino/), on small scripts: what check.ts
 * refuses and lets through (regular expressions Espruino's engine misreads among it) and hoist.ts's
 * order, which must not change what a script means.
 */
import test from 'ava';
import { checkEspruinoBundle, espruinoRegexProblem } from '../../tools/espruino/check.ts';
import { hoistForEspruino } from '../../tools/espruino/hoist.ts';

test('the check refuses what Espruino would not run and lets ES5 with the polyfilled statics through', (t) => {
  t.deepEqual(checkEspruinoBundle('var a = Number.isInteger(1) && Uint8Array.of(1) && Math.imul(2, 3) && Object.keys({});'), []);
  t.regex(checkEspruinoBundle('var f = (x) => x;')[0], /^not ES5/);
  t.regex(checkEspruinoBundle('var n = 2n;')[0], /^not ES5/);
  t.regex(checkEspruinoBundle('var m = new Map();')[0], /Map, which Espruino does not have/);
  t.regex(checkEspruinoBundle('var a = Array.from([1]);')[0], /Array\.from, which Espruino does not have/);
  t.regex(checkEspruinoBundle('var p = Math.pow(2, 32);')[0], /inexact/);
  t.regex(checkEspruinoBundle('x: for (;;) break x;')[0], /labelled statement/);
  t.regex(checkEspruinoBundle('var b = __awaiter();')[0], /helper the prelude does not define/);
  // A local of the same name is no global.
  t.deepEqual(checkEspruinoBundle('function f(Map) { return Map; }'), []);
  t.regex(checkEspruinoBundle('var r = /^a{1,3}$/;')[0], /counted quantifier/);
});

test('regular expressions: what Espruino’s engine misreads is named', (t) => {
  t.is(espruinoRegexProblem('^[A-Za-z0-9._-]+$'), undefined);
  t.is(espruinoRegexProblem('^[^\\s\\/:@\\[\\]]+$'), undefined);
  t.is(espruinoRegexProblem('^ab?c$'), 'the ? quantifier');
  t.is(espruinoRegexProblem('^(?:ab)$'), 'a (?...) group');
  t.is(espruinoRegexProblem('^[0-9a-f]{16}$'), 'a counted quantifier');
  t.is(espruinoRegexProblem('^(ab)+$'), 'a quantified group');
  t.is(espruinoRegexProblem('\\bword'), 'a word boundary');
  t.is(espruinoRegexProblem('^[^/]+$'), 'an unescaped / in a class');
});

test('hoisting puts every scope’s function declarations first, behind one var of its names', (t) => {
  const out = hoistForEspruino('var a = f(); function f() { var y = g(); return y; function g() { return 2; } } var b = a;');
  t.true(out.indexOf('function f') < out.indexOf('var a = f()'));
  t.true(out.indexOf('function g') < out.indexOf('var y = g()'));
  t.regex(out, /^var a,b;/);
  // The same meaning: run it.
  t.is(new Function(`${out}; return b;`)(), 2);
});
