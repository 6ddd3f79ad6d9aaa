// theme/static/js/search-rank.js: the order of the search results (run: node --test tests/js/).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const SearchRank = require(path.join(__dirname, "..", "..", "theme", "static", "js", "search-rank.js"));

const runs = [
  // [locations, length, expected]
  [[4, 5], 2, true],
  [[5, 4], 2, true], // positions in any order
  [[177, 212, 241], 2, false],
  [[112, 160, 161, 374], 2, true],
  [[10, 11, 13, 14], 3, false], // two pairs are not a run of three
  [[10, 11, 12], 3, true],
  [[7, 7, 8], 2, true], // a position twice (two query words on one syllable)
  [[7, 7], 2, false],
  [[], 2, false],
  [[3], 1, true],
  [[], 1, false],
];

for (const [locations, length, expected] of runs) {
  test(`hasRun(${JSON.stringify(locations)}, ${length}) is ${expected}`, () => {
    assert.equal(SearchRank.hasRun(locations, length), expected);
  });
}

function result(id, words) {
  return { id, words };
}

test("phraseFirst puts the results whose words stand together first, each group in order", () => {
  const results = [
    result("a", [1, 9]),
    result("b", [4, 5]),
    result("c", [20]),
    result("d", [30, 31, 50]),
  ];
  assert.deepEqual(SearchRank.phraseFirst(results, 2).map((r) => r.id), ["b", "d", "a", "c"]);
});

test("phraseFirst leaves a one-word query's results as they are, and keeps every result", () => {
  const results = [result("a", [1]), result("b", [4, 5])];
  assert.deepEqual(SearchRank.phraseFirst(results, 1).map((r) => r.id), ["a", "b"]);
  assert.deepEqual(SearchRank.phraseFirst(results, 3).map((r) => r.id), ["a", "b"]);
  assert.deepEqual(SearchRank.phraseFirst([result("c")], 2).map((r) => r.id), ["c"]);
});

test("phraseFirst returns a new list", () => {
  const results = [result("a", [1, 2])];
  assert.notEqual(SearchRank.phraseFirst(results, 2), results);
  assert.notEqual(SearchRank.phraseFirst(results, 1), results);
});

test("mergeTiers lists the exact tier first, then the rest, each result once", () => {
  const exact = [result("b"), result("a")];
  const all = [result("a"), result("c"), result("b"), result("d")];
  assert.deepEqual(SearchRank.mergeTiers(exact, all).map((r) => r.id), ["b", "a", "c", "d"]);
  assert.deepEqual(SearchRank.mergeTiers([], all).map((r) => r.id), ["a", "c", "b", "d"]);
});
