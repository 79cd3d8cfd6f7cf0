// Evaluate compiled vectors with the browser's evaluator and print the results.
// Input: a JSON file [{id, ast, answers, today, self}] written by test_vectors.py.
// Output (stdout): JSON [{id, result}] or [{id, error}].
'use strict';
const fs = require('fs');
const path = require('path');
const IntakeExpr = require(path.join(__dirname, '..', '..', 'intake', 'static', 'js', 'expr.js'));

const vectors = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = vectors.map((vector) => {
  try {
    const result = IntakeExpr.evaluate(vector.ast, vector.answers, vector.today, vector.self);
    return { id: vector.id, result: result === undefined ? '<undefined>' : result };
  } catch (error) {
    return { id: vector.id, error: String(error) };
  }
});
process.stdout.write(JSON.stringify(results));
