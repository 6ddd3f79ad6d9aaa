/* today-date: shows today's date in the banner, e.g. "Chủ nhật, ngày 24/11/2024",
   for the reader's today in the site's time zone (Asia/Ho_Chi_Minh), whatever the
   reader's own time zone. Without JavaScript the element stays empty: never a stale
   build date. */
(function () {
  "use strict";

  var WEEKDAYS = {
    Mon: "Thứ Hai", Tue: "Thứ Ba", Wed: "Thứ Tư", Thu: "Thứ Năm",
    Fri: "Thứ Sáu", Sat: "Thứ Bảy", Sun: "Chủ nhật"
  };

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // Returns {weekday: "Mon", day: 24, month: 11, year: 2024} in timeZone.
  function partsIn(date, timeZone) {
    try {
      var parts = new Intl.DateTimeFormat("en-US", {
        timeZone: timeZone, weekday: "short", year: "numeric", month: "numeric", day: "numeric"
      }).formatToParts(date);
      var out = {};
      parts.forEach(function (part) { out[part.type] = part.value; });
      return { weekday: out.weekday, day: +out.day, month: +out.month, year: +out.year };
    } catch (e) {
      // Old browsers without time zone data: Vietnam is UTC+7 all year.
      var shifted = new Date(date.getTime() + 7 * 3600 * 1000);
      var names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
      return {
        weekday: names[shifted.getUTCDay()], day: shifted.getUTCDate(),
        month: shifted.getUTCMonth() + 1, year: shifted.getUTCFullYear()
      };
    }
  }

  function formatToday(date, timeZone) {
    var p = partsIn(date, timeZone);
    return {
      text: WEEKDAYS[p.weekday] + ", ngày " + pad(p.day) + "/" + pad(p.month) + "/" + p.year,
      iso: p.year + "-" + pad(p.month) + "-" + pad(p.day)
    };
  }

  function init() {
    var nodes = document.querySelectorAll('[data-module="today-date"]');
    Array.prototype.forEach.call(nodes, function (node) {
      if (node.hasAttribute("data-today-date-init")) return;
      node.setAttribute("data-today-date-init", "");
      var today = formatToday(new Date(), node.getAttribute("data-timezone") || "Asia/Ho_Chi_Minh");
      var time = document.createElement("time");
      time.className = "today-date__text";
      time.setAttribute("datetime", today.iso);
      time.textContent = today.text;
      node.appendChild(time);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
