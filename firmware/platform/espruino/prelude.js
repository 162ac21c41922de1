/*
 * Prelude of the meterveil Espruino bundle (tools/espruino/build.ts puts it before the compiled
 * firmware): ES5 only, every name defined before its first use, since Espruino does not hoist.
 */
/* eslint-disable @typescript-eslint/no-unused-vars, @typescript-eslint/no-require-imports, no-undef -- ES5 for Espruino: the helpers are used by the compiled code after this file, `require` is Espruino's */

/*
 * Espruino's module loader, called here so that the bundler does not take it for an import. MQTT
 * is named as a literal: the espruino CLI and the Web IDE upload the modules a script requires so.
 */
var espruinoModule = function (name) {
  if (name === 'MQTT') return require('MQTT');
  return require(name);
};

/* What the shared TypeScript uses and Espruino 2v29 lacks (tools/espruino/builtins.ts: POLYFILLED). */
if (!Number.isFinite)
  Number.isFinite = function (v) {
    return typeof v === 'number' && isFinite(v);
  };
if (!Number.isInteger)
  Number.isInteger = function (v) {
    return typeof v === 'number' && isFinite(v) && Math.floor(v) === v;
  };
if (!Number.MAX_SAFE_INTEGER) Number.MAX_SAFE_INTEGER = 9007199254740991;
if (!Number.isSafeInteger)
  Number.isSafeInteger = function (v) {
    return Number.isInteger(v) && v <= 9007199254740991 && v >= -9007199254740991;
  };
if (!Math.imul)
  Math.imul = function (a, b) {
    var low = (a & 0xffff) * (b & 0xffff);
    var high = ((((a >>> 16) & 0xffff) * (b & 0xffff) + (a & 0xffff) * ((b >>> 16) & 0xffff)) << 16) >>> 0;
    return (low + high) | 0;
  };
if (!Uint8Array.of)
  Uint8Array.of = function () {
    var out = new Uint8Array(arguments.length);
    for (var i = 0; i < arguments.length; i++) out[i] = arguments[i];
    return out;
  };

/*
 * The helpers TypeScript's ES5 output calls (compiled with noEmitHelpers): plain loops, with no
 * Symbol, no Array.prototype.slice on typed arrays and no __proto__.
 */
var __extends = function (derived, base) {
  Object.setPrototypeOf(derived, base);
  derived.prototype = Object.create(base.prototype);
  derived.prototype.constructor = derived;
};
var __assign = function (target) {
  for (var i = 1; i < arguments.length; i++) {
    var source = arguments[i];
    for (var key in source) if (Object.prototype.hasOwnProperty.call(source, key)) target[key] = source[key];
  }
  return target;
};
var __spreadArray = function (to, from) {
  for (var i = 0; i < from.length; i++) to.push(from[i]);
  return to;
};
var __rest = function (source, excluded) {
  var out = {};
  for (var key in source) if (Object.prototype.hasOwnProperty.call(source, key) && excluded.indexOf(key) < 0) out[key] = source[key];
  return out;
};
