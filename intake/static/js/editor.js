// Definition editor: a line-number gutter beside the YAML textarea, problem lines
// marked in it, and "line:column" in the problems list moving the caret there.
// Admin pages only; the editor works without this script.
(function () {
  "use strict";

  function lineCount(text) {
    var count = 1;
    for (var i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) count++;
    }
    return count;
  }

  function badLines() {
    var bad = {};
    document.querySelectorAll("#review .where[data-line]").forEach(function (el) {
      bad[el.getAttribute("data-line")] = true;
    });
    return bad;
  }

  function fillGutter(gutter, textarea) {
    var count = lineCount(textarea.value);
    var bad = badLines();
    var parts = [];
    for (var n = 1; n <= count; n++) {
      parts.push(bad[n] ? '<span class="bad">' + n + "</span>" : String(n));
    }
    // Only digits and our own span: nothing from the text reaches innerHTML.
    gutter.innerHTML = parts.join("\n");
    gutter.scrollTop = textarea.scrollTop;
  }

  function goTo(textarea, line, column) {
    var lines = textarea.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    textarea.focus();
    textarea.setSelectionRange(offset, offset);
    var lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, (line - 5) * lineHeight);
  }

  function linkProblems(textarea) {
    document.querySelectorAll("#review .where[data-line]").forEach(function (el) {
      if (el.hasAttribute("role")) return;
      el.setAttribute("role", "button");
      el.setAttribute("tabindex", "0");
      var go = function () {
        goTo(textarea, Number(el.getAttribute("data-line")), Number(el.getAttribute("data-column")));
      };
      el.addEventListener("click", go);
      el.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          go();
        }
      });
    });
  }

  function setUp() {
    var textarea = document.querySelector("textarea.code");
    if (!textarea) return;
    var gutter = document.createElement("pre");
    gutter.className = "gutter";
    gutter.setAttribute("aria-hidden", "true");
    textarea.parentNode.insertBefore(gutter, textarea);
    var shown = -1;
    var refresh = function () {
      var count = lineCount(textarea.value);
      if (count !== shown) {
        shown = count;
        fillGutter(gutter, textarea);
      }
    };
    textarea.addEventListener("input", refresh);
    textarea.addEventListener("scroll", function () { gutter.scrollTop = textarea.scrollTop; });
    document.body.addEventListener("htmx:afterSwap", function () {
      fillGutter(gutter, textarea);
      linkProblems(textarea);
    });
    fillGutter(gutter, textarea);
    shown = lineCount(textarea.value);
    linkProblems(textarea);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
