// Names and value text for the ipywidgets sliders that npm/html-manager/embed.js draws (WCAG 4.1.2,
// axe's aria-input-field-name). ipywidgets 8 shows a slider's description in a <label> that is
// tied to nothing, and its handle, the element with role="slider" that takes the keyboard, has
// no name: a screen reader says "slider, 0". This ties each handle to its label, so that it says
// "z₁, slider, 0.00", and keeps its aria-valuetext equal to the readout a sighted reader sees
// (noUiSlider's own value text drops the readout's format: "0" for 0.00). The readout, which
// takes typed values, becomes a text box named after the slider.
(() => {
  let next = 0;

  function name(slider) {
    const handle = slider.querySelector('[role="slider"]');
    const label = slider.querySelector(".widget-label");
    const readout = slider.querySelector(".widget-readout");
    if (!handle || !label || handle.hasAttribute("aria-labelledby")) return;
    label.id ||= `widget-label-${next++}`;
    handle.setAttribute("aria-labelledby", label.id);
    if (!readout) return;
    readout.setAttribute("role", "textbox");
    readout.setAttribute("aria-label", `${label.textContent} value`);
    const sync = () => {
      const text = readout.textContent.trim();
      if (text && handle.getAttribute("aria-valuetext") !== text) {
        handle.setAttribute("aria-valuetext", text);
      }
    };
    sync();
    new MutationObserver(sync).observe(readout, { childList: true, characterData: true, subtree: true });
    new MutationObserver(sync).observe(handle, { attributes: true, attributeFilter: ["aria-valuetext"] });
  }

  function nameAll() {
    document.querySelectorAll(".widget-slider").forEach(name);
  }

  // The widgets are drawn after the page's `load` event, and a label's text can arrive later.
  new MutationObserver(nameAll).observe(document.documentElement, { childList: true, subtree: true });
  nameAll();
})();
