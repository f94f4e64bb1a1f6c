// Shows an exercise's reference solution when the reader opens its reveal.
//
// The workbook's preprocessor (workbook/src/book.rs) puts each reference body in a
// <script type="text/plain"> inside a <details class="workbook-reference">: script text is
// not page text, so mdBook's search index leaves it out and a search never offers an
// answer in its teaser. Opening the reveal turns that text into a listing, highlighted
// like the others.
(function () {
    "use strict";

    function show(details) {
        if (details.dataset.shown) {
            return;
        }
        var source = details.querySelector("script.workbook-reference-code");
        if (!source) {
            return;
        }
        var pre = document.createElement("pre");
        var code = document.createElement("code");
        code.className = "language-" + (source.dataset.lang || "text");
        code.textContent = source.textContent.replace(/^\n/, "").replace(/\n$/, "");
        pre.appendChild(code);
        source.parentNode.insertBefore(pre, source.nextSibling);
        if (window.hljs) {
            if (hljs.highlightElement) {
                hljs.highlightElement(code);
            } else if (hljs.highlightBlock) {
                hljs.highlightBlock(code);
            }
            code.classList.add("hljs");
        }
        details.dataset.shown = "1";
    }

    document.querySelectorAll("details.workbook-reference").forEach(function (details) {
        details.addEventListener("toggle", function () {
            if (details.open) {
                show(details);
            }
        });
        if (details.open) {
            show(details);
        }
    });
})();
