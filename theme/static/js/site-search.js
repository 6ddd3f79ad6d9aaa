/* site-search: the results of the search page (tim-kiem.html?q=…), from the Pagefind index.

   The query comes from the URL, so the header form works by plain submission and results
   can be linked. Vietnamese matching (see plugins/search and vn-fold.js):
   - the query is NFC-normalised and written in the index's form (đ as d + U+0335), so
     Pagefind's own folding makes "dang vien" find "đảng viên";
   - a query with diacritics is searched twice, exact diacritics first: "đang" lists pages
     with "đang" before pages that only have "đảng".
   - within that order, the pages where the query's syllables stand together come first:
     "nông thôn" lists the pages about "nông thôn" before those that only have "nông
     nghiệp" and "thông tin" (search-rank.js).
   The index is split into shards (one Pagefind bundle per year, plus one for the other
   pages), listed in <bundle>/shards.json: the first shard's pagefind.js is loaded and the
   other shards are merged into it (Pagefind's mergeIndex). Pagefind's options() reaches the
   first shard only, so the exact-diacritics search gets an instance of its own, with the
   option given to every shard as it is merged.
   Without JavaScript the page keeps its form and a <noscript> note. */
(function () {
  "use strict";

  var MAX_QUERY_LENGTH = 200;

  function readQuery() {
    var raw = new URLSearchParams(window.location.search).get("q") || "";
    return window.VnFold.nfc(raw).replace(/\s+/g, " ").trim().slice(0, MAX_QUERY_LENGTH);
  }

  // The shards of the index, from shards.json: [{url, hash}], the first one to load first.
  async function loadShards(bundle) {
    var base = new URL(bundle, window.location.href);
    var response = await fetch(new URL("shards.json", base), { cache: "no-cache" });
    if (!response.ok) throw new Error("shards.json: HTTP " + response.status);
    var shards = (await response.json()).shards;
    if (!shards || !shards.length) throw new Error("shards.json: no shard");
    return shards.map(function (shard) {
      return { url: new URL(shard.path, base).href, hash: shard.hash };
    });
  }

  // One Pagefind instance over every shard. The shard's hash (it changes with its index)
  // lets the browser cache the shard's entry file instead of fetching it on every search.
  async function openIndex(pagefind, shards, exact) {
    function options(shard) {
      return { exactDiacritics: exact, metaCacheTag: shard.hash };
    }
    var index = pagefind.createInstance(
      Object.assign({ basePath: shards[0].url }, options(shards[0]))
    );
    // An empty search waits for the first shard and throws if it failed to load
    // (mergeIndex would wait for it forever).
    await index.search("");
    await Promise.all(shards.slice(1).map(function (shard) {
      return index.mergeIndex(shard.url, options(shard));
    }));
    return index;
  }

  // Results with the query's exact diacritics first, then the folded-only ones; within
  // that order, the pages where the query's words stand together first (search-rank.js).
  async function runSearch(pagefind, shards, query) {
    var term = window.VnFold.decomposeD(query);
    var words = query.split(" ").length;
    var all = await (await openIndex(pagefind, shards, false)).search(term);
    if (!window.VnFold.hasDiacritics(query)) {
      return window.SearchRank.phraseFirst(all.results, words);
    }
    // After the first search: the shards' files are in the browser's cache by now.
    var exact = await (await openIndex(pagefind, shards, true)).search(term);
    return window.SearchRank.phraseFirst(
      window.SearchRank.mergeTiers(exact.results, all.results), words
    );
  }

  function text(value) {
    return window.VnFold.composeD(value || "");
  }

  // Pagefind's excerpt is text with <mark> around the matches (< and > escaped):
  // copy it as text nodes and <mark> elements only.
  function excerptNodes(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fragment = document.createDocumentFragment();
    Array.prototype.forEach.call(template.content.childNodes, function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = text(node.textContent);
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(document.createTextNode(text(node.textContent)));
      }
    });
    return fragment;
  }

  function resultItem(data) {
    var item = document.createElement("li");
    item.className = "search-result";
    var heading = document.createElement("h2");
    heading.className = "search-result__title";
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = text(data.meta.title);
    heading.appendChild(link);
    item.appendChild(heading);
    if (data.meta.date) {
      var meta = document.createElement("p");
      meta.className = "search-result__meta";
      var time = document.createElement("time");
      time.textContent = data.meta.date;
      if (data.meta.datetime) time.setAttribute("datetime", data.meta.datetime);
      meta.appendChild(time);
      if (data.meta.category) {
        meta.appendChild(document.createTextNode(" · " + text(data.meta.category)));
      }
      item.appendChild(meta);
    }
    var excerpt = document.createElement("p");
    excerpt.className = "search-result__excerpt";
    excerpt.appendChild(document.createTextNode("… "));
    excerpt.appendChild(excerptNodes(data.excerpt));
    excerpt.appendChild(document.createTextNode(" …"));
    item.appendChild(excerpt);
    return item;
  }

  function init() {
    var root = document.querySelector('[data-module="site-search"]');
    if (!root || root.hasAttribute("data-site-search-init")) return;
    root.setAttribute("data-site-search-init", "");

    var status = root.querySelector(".search-results__status");
    var list = root.querySelector(".search-results__list");
    var more = root.querySelector(".search-results__more");
    var pageSize = parseInt(root.getAttribute("data-page-size"), 10) || 10;
    var query = readQuery();

    document.querySelectorAll('input[type="search"][name="q"]').forEach(function (input) {
      input.value = query;
    });
    if (!query) {
      status.textContent = "Nhập từ khóa vào ô trên rồi bấm “Tìm”.";
      return;
    }
    document.title = "“" + query + "” – " + document.title;
    status.textContent = "Đang tìm “" + query + "”…";

    var results = [];
    var shown = 0;

    async function showMore(moveFocus) {
      var batch = results.slice(shown, shown + pageSize);
      var datas = await Promise.all(batch.map(function (result) { return result.data(); }));
      var firstLink = null;
      datas.forEach(function (data) {
        var item = resultItem(data);
        firstLink = firstLink || item.querySelector("a");
        list.appendChild(item);
      });
      shown += batch.length;
      more.hidden = shown >= results.length;
      if (moveFocus && firstLink) firstLink.focus();
    }

    function failed(error) {
      status.textContent = "Chưa tải được chức năng tìm kiếm. Vui lòng thử lại sau.";
      if (window.console) console.warn("site-search:", error);
    }

    more.addEventListener("click", function () {
      showMore(true).catch(failed);
    });

    loadShards(root.getAttribute("data-bundle"))
      .then(async function (shards) {
        var pagefind = await import(shards[0].url + "pagefind.js");
        return runSearch(pagefind, shards, query);
      })
      .then(function (found) {
        results = found;
        if (!results.length) {
          status.textContent = "Không tìm thấy kết quả cho “" + query + "”.";
          var hint = document.createElement("p");
          hint.className = "search-results__hint";
          hint.textContent = "Hãy kiểm tra lại chính tả, thử từ khóa ngắn hơn hoặc khác.";
          root.insertBefore(hint, list);
          return null;
        }
        status.textContent = "Có " + results.length + " kết quả cho “" + query + "”.";
        return showMore(false);
      })
      .catch(failed);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
