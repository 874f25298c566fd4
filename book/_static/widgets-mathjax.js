// The ipywidgets HTML manager (npm/html-manager/embed.js) typesets widget labels with MathJax 2's
// `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`. The book loads MathJax 4, which has no
// `Hub`, so without this file every widget with a label fails to render ("Cannot read properties
// of undefined (reading 'Queue')"). This forwards that one call to MathJax 4. It must be loaded
// before embed.js: both act on the window's `load` event, and listeners run in the order added.
window.addEventListener("load", () => {
  const mathjax = window.MathJax;
  if (mathjax && !mathjax.Hub && mathjax.startup) {
    mathjax.Hub = {
      Queue: (call) => mathjax.startup.promise.then(() => mathjax.typesetPromise([call[2]])),
    };
  }
});
