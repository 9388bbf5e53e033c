// Render the ```mermaid blocks (organization hierarchy, grant matrix) once the page has loaded.
window.addEventListener("load", function () {
  if (window.mermaid) {
    window.mermaid.initialize({ startOnLoad: false });
    window.mermaid.run({ querySelector: ".mermaid" });
  }
});
