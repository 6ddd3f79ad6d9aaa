/* vn-fold: the query side of Vietnamese search, twin of plugins/vn_text (Python).

   nfc(text)            Unicode NFC (some keyboards and pasted text give NFD)
   fold(text, lower)    remove tone marks, letter modifiers and đ: "Đảng viên" → "dang vien"
   hasDiacritics(text)  true when folding changes the text: "đang" yes, "Gia Loc" no
   decomposeD(text)     NFC with đ/Đ written as d/D + U+0335, the form the search index uses
   composeD(text)       back to đ/Đ, for text shown to readers

   Both twins are tested against tests/data/vn_fold_cases.json (node --test tests/js/).
   Loaded as a plain script it defines window.VnFold; under Node it is a CommonJS module. */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.VnFold = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // COMBINING SHORT STROKE OVERLAY: d + this mark stands for đ in the search index.
  var D_STROKE_MARK = "\u0335";
  var COMBINING_MARKS = /\p{M}/gu;

  function nfc(text) {
    return String(text).normalize("NFC");
  }

  function fold(text, lower) {
    var stripped = String(text).normalize("NFD").replace(COMBINING_MARKS, "");
    stripped = stripped.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFC");
    return lower === false ? stripped : stripped.toLowerCase();
  }

  function hasDiacritics(text) {
    return fold(text) !== nfc(text).toLowerCase();
  }

  function decomposeD(text) {
    var clean = nfc(text).split(D_STROKE_MARK).join("");
    return clean.replace(/đ/g, "d" + D_STROKE_MARK).replace(/Đ/g, "D" + D_STROKE_MARK);
  }

  function composeD(text) {
    return String(text).split("d" + D_STROKE_MARK).join("đ").split("D" + D_STROKE_MARK).join("Đ");
  }

  return {
    D_STROKE_MARK: D_STROKE_MARK,
    nfc: nfc,
    fold: fold,
    hasDiacritics: hasDiacritics,
    decomposeD: decomposeD,
    composeD: composeD
  };
});
