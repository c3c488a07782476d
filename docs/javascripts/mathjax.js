// MathJax settings for the formulas of the API pages: pymdownx.arithmatex (generic
// mode) wraps them in \( \) and \[ \] inside elements of class "arithmatex".
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"},
};

// material's document$ emits each page as it is shown (once without instant
// navigation, which mkdocs.yml leaves off; on every page with it).
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  });
}
