/*
 * Every page: the phone menu and the sideways-scrolling cue of wide tables.
 * Loaded in <head> without defer (about 2 KB, cached for good under its hashed name) so the "js"
 * class is on <html> before the first paint: the CSS folds the phone menu only when this script
 * can open it again, and without JavaScript the menu simply shows, wrapped.
 * A static file: the content security policy allows scripts from our own origin only.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var NARROW = "(max-width: 47.99rem)";

  function setupMenu() {
    var button = document.querySelector(".menu-button");
    var menu = button ? document.getElementById(button.getAttribute("aria-controls")) : null;
    if (!button || !menu) {
      return;
    }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    }
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
    var narrow = window.matchMedia(NARROW);
    var onChange = function () {
      setOpen(false);
    };
    if (narrow.addEventListener) {
      narrow.addEventListener("change", onChange);
    }
    setOpen(false);
  }

  /* A table wider than its card scrolls inside it (.table-wrap). When it does, a line above it says
   * so and the edge with more columns behind it fades out (data-scroll on the wrapper). */
  function updateTable(wrap) {
    var overflow = wrap.scrollWidth - wrap.clientWidth;
    var state = "none";
    if (overflow > 1) {
      var left = wrap.scrollLeft;
      state = left <= 1 ? "start" : left >= overflow - 1 ? "end" : "middle";
    }
    wrap.setAttribute("data-scroll", state);
    var hint = wrap.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.textContent = "Scroll sideways for more columns";
      hint.setAttribute("aria-hidden", "true");
      wrap.parentNode.insertBefore(hint, wrap);
    }
    hint.hidden = state === "none";
  }

  function setupTables() {
    var wraps = Array.prototype.slice.call(document.querySelectorAll(".table-wrap"));
    if (!wraps.length) {
      return;
    }
    var pending = false;
    function updateAll() {
      pending = false;
      wraps.forEach(updateTable);
    }
    wraps.forEach(function (wrap) {
      wrap.addEventListener(
        "scroll",
        function () {
          updateTable(wrap);
        },
        { passive: true }
      );
    });
    window.addEventListener("resize", function () {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(updateAll);
      }
    });
    updateAll();
  }

  function start() {
    setupMenu();
    setupTables();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
