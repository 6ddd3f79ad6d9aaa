// The JavaScript twin of plugins/vn_text against the shared table (run: node --test tests/js/).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const VnFold = require(path.join(__dirname, "..", "..", "theme", "static", "js", "vn-fold.js"));
const { cases } = require(path.join(__dirname, "..", "data", "vn_fold_cases.json"));

for (const c of cases) {
  test(`fold ${JSON.stringify(c.text)}`, () => {
    assert.equal(VnFold.fold(c.text), c.fold);
  });
  test(`hasDiacritics ${JSON.stringify(c.text)}`, () => {
    assert.equal(VnFold.hasDiacritics(c.text), c.has_diacritics);
  });
  test(`decomposeD ${JSON.stringify(c.text)}`, () => {
    assert.equal(VnFold.decomposeD(c.text), c.decompose_d);
  });
  test(`composeD undoes decomposeD ${JSON.stringify(c.text)}`, () => {
    if (c.text.includes(VnFold.D_STROKE_MARK)) return;
    assert.equal(VnFold.composeD(VnFold.decomposeD(c.text)), c.text.normalize("NFC"));
  });
  test(`folding the index form gives the folded text ${JSON.stringify(c.text)}`, () => {
    assert.equal(VnFold.fold(VnFold.decomposeD(c.text)), c.fold);
  });
}

test("fold keeps case when asked", () => {
  assert.equal(VnFold.fold("Đảng Viên", false), "Dang Vien");
});

test("nfc composes decomposed text", () => {
  const decomposed = "Huyện ủy".normalize("NFD");
  assert.notEqual(decomposed, "Huyện ủy");
  assert.equal(VnFold.nfc(decomposed), "Huyện ủy");
});
