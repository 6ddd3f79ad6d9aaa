/* search-rank: the order of the search results, on top of Pagefind's scores.

   mergeTiers(exact, all)      the results with the query's own diacritics first, then the
                               folded-only ones, each once, each tier in Pagefind's order
   hasRun(locations, length)   true when `length` of the word positions follow each other
   phraseFirst(results, words) the results whose matched words stand together (as many of
                               them as the query has words) first, the others after, each
                               group in the order it came

   Why phraseFirst: Vietnamese is written one syllable at a time, and most words are two or
   three of them ("nông thôn", "thông tin"). Pagefind matches each syllable on its own, and as
   a prefix ("thôn" also finds "thông"), so a page with "nông nghiệp" and "thông tin" far
   apart could rank above one about "nông thôn". Pagefind gives each result the positions of
   its matched words (`result.words`); where the query's syllables stand side by side, the
   page holds the phrase (or something very close), so it is listed first. Nothing is left
   out: the other results follow, in Pagefind's order.

   Tested with node --test tests/js/. Loaded as a plain script it defines window.SearchRank;
   under Node it is a CommonJS module. */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.SearchRank = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  function mergeTiers(exact, all) {
    var seen = {};
    var merged = [];
    exact.concat(all).forEach(function (result) {
      if (!seen[result.id]) {
        seen[result.id] = true;
        merged.push(result);
      }
    });
    return merged;
  }

  function hasRun(locations, length) {
    if (length <= 1) return locations.length > 0;
    var sorted = locations.slice().sort(function (a, b) { return a - b; });
    var run = 1;
    for (var i = 1; i < sorted.length; i++) {
      if (sorted[i] === sorted[i - 1]) continue;
      run = sorted[i] === sorted[i - 1] + 1 ? run + 1 : 1;
      if (run >= length) return true;
    }
    return false;
  }

  function phraseFirst(results, words) {
    if (words < 2) return results.slice();
    var together = [];
    var apart = [];
    results.forEach(function (result) {
      (hasRun(result.words || [], words) ? together : apart).push(result);
    });
    return together.concat(apart);
  }

  return { mergeTiers: mergeTiers, hasRun: hasRun, phraseFirst: phraseFirst };
});
