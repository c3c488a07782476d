// MathJax settings for the formulas of the API pages: pymdownx.arithmatex (generic
// mode) wraps them in \( \) and \[ \] inside elements of class "arithmatex".
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"},
};

// Typeset again after material's instant navigation replaces the page.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    MathJax.typesetPromise();
  });
}
