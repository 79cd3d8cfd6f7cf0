/*
 * The browser's evaluator of intake expressions.
 *
 * It reads the JSON AST made by Expression.to_json() on the server (never
 * source text), so nothing here parses or evaluates code: no eval, no
 * Function, safe under a strict Content-Security-Policy. It follows the null
 * rules written in intake/expressions/__init__.py; the shared vectors in
 * tests/expressions/vectors.json hold both evaluators to the same answers.
 *
 *   IntakeExpr.evaluate(ast, answers, today, selfValue)
 *     answers: {fieldName: value}; dates are 'YYYY-MM-DD' strings,
 *     multi-selects arrays of choice names, repeats arrays of row objects.
 *     today: 'YYYY-MM-DD'. Dates in the result come back as 'YYYY-MM-DD'.
 */
(function (root) {
  'use strict';

  var ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
  var MS_PER_DAY = 86400000;
  // Python's date type stops at years 1 and 9999; so do we.

  function DateValue(days) {
    this.days = days;
  }

  // Date.UTC() would read years 0-99 as 1900-1999; setUTCFullYear() does not.
  function utcDays(year, month, day) {
    var when = new Date(0);
    when.setUTCFullYear(year, month - 1, day);
    when.setUTCHours(0, 0, 0, 0);
    return when.getTime() / MS_PER_DAY;
  }

  var FIRST_DAY = utcDays(1, 1, 1);
  var LAST_DAY = utcDays(9999, 12, 31);

  function parseDate(text) {
    if (typeof text !== 'string') return null;
    var match = ISO_DATE.exec(text);
    if (!match) return null;
    var year = +match[1], month = +match[2], day = +match[3];
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31) return null;
    var days = utcDays(year, month, day);
    var back = new Date(days * MS_PER_DAY);
    if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return null;
    return new DateValue(days);
  }

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) text = '0' + text;
    return text;
  }

  function dateParts(value) {
    var when = new Date(value.days * MS_PER_DAY);
    return [when.getUTCFullYear(), when.getUTCMonth() + 1, when.getUTCDate()];
  }

  function formatDate(value) {
    var parts = dateParts(value);
    return pad(parts[0], 4) + '-' + pad(parts[1], 2) + '-' + pad(parts[2], 2);
  }

  function shiftDate(value, days) {
    var moved = value.days + Math.floor(days);
    return moved < FIRST_DAY || moved > LAST_DAY ? null : new DateValue(moved);
  }

  function kindOf(value) {
    if (value === null || value === undefined) return 'null';
    if (value instanceof DateValue) return 'date';
    if (Array.isArray(value)) return 'list';
    if (typeof value === 'boolean') return 'boolean';
    if (typeof value === 'number') return 'number';
    if (typeof value === 'string') return 'text';
    return 'other';
  }

  function normalise(value, type) {
    if (value === undefined || value === null || value === '') return null;
    if (type === 'date') return value instanceof DateValue ? value : parseDate(value);
    return value;
  }

  function equal(left, right) {
    var kind = kindOf(left);
    if (kind !== kindOf(right)) return false;
    if (kind === 'date') return left.days === right.days;
    if (kind === 'list') {
      if (left.length !== right.length) return false;
      for (var i = 0; i < left.length; i += 1) {
        if (!equal(left[i], right[i])) return false;
      }
      return true;
    }
    return left === right;
  }

  function ordered(op, left, right) {
    var kind = kindOf(left);
    if ((kind !== 'number' && kind !== 'date') || kind !== kindOf(right)) return false;
    var a = kind === 'date' ? left.days : left;
    var b = kind === 'date' ? right.days : right;
    if (op === '<') return a < b;
    if (op === '<=') return a <= b;
    if (op === '>') return a > b;
    return a >= b;
  }

  function selected(choices, choice) {
    return Array.isArray(choices) && typeof choice === 'string' && choices.indexOf(choice) >= 0;
  }

  function arithmetic(op, left, right) {
    var kinds = kindOf(left) + ',' + kindOf(right);
    if (kinds === 'number,number') {
      if (op === '+') return left + right;
      if (op === '-') return left - right;
      if (op === '*') return left * right;
      return right === 0 ? null : left / right;
    }
    if (kinds === 'date,number' && op === '+') return shiftDate(left, right);
    if (kinds === 'date,number' && op === '-') return shiftDate(left, -Math.floor(right));
    if (kinds === 'number,date' && op === '+') return shiftDate(right, left);
    if (kinds === 'date,date' && op === '-') return left.days - right.days;
    return null;
  }

  function age(born, today) {
    if (!(born instanceof DateValue)) return null;
    var b = dateParts(born), t = dateParts(today);
    var notYet = t[1] < b[1] || (t[1] === b[1] && t[2] < b[2]);
    return t[0] - b[0] - (notYet ? 1 : 0);
  }

  var FUNCTIONS = {
    today: function (args, context) { return context.today; },
    age: function (args, context) { return age(args[0], context.today); },
    count: function (args) { return Array.isArray(args[0]) ? args[0].length : 0; },
    // Count characters, not UTF-16 units, as Python's len() does.
    len: function (args) { return typeof args[0] === 'string' ? Array.from(args[0]).length : 0; },
    selected: function (args) { return selected(args[0], args[1]); },
    contains: function (args) {
      return typeof args[0] === 'string' && typeof args[1] === 'string' &&
        args[0].indexOf(args[1]) >= 0;
    },
    date: function (args) {
      return args[0] instanceof DateValue ? args[0] : parseDate(args[0]);
    }
  };

  function value(node, context) {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'ref':
        return normalise(
          Object.prototype.hasOwnProperty.call(context.answers, node.name)
            ? context.answers[node.name] : null,
          node.type);
      case 'self':
        return normalise(context.selfValue, node.type);
      case 'unary':
        return unary(node, context);
      case 'binary':
        return binary(node, context);
      case 'call':
        return call(node, context);
      default:
        throw new Error('unknown expression node: ' + node.kind);
    }
  }

  function unary(node, context) {
    var operand = value(node.operand, context);
    if (node.op === 'not') return operand !== true;
    return typeof operand === 'number' ? -operand : null;
  }

  function binary(node, context) {
    var op = node.op;
    if (op === 'and') return value(node.left, context) === true && value(node.right, context) === true;
    if (op === 'or') return value(node.left, context) === true || value(node.right, context) === true;
    var left = value(node.left, context), right = value(node.right, context);
    if (op === '=') return equal(left, right);
    if (op === '!=') return !equal(left, right);
    if (op === 'in') return selected(right, left);
    if (op === '<' || op === '<=' || op === '>' || op === '>=') return ordered(op, left, right);
    return arithmetic(op, left, right);
  }

  function call(node, context) {
    var args = node.args;
    if (node.fn === 'if') {
      return value(value(args[0], context) === true ? args[1] : args[2], context);
    }
    if (node.fn === 'coalesce') {
      for (var i = 0; i < args.length; i += 1) {
        var found = value(args[i], context);
        if (found !== null) return found;
      }
      return null;
    }
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, node.fn)) {
      throw new Error('unknown function: ' + node.fn);
    }
    var values = [];
    for (var j = 0; j < args.length; j += 1) values.push(value(args[j], context));
    return FUNCTIONS[node.fn](values, context);
  }

  function evaluate(ast, answers, today, selfValue) {
    var todayValue = parseDate(today);
    if (todayValue === null) throw new Error('today must be a YYYY-MM-DD date');
    var result = value(ast, {
      answers: answers || {},
      today: todayValue,
      selfValue: selfValue === undefined ? null : selfValue
    });
    return result instanceof DateValue ? formatDate(result) : result;
  }

  var api = { evaluate: evaluate };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  if (root) root.IntakeExpr = api;
})(typeof window !== 'undefined' ? window : null);
