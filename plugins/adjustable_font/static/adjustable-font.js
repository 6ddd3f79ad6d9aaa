/* adjustable_font: the "Xem với cỡ chữ" control (A- / A / A+), as a progressive enhancement.

   Before the first paint, the plugin's inline head script has put the reader's saved step
   on <html data-adjustable-font="…">; the plugin's stylesheet turns that step into the
   theme's scale custom property (on screen only: print keeps the default size). This
   deferred file makes the buttons work: one step per click, the ends marked aria-disabled
   (the button keeps the keyboard focus), the new size announced in the control's status
   region, the choice kept in localStorage (if storage is blocked, the control still works
   for the page). Other tabs and pages restored from the back/forward cache follow the choice.

   Settings come from this <script> element's data-steps, data-default and data-storage-key;
   each control carries its own announcements (data-announcements, one per step). */
(function () {
  "use strict";

  var ATTRIBUTE = "data-adjustable-font";
  var script = document.currentScript;
  if (!script || !script.hasAttribute("data-steps")) return;

  var root = document.documentElement;
  var steps = script.getAttribute("data-steps").split(" ");
  var defaultStep = script.getAttribute("data-default");
  var storageKey = script.getAttribute("data-storage-key");
  var controls = [];

  function valid(step) {
    return steps.indexOf(step) >= 0 ? step : defaultStep;
  }

  // The saved step, null when none is saved, undefined when storage is blocked.
  function saved() {
    try {
      return window.localStorage.getItem(storageKey);
    } catch (e) {
      return undefined;
    }
  }

  function save(step) {
    try {
      if (step === defaultStep) {
        window.localStorage.removeItem(storageKey);
      } else {
        window.localStorage.setItem(storageKey, step);
      }
    } catch (e) {
      // Storage blocked (private mode, policies): the choice holds for this page only.
    }
  }

  function current() {
    return valid(root.getAttribute(ATTRIBUTE));
  }

  function markDisabled(button, disabled) {
    if (!button) return;
    if (disabled) {
      button.setAttribute("aria-disabled", "true");
    } else {
      button.removeAttribute("aria-disabled");
    }
  }

  function refresh() {
    var step = current();
    var index = steps.indexOf(step);
    controls.forEach(function (control) {
      markDisabled(control.buttons.decrease, index <= 0);
      markDisabled(control.buttons.reset, step === defaultStep);
      markDisabled(control.buttons.increase, index >= steps.length - 1);
    });
  }

  function show(step) {
    root.setAttribute(ATTRIBUTE, step);
    refresh();
  }

  function announce(control, step) {
    var text = control.announcements[steps.indexOf(step)] || "";
    // A live region does not repeat an unchanged text: make a repeat differ.
    if (control.status.textContent === text) text += "\u00a0";
    control.status.textContent = text;
  }

  function next(action) {
    var index = steps.indexOf(current());
    if (action === "decrease") return steps[Math.max(index - 1, 0)];
    if (action === "increase") return steps[Math.min(index + 1, steps.length - 1)];
    return defaultStep;
  }

  function onClick(control, event) {
    var button = event.target.closest("[data-adjustable-font-action]");
    if (!button || !control.node.contains(button)) return;
    var step = next(button.getAttribute("data-adjustable-font-action"));
    if (step !== current()) {
      var before = button.getBoundingClientRect().top;
      show(step);
      save(step);
      // The text above the control reflows: keep the pressed button where it was on
      // screen, so the next click or tap lands on it again.
      var shift = button.getBoundingClientRect().top - before;
      if (shift) window.scrollBy(0, shift);
    }
    announce(control, step);
  }

  function init() {
    var nodes = document.querySelectorAll('[data-module="adjustable-font"]');
    Array.prototype.forEach.call(nodes, function (node) {
      if (node.hasAttribute("data-adjustable-font-init")) return;
      node.setAttribute("data-adjustable-font-init", "");
      var announcements;
      try {
        announcements = JSON.parse(node.getAttribute("data-announcements") || "[]");
      } catch (e) {
        announcements = [];
      }
      var control = {
        node: node,
        announcements: announcements,
        status: node.querySelector("[data-adjustable-font-status]") || document.createElement("span"),
        buttons: {
          decrease: node.querySelector('[data-adjustable-font-action="decrease"]'),
          reset: node.querySelector('[data-adjustable-font-action="reset"]'),
          increase: node.querySelector('[data-adjustable-font-action="increase"]')
        }
      };
      controls.push(control);
      node.addEventListener("click", function (event) {
        onClick(control, event);
      });
    });
    // A theme that forgot the head script still gets a working control (with a flash).
    if (!root.hasAttribute(ATTRIBUTE)) {
      show(valid(saved()));
    } else {
      refresh();
    }
  }

  // Another tab changed the size: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === storageKey || event.key === null) {
      show(valid(saved()));
    }
  });

  // Back/forward cache: the page comes back as it was left; apply the latest choice.
  window.addEventListener("pageshow", function (event) {
    var step = saved();
    if (event.persisted && step !== undefined) show(valid(step));
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
